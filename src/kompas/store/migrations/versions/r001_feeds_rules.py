"""Rules pillar: feed items, feed state (conditional GET, failures), rule decisions.

Revision ID: r001
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from kompas.store.schema import UTCDateTime

revision = "r001"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_items",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(2048), nullable=False),
        sa.Column("guid", sa.String(2048)),
        sa.Column("url", sa.String(2048)),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("html", sa.Text),
        sa.Column("author", sa.Text),
        sa.Column("published", UTCDateTime),
        sa.Column("language", sa.String(35)),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("links", sa.JSON, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("fetched_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feed_items"),
    )
    op.create_index("ix_feed_items_guid", "feed_items", ["guid"])
    op.create_index("ix_feed_items_url", "feed_items", ["url"])
    op.create_index("ix_feed_items_content_hash", "feed_items", ["content_hash"])
    op.create_index("ix_feed_items_fetched_at", "feed_items", ["fetched_at"])
    op.create_table(
        "feed_state",
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("last_status", sa.String(16)),
        sa.Column("last_http_status", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("last_fetched_at", UTCDateTime),
        sa.Column("last_ok_at", UTCDateTime),
        sa.Column("failure_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("url", name="pk_feed_state"),
    )
    op.create_table(
        "rule_decisions",
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("kept", sa.Boolean, nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("routes", sa.JSON, nullable=False),
        sa.Column("fired", sa.JSON, nullable=False),
        sa.Column("decided_by", sa.Text),
        sa.Column("rules_digest", sa.String(32), nullable=False),
        sa.Column("decided_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("item_id", name="pk_rule_decisions"),
    )
    op.create_index("ix_rule_decisions_decided_at", "rule_decisions", ["decided_at"])


def downgrade() -> None:
    op.drop_table("rule_decisions")
    op.drop_table("feed_state")
    op.drop_table("feed_items")
