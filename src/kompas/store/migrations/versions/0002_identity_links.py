"""Identity links: accounts on several platforms declared to be one person.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_links",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(512), nullable=False),
        sa.Column("person", sa.String(256), nullable=False),
        sa.PrimaryKeyConstraint("platform", "account_id", name="pk_identity_links"),
    )
    op.create_index("ix_identity_links_person", "identity_links", ["person"])


def downgrade() -> None:
    op.drop_table("identity_links")
