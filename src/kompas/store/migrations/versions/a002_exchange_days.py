"""Community: the exchanges and the user's posts added up per day as well (for the whole
days of the weeks a period's bound cuts) and over the whole history (the all-time
figures), and per person and account what a period's figures read of the past.

Revision ID: a002
Revises: a001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from kompas.store.schema import UTCDateTime

revision = "a002"
down_revision = "a001"
branch_labels = None
depends_on = None

_S = sa.String(512)
_PERSON = sa.String(1040)


def upgrade() -> None:
    op.create_table(
        "exchange_days",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("person", _PERSON),
        sa.Column("account", _S),
        sa.Column("given", sa.Boolean, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("day", sa.Integer),
        sa.Column("at", UTCDateTime),
        sa.Column("at_s", sa.Float),
        sa.Column("exchanges", sa.Integer, nullable=False),
        sa.Column("first_at", UTCDateTime),
        sa.Column("last_at", UTCDateTime),
        sa.Column("decayed", sa.Float, nullable=False),
    )
    op.create_index("ix_exchange_days_platform_day", "exchange_days", ["platform", "day"])
    op.create_table(
        "exchange_own_days",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("day", sa.Integer),
        sa.Column("at", UTCDateTime),
        sa.Column("at_s", sa.Float),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("base", sa.String(16), nullable=False),
        sa.Column("answers_other", sa.Boolean, nullable=False),
        sa.Column("shared_person", _PERSON),
        sa.Column("replied", _S),
        sa.Column("posts", sa.Integer, nullable=False),
        sa.Column("replies_known", sa.Integer, nullable=False),
        sa.Column("replies", sa.Integer),
        sa.Column("amplification_known", sa.Integer, nullable=False),
        sa.Column("amplification", sa.Integer),
        sa.Column("likes_known", sa.Integer, nullable=False),
        sa.Column("likes", sa.Integer),
    )
    op.create_index("ix_exchange_own_days_platform_day", "exchange_own_days", ["platform", "day"])
    op.create_table(
        "exchange_totals",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("person", _PERSON),
        sa.Column("account", _S),
        sa.Column("given", sa.Boolean, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("dated", sa.Integer),
        sa.Column("at", UTCDateTime),
        sa.Column("at_s", sa.Float),
        sa.Column("exchanges", sa.Integer, nullable=False),
        sa.Column("first_at", UTCDateTime),
        sa.Column("last_at", UTCDateTime),
        sa.Column("decayed", sa.Float, nullable=False),
    )
    op.create_table(
        "exchange_own_totals",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("dated", sa.Integer),
        sa.Column("at", UTCDateTime),
        sa.Column("at_s", sa.Float),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("base", sa.String(16), nullable=False),
        sa.Column("answers_other", sa.Boolean, nullable=False),
        sa.Column("shared_person", _PERSON),
        sa.Column("replied", _S),
        sa.Column("posts", sa.Integer, nullable=False),
        sa.Column("replies_known", sa.Integer, nullable=False),
        sa.Column("replies", sa.Integer),
        sa.Column("amplification_known", sa.Integer, nullable=False),
        sa.Column("amplification", sa.Integer),
        sa.Column("likes_known", sa.Integer, nullable=False),
        sa.Column("likes", sa.Integer),
    )
    op.create_table(
        "exchange_people",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("person", _PERSON, nullable=False),
        sa.Column("account", _S),
        sa.Column("first_at", UTCDateTime),
        sa.Column("first_received_at", UTCDateTime),
        sa.Column("undated", sa.Boolean, nullable=False),
        sa.Column("undated_received", sa.Boolean, nullable=False),
    )
    op.create_index("ix_exchange_people_person", "exchange_people", ["person"])


def downgrade() -> None:
    op.drop_table("exchange_people")
    op.drop_table("exchange_own_totals")
    op.drop_table("exchange_totals")
    op.drop_table("exchange_own_days")
    op.drop_table("exchange_days")
