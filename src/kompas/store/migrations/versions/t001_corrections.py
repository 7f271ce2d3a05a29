"""Strategy: the user's corrections of pillar alignment (``kompas strategy teach``).

Revision ID: t001
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from kompas.store.schema import UTCDateTime

revision = "t001"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alignment_corrections",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("post_id", sa.String(512), nullable=False),
        sa.Column("pillars", sa.JSON, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("platform", "post_id", name="pk_alignment_corrections"),
    )


def downgrade() -> None:
    op.drop_table("alignment_corrections")
