"""key persons: the file (officer, grid worker, plan), level history and visits (issue 15)

Revision ID: 0006_persons
Revises: 0005_cases
Create Date: 2026-12-05 06:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0006_persons'
down_revision = '0005_cases'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('watch_person') as batch:
        batch.add_column(sa.Column('officer', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('grid_worker_id', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('plan', sa.Text(), nullable=True))
    op.create_table(
        'person_grade',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('person_id', sa.String(length=128), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('from_level', sa.String(length=8), nullable=True),
        sa.Column('to_level', sa.String(length=8), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_person_grade_person_id'), 'person_grade', ['person_id'], unique=False)
    op.create_table(
        'person_visit',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('person_id', sa.String(length=128), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('method', sa.String(length=8), nullable=False),
        sa.Column('visitor', sa.String(length=128), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('community_id', sa.String(length=64), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_person_visit_person_id'), 'person_visit', ['person_id'], unique=False)
    op.create_index(op.f('ix_person_visit_at'), 'person_visit', ['at'], unique=False)
    op.create_index(op.f('ix_person_visit_community_id'), 'person_visit', ['community_id'], unique=False)


def downgrade() -> None:
    op.drop_table('person_visit')
    op.drop_table('person_grade')
    with op.batch_alter_table('watch_person') as batch:
        batch.drop_column('plan')
        batch.drop_column('grid_worker_id')
        batch.drop_column('officer')
