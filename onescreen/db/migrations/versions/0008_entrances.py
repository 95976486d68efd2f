"""entrance lines per camera, video patrol plans, rounds and marks, hourly entrance counts (issue #18)

Revision ID: 0008_entrances
Revises: 0007_assessment
Create Date: 2026-12-05 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008_entrances'
down_revision = '0007_assessment'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: cameras imported before this revision have no lines until the next import (read as {}).
    op.add_column('camera', sa.Column('lines', sa.JSON(), nullable=True))
    op.create_table(
        'video_patrol_plan',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('scope_node_id', sa.String(length=64), nullable=True),
        sa.Column('cameras', sa.JSON(), nullable=False),
        sa.Column('seconds_per_camera', sa.Integer(), nullable=False),
        sa.Column('every_min', sa.Integer(), nullable=False),
        sa.Column('start', sa.String(length=5), nullable=False),
        sa.Column('end', sa.String(length=5), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_video_patrol_plan_scope_node_id'), 'video_patrol_plan', ['scope_node_id'])
    op.create_table(
        'video_patrol_round',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('by', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['plan_id'], ['video_patrol_plan.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_video_patrol_round_plan_id'), 'video_patrol_round', ['plan_id'])
    op.create_index(op.f('ix_video_patrol_round_started_at'), 'video_patrol_round', ['started_at'])
    op.create_table(
        'video_patrol_mark',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('camera_id', sa.String(length=128), nullable=False),
        sa.Column('verdict', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('by', sa.String(length=64), nullable=False),
        sa.Column('case_id', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['round_id'], ['video_patrol_round.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('round_id', 'camera_id'),
    )
    op.create_index(op.f('ix_video_patrol_mark_round_id'), 'video_patrol_mark', ['round_id'])
    op.create_table(
        'entrance_count_hour',
        sa.Column('camera_id', sa.String(length=128), nullable=False),
        sa.Column('line', sa.String(length=128), nullable=False),
        sa.Column('hour', sa.String(length=10), nullable=False),
        sa.Column('community_id', sa.String(length=64), nullable=False),
        sa.Column('n_in', sa.Integer(), nullable=False),
        sa.Column('n_out', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('camera_id', 'line', 'hour'),
    )
    op.create_index(op.f('ix_entrance_count_hour_community_id'), 'entrance_count_hour', ['community_id'])


def downgrade() -> None:
    op.drop_table('entrance_count_hour')
    op.drop_table('video_patrol_mark')
    op.drop_table('video_patrol_round')
    op.drop_table('video_patrol_plan')
    op.drop_column('camera', 'lines')
