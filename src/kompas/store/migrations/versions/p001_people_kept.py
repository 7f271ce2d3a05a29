"""People you keep: the user's notes, tags and reconnect cadences on accounts.

Revision ID: p001
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from kompas.store.schema import UTCDateTime

revision = "p001"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_notes",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(512), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_person_notes"),
    )
    op.create_index(
        "ix_person_notes_platform_account_id", "person_notes", ["platform", "account_id"]
    )
    op.create_table(
        "person_tags",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(512), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("platform", "account_id", "tag", name="pk_person_tags"),
    )
    op.create_index("ix_person_tags_tag", "person_tags", ["tag"])
    op.create_table(
        "person_cadences",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(512), nullable=False),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("set_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("platform", "account_id", name="pk_person_cadences"),
    )


def downgrade() -> None:
    op.drop_table("person_cadences")
    op.drop_table("person_tags")
    op.drop_table("person_notes")
