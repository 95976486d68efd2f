"""assessment: hourly camera-health aggregates per community, hourly patrol on-post samples per unit (issue #16)

Revision ID: 0007_assessment
Revises: 0006_persons
Create Date: 2026-12-05 06:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007_assessment'
down_revision = '0006_persons'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'camera_health_hour',
        sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
        sa.Column('community_id', sa.String(length=64), nullable=False),
        sa.Column('district_id', sa.String(length=64), nullable=True),
        sa.Column('samples', sa.Integer(), nullable=False),
        sa.Column('cells', sa.Integer(), nullable=False),
        sa.Column('covered', sa.Integer(), nullable=False),
        sa.Column('cameras', sa.Integer(), nullable=False),
        sa.Column('online', sa.Integer(), nullable=False),
        sa.Column('good', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('hour', 'community_id'),
    )
    op.create_index(op.f('ix_camera_health_hour_district_id'), 'camera_health_hour', ['district_id'], unique=False)
    op.create_table(
        'patrol_post_hour',
        sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
        sa.Column('unit_id', sa.String(length=128), nullable=False),
        sa.Column('community_id', sa.String(length=64), nullable=True),
        sa.Column('district_id', sa.String(length=64), nullable=True),
        sa.Column('samples', sa.Integer(), nullable=False),
        sa.Column('on_post', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('hour', 'unit_id'),
    )
    op.create_index(op.f('ix_patrol_post_hour_community_id'), 'patrol_post_hour', ['community_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_patrol_post_hour_community_id'), table_name='patrol_post_hour')
    op.drop_table('patrol_post_hour')
    op.drop_index(op.f('ix_camera_health_hour_district_id'), table_name='camera_health_hour')
    op.drop_table('camera_health_hour')
