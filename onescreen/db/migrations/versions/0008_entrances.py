"""entrance lines per camera (issue #18)

Revision ID: 0008_entrances
Revises: 0003
Create Date: 2026-12-05 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008_entrances'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: cameras imported before this revision have no lines until the next import (read as {}).
    op.add_column('camera', sa.Column('lines', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('camera', 'lines')
