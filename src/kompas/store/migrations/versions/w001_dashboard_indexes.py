"""Dashboard: own interactions by time, so weekly figures read an index range.

Revision ID: w001
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op

revision = "w001"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_interactions_platform_actor_id_created_at",
        "interactions",
        ["platform", "actor_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_interactions_platform_actor_id_created_at", table_name="interactions")
