"""Unfollows: when a complete follower/following list last saw a follow edge, and when one
first missed it (the edge ended; the row is kept for history).

Revision ID: w002
Revises: w001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from kompas.store.schema import UTCDateTime

revision = "w002"
down_revision = "w001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("follows") as batch:
        batch.add_column(sa.Column("seen_at", UTCDateTime))
        batch.add_column(sa.Column("ended_at", UTCDateTime))


def downgrade() -> None:
    with op.batch_alter_table("follows") as batch:
        batch.drop_column("ended_at")
        batch.drop_column("seen_at")
