"""Live sync: per-stream cursors and the public lookup cache.

Revision ID: s001
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from kompas.store.schema import UTCDateTime

revision = "s001"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(512), nullable=False),
        sa.Column("stream", sa.String(64), nullable=False),
        sa.Column("cursor", sa.JSON),
        sa.Column("pages", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("platform", "account_id", "stream", name="pk_sync_state"),
    )
    op.create_table(
        "lookup_cache",
        sa.Column("key", sa.String(600), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("fetched_at", UTCDateTime, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_lookup_cache"),
    )
    op.create_index(
        "ix_lookup_cache_platform_fetched_at", "lookup_cache", ["platform", "fetched_at"]
    )


def downgrade() -> None:
    op.drop_table("lookup_cache")
    op.drop_table("sync_state")
