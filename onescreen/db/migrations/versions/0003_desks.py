"""spot checks and the audit log of non-alert actions (issue #7)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 13:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'spot_check',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('unit_id', sa.String(length=128), nullable=False),
        sa.Column('post_id', sa.String(length=128), nullable=True),
        sa.Column('community_id', sa.String(length=64), nullable=True),
        sa.Column('district_id', sa.String(length=64), nullable=True),
        sa.Column('camera_id', sa.String(length=128), nullable=True),
        sa.Column('lat', sa.Float(), nullable=True),
        sa.Column('lon', sa.Float(), nullable=True),
        sa.Column('distance_m', sa.Float(), nullable=True),
        sa.Column('on_post', sa.Boolean(), nullable=False),
        sa.Column('on_route', sa.Boolean(), nullable=False),
        sa.Column('uniform', sa.Boolean(), nullable=False),
        sa.Column('equipment', sa.Boolean(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('checked_by', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_spot_check_at'), 'spot_check', ['at'], unique=False)
    op.create_index(op.f('ix_spot_check_unit_id'), 'spot_check', ['unit_id'], unique=False)
    op.create_index(op.f('ix_spot_check_community_id'), 'spot_check', ['community_id'], unique=False)
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('role', sa.String(length=16), nullable=True),
        sa.Column('action', sa.String(length=48), nullable=False),
        sa.Column('target', sa.String(length=300), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('remote_addr', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_index(op.f('ix_audit_log_action'), 'audit_log', ['action'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_audit_log_action'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index(op.f('ix_spot_check_community_id'), table_name='spot_check')
    op.drop_index(op.f('ix_spot_check_unit_id'), table_name='spot_check')
    op.drop_index(op.f('ix_spot_check_at'), table_name='spot_check')
    op.drop_table('spot_check')
