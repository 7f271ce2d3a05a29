"""Inbox: the user's marks on items (done, snoozed, ignored), and the indexes that read
what was addressed to the user and the user's answers without a scan.

Revision ID: i001
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from kompas.store.schema import UTCDateTime

revision = "i001"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_marks",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("post", sa.String(512), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("until", UTCDateTime),
        sa.Column("marked_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("platform", "post", name="pk_inbox_marks"),
    )
    op.create_index(
        "ix_interactions_platform_target_account_id_created_at",
        "interactions",
        ["platform", "target_account_id", "created_at"],
    )
    op.create_index(
        "ix_posts_platform_reply_to_author_id_created_at",
        "posts",
        ["platform", "reply_to_author_id", "created_at"],
    )
    op.create_index("ix_posts_platform_quote_of_id", "posts", ["platform", "quote_of_id"])
    op.create_index("ix_posts_platform_conversation_id", "posts", ["platform", "conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_posts_platform_conversation_id", table_name="posts")
    op.drop_index("ix_posts_platform_quote_of_id", table_name="posts")
    op.drop_index("ix_posts_platform_reply_to_author_id_created_at", table_name="posts")
    op.drop_index(
        "ix_interactions_platform_target_account_id_created_at", table_name="interactions"
    )
    op.drop_table("inbox_marks")
