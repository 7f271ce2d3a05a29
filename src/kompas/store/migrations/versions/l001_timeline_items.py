"""Timelines as sources: a feed item can be a post from a Mastodon or Bluesky timeline,
with the post's platform id, its author's account id, its kind and its public counts.

Revision ID: l001
Revises: r001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "l001"
down_revision = "r001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed_items") as batch:
        batch.add_column(sa.Column("platform", sa.String(16)))
        batch.add_column(sa.Column("post_id", sa.String(512)))
        batch.add_column(sa.Column("author_id", sa.String(512)))
        batch.add_column(sa.Column("kind", sa.String(16)))
        batch.add_column(sa.Column("counts", sa.JSON))
    op.create_index("ix_feed_items_platform_post_id", "feed_items", ["platform", "post_id"])
    op.create_index("ix_feed_items_platform_author_id", "feed_items", ["platform", "author_id"])


def downgrade() -> None:
    op.drop_index("ix_feed_items_platform_author_id", "feed_items")
    op.drop_index("ix_feed_items_platform_post_id", "feed_items")
    with op.batch_alter_table("feed_items") as batch:
        for column in ("counts", "kind", "author_id", "post_id", "platform"):
            batch.drop_column(column)
