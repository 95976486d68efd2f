"""assessment: grid workers online per worker and local day; indexes for the case figures (issue #16 follow-up)

Revision ID: 0009_worker_online
Revises: 0008_entrances
Create Date: 2026-12-05 07:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009_worker_online'
down_revision = '0008_entrances'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'worker_online_day',
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('worker_id', sa.String(length=64), nullable=False),
        sa.Column('community_id', sa.String(length=64), nullable=True),
        sa.Column('district_id', sa.String(length=64), nullable=True),
        sa.Column('samples', sa.Integer(), nullable=False),
        sa.Column('online', sa.Integer(), nullable=False),
        sa.Column('last_online_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('day', 'worker_id'),
    )
    op.create_index(op.f('ix_worker_online_day_community_id'), 'worker_online_day', ['community_id'],
                    unique=False)
    op.create_index('ix_case_step_action_at', 'case_step', ['action', 'at'], unique=False)
    op.create_index('ix_case_record_deadline', 'case_record', ['deadline'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_record_deadline', table_name='case_record')
    op.drop_index('ix_case_step_action_at', table_name='case_step')
    op.drop_index(op.f('ix_worker_online_day_community_id'), table_name='worker_online_day')
    op.drop_table('worker_online_day')
