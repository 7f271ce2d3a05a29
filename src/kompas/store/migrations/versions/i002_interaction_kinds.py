"""Inbox: interactions by account, kind and time, so what was addressed to the user and
what the user said to others are read without stepping over every like in between.

The new indexes extend two older ones, which go: (platform, actor_id, kind) is a prefix of
(platform, actor_id, kind, created_at), and (platform, target_account_id) of i001's
(platform, target_account_id, created_at).

Revision ID: i002
Revises: i001
Create Date: 2026-12-04
"""

from alembic import op

revision = "i002"
down_revision = "i001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_interactions_platform_actor_id_kind", table_name="interactions")
    op.drop_index("ix_interactions_platform_target_account_id", table_name="interactions")
    op.create_index(
        "ix_interactions_platform_actor_id_kind_created_at",
        "interactions",
        ["platform", "actor_id", "kind", "created_at"],
    )
    op.create_index(
        "ix_interactions_platform_target_account_id_kind_created_at",
        "interactions",
        ["platform", "target_account_id", "kind", "created_at"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_interactions_platform_target_account_id_kind_created_at", table_name="interactions"
    )
    op.drop_index("ix_interactions_platform_actor_id_kind_created_at", table_name="interactions")
    op.create_index(
        "ix_interactions_platform_target_account_id",
        "interactions",
        ["platform", "target_account_id"],
    )
    op.create_index(
        "ix_interactions_platform_actor_id_kind", "interactions", ["platform", "actor_id", "kind"]
    )
