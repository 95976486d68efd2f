"""assessment speed: the case facts the figures read as plain columns, no longer JSON parsed per row (issue #16)

``case_step`` gains ``on_time`` (a handle step: on time against the deadline in force, handled on the spot
counts on time; an evaluate step: the evaluator's verdict), ``satisfaction`` (evaluate) and
``previous_kind`` / ``previous_id`` (return: the assignee that returned it), copied from ``detail``, which
stays the full record. ``case_record`` gains ``first_accepted_at`` (the acceptance, which ``accepted_at``
forgets when an escalation or a reopening restarts the clock), so "accepted in time" is one comparison of two
columns instead of a join with the accept steps. ``case_step`` also gains copies of its case's place and
reporting grid worker (``district_id``, ``community_id``, ``grid_worker_id``: fixed at the report), so the
steps of a month are counted by district, community or worker without a join with ``case_record``. Existing
rows are filled from the steps and the cases.

Revision ID: 0010_assessment_columns
Revises: 0009_worker_online
Create Date: 2026-12-05 09:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010_assessment_columns'
down_revision = '0009_worker_online'
branch_labels = None
depends_on = None

# the detail's keys per dialect: PostgreSQL's json operators, SQLite's json_extract (true/false as 1/0)
FILL = {
    "postgresql": (
        "UPDATE case_step SET "
        "on_time = CASE WHEN (detail ->> 'on_site')::boolean IS TRUE THEN TRUE "
        "ELSE (detail ->> 'on_time')::boolean END, "
        "satisfaction = (detail ->> 'satisfaction')::integer, "
        "previous_kind = CASE WHEN action = 'return' THEN detail -> 'previous' ->> 'kind' END, "
        "previous_id = CASE WHEN action = 'return' THEN detail -> 'previous' ->> 'id' END "
        "WHERE action IN ('handle', 'evaluate', 'return')"),
    "sqlite": (
        "UPDATE case_step SET "
        "on_time = CASE WHEN json_extract(detail, '$.on_site') = 1 THEN 1 "
        "ELSE json_extract(detail, '$.on_time') END, "
        "satisfaction = json_extract(detail, '$.satisfaction'), "
        "previous_kind = CASE WHEN action = 'return' THEN json_extract(detail, '$.previous.kind') END, "
        "previous_id = CASE WHEN action = 'return' THEN json_extract(detail, '$.previous.id') END "
        "WHERE action IN ('handle', 'evaluate', 'return')"),
}


def upgrade() -> None:
    with op.batch_alter_table('case_step', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_time', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('satisfaction', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('previous_kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('previous_id', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('district_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('community_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('grid_worker_id', sa.String(length=64), nullable=True))
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_accepted_at', sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    fill = FILL.get(bind.dialect.name)
    if fill is None:
        raise NotImplementedError(f"0010: no JSON fill for dialect {bind.dialect.name}")
    op.execute(fill)
    op.execute("UPDATE case_step SET district_id = c.district_id, community_id = c.community_id, "
               "grid_worker_id = CASE WHEN c.source = 'grid' THEN c.reporter END "
               "FROM case_record c WHERE c.id = case_step.case_pk")  # UPDATE … FROM: PostgreSQL, SQLite >= 3.33
    op.execute("UPDATE case_record SET first_accepted_at = (SELECT min(s.at) FROM case_step s "
               "WHERE s.case_pk = case_record.id AND s.action = 'accept')")


def downgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_column('first_accepted_at')
    with op.batch_alter_table('case_step', schema=None) as batch_op:
        batch_op.drop_column('grid_worker_id')
        batch_op.drop_column('community_id')
        batch_op.drop_column('district_id')
        batch_op.drop_column('previous_id')
        batch_op.drop_column('previous_kind')
        batch_op.drop_column('satisfaction')
        batch_op.drop_column('on_time')
