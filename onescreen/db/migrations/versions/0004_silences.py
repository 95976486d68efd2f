"""silences with matchers, scope, reason, start and lifting (issue #11)

Revision ID: 0004_silences
Revises: 0003
Create Date: 2026-12-05 06:30:00

A silence of 0002 had rule/subject/community matchers and an end. It gains district and cell matchers, the
creator's scope (the communities it may never reach beyond; NULL for the old rows, which were city-wide),
a start, the creating account, a reason (the old free ``note``) and who lifted it early.
"""

import sqlalchemy as sa
from alembic import op

revision = '0004_silences'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alert_silence', schema=None) as batch_op:
        batch_op.alter_column('note', new_column_name='reason', existing_type=sa.Text(), existing_nullable=True)
        batch_op.add_column(sa.Column('district_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('cell_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('scope', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lifted_by', sa.String(length=64), nullable=True))
    op.execute("UPDATE alert_silence SET starts_at = created_at WHERE starts_at IS NULL")
    with op.batch_alter_table('alert_silence', schema=None) as batch_op:
        batch_op.alter_column('starts_at', existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('alert_silence', schema=None) as batch_op:
        for column in ('lifted_by', 'lifted_at', 'user_id', 'starts_at', 'scope', 'cell_id', 'district_id'):
            batch_op.drop_column(column)
        batch_op.alter_column('reason', new_column_name='note', existing_type=sa.Text(), existing_nullable=True)
