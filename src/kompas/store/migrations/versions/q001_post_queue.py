"""The local post queue: drafts to send at a given time, each with its idempotency key, its
state, its last error and what was already posted of it.

Revision ID: q001
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from kompas.store.schema import UTCDateTime

revision = "q001"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_queue",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("network", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("parts", sa.JSON, nullable=False),
        sa.Column("reply_to", sa.String(512)),
        sa.Column("image", sa.Text),
        sa.Column("alt", sa.Text),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("sent", sa.JSON, nullable=False),
        sa.Column("media_id", sa.String(512)),
        sa.Column("claimed_by", sa.String(300)),
        sa.Column("claimed_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_post_queue"),
    )
    op.create_index("ix_post_queue_idempotency_key", "post_queue", ["idempotency_key"], unique=True)
    op.create_index("ix_post_queue_state_due_at", "post_queue", ["state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_post_queue_state_due_at", table_name="post_queue")
    op.drop_index("ix_post_queue_idempotency_key", table_name="post_queue")
    op.drop_table("post_queue")
