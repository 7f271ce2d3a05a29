"""The initial schema: accounts, posts, follows, interactions, feed subscriptions, imports.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from kompas.store.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("id", sa.String(512), nullable=False),
        sa.Column("handle", sa.String(512)),
        sa.Column("display_name", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("bio", sa.Text),
        sa.Column("created_at", UTCDateTime),
        sa.Column("followers_count", sa.Integer),
        sa.Column("following_count", sa.Integer),
        sa.Column("posts_count", sa.Integer),
        sa.Column("is_self", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("is_bot", sa.Boolean),
        sa.PrimaryKeyConstraint("platform", "id", name="pk_accounts"),
    )
    op.create_index("ix_accounts_platform_is_self", "accounts", ["platform", "is_self"])
    op.create_table(
        "posts",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("id", sa.String(512), nullable=False),
        sa.Column("author_id", sa.String(512), nullable=False),
        sa.Column("created_at", UTCDateTime),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("html", sa.Text),
        sa.Column("language", sa.String(16)),
        sa.Column("url", sa.Text),
        sa.Column("reply_to_id", sa.String(512)),
        sa.Column("reply_to_author_id", sa.String(512)),
        sa.Column("quote_of_id", sa.String(512)),
        sa.Column("repost_of_id", sa.String(512)),
        sa.Column("repost_of_author_id", sa.String(512)),
        sa.Column("conversation_id", sa.String(512)),
        sa.Column("mentions", sa.JSON, nullable=False),
        sa.Column("links", sa.JSON, nullable=False),
        sa.Column("hashtags", sa.JSON, nullable=False),
        sa.Column("like_count", sa.Integer),
        sa.Column("repost_count", sa.Integer),
        sa.Column("reply_count", sa.Integer),
        sa.Column("quote_count", sa.Integer),
        sa.Column("client", sa.Text),
        sa.PrimaryKeyConstraint("platform", "id", name="pk_posts"),
    )
    op.create_index(
        "ix_posts_platform_author_id_created_at", "posts", ["platform", "author_id", "created_at"]
    )
    op.create_index("ix_posts_platform_reply_to_id", "posts", ["platform", "reply_to_id"])
    op.create_index("ix_posts_created_at", "posts", ["created_at"])
    op.create_table(
        "follows",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("follower_id", sa.String(512), nullable=False),
        sa.Column("followee_id", sa.String(512), nullable=False),
        sa.Column("followed_at", UTCDateTime),
        sa.PrimaryKeyConstraint("platform", "follower_id", "followee_id", name="pk_follows"),
    )
    op.create_index("ix_follows_platform_followee_id", "follows", ["platform", "followee_id"])
    op.create_table(
        "interactions",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(512), nullable=False),
        sa.Column("target_account_id", sa.String(512)),
        sa.Column("target_post_id", sa.String(512)),
        sa.Column("via_post_id", sa.String(512)),
        sa.Column("created_at", UTCDateTime),
        sa.PrimaryKeyConstraint("platform", "id", name="pk_interactions"),
    )
    op.create_index(
        "ix_interactions_platform_actor_id_kind", "interactions", ["platform", "actor_id", "kind"]
    )
    op.create_index(
        "ix_interactions_platform_target_account_id",
        "interactions",
        ["platform", "target_account_id"],
    )
    op.create_index("ix_interactions_created_at", "interactions", ["created_at"])
    op.create_table(
        "feed_subscriptions",
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("html_url", sa.Text),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("url", name="pk_feed_subscriptions"),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=False),
        sa.Column("added", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_imports"),
    )


def downgrade() -> None:
    for table in ("imports", "feed_subscriptions", "interactions", "follows", "posts", "accounts"):
        op.drop_table(table)
