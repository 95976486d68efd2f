"""assessment: hourly grid-worker online samples per worker (issue #16, follow-up)

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
        'worker_online_hour',
        sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
        sa.Column('worker_id', sa.String(length=64), nullable=False),
        sa.Column('community_id', sa.String(length=64), nullable=True),
        sa.Column('district_id', sa.String(length=64), nullable=True),
        sa.Column('samples', sa.Integer(), nullable=False),
        sa.Column('online', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('hour', 'worker_id'),
    )
    op.create_index(op.f('ix_worker_online_hour_community_id'), 'worker_online_hour', ['community_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_worker_online_hour_community_id'), table_name='worker_online_hour')
    op.drop_table('worker_online_hour')
