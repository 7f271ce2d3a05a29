"""Community: the user's exchanges derived once and kept (own posts, exchanges, threads,
their weekly sums, spans), rebuilt when the data version they were built from is stale.

Revision ID: a001
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from kompas.store.schema import UTCDateTime

revision = "a001"
down_revision = "0002"
branch_labels = None
depends_on = None

_S = sa.String(512)
_PERSON = sa.String(1040)


def upgrade() -> None:
    op.create_table(
        "exchange_own",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("id", _S, nullable=False),
        sa.Column("at", UTCDateTime),
        sa.Column("at_s", sa.Float),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reply_to_id", _S),
        sa.Column("reply_to_author_id", _S),
        sa.Column("answers_other", sa.Boolean, nullable=False),
        sa.Column("base", sa.String(16), nullable=False),
        sa.Column("shared_person", _PERSON),
        sa.Column("reply_count", sa.Integer),
        sa.Column("amplification", sa.Integer),
        sa.Column("like_count", sa.Integer),
        sa.Column("thread", sa.Text),
        sa.PrimaryKeyConstraint("platform", "id", name="pk_exchange_own"),
    )
    op.create_index("ix_exchange_own_platform_at", "exchange_own", ["platform", "at"])
    op.create_table(
        "exchange_own_links",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("id", _S, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("platform", "id", "position", name="pk_exchange_own_links"),
    )
    op.create_table(
        "exchange_contacts",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("given", sa.Boolean, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("person", _PERSON),
        sa.Column("account", _S),
        sa.Column("at", UTCDateTime),
        sa.Column("at_s", sa.Float),
        sa.Column("via_post_id", _S),
        sa.Column("target_post_id", _S),
    )
    op.create_index("ix_exchange_contacts_platform_at", "exchange_contacts", ["platform", "at"])
    op.create_table(
        "exchange_threads",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("thread", _PERSON, nullable=False),
        sa.Column("root_own", sa.Boolean, nullable=False),
        sa.Column("with_others", sa.Boolean, nullable=False),
        sa.Column("own", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("platform", "thread", name="pk_exchange_threads"),
    )
    op.create_table(
        "exchange_weeks",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("person", _PERSON),
        sa.Column("account", _S),
        sa.Column("given", sa.Boolean, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("week", sa.Integer),
        sa.Column("at", UTCDateTime),
        sa.Column("at_s", sa.Float),
        sa.Column("exchanges", sa.Integer, nullable=False),
        sa.Column("first_at", UTCDateTime),
        sa.Column("last_at", UTCDateTime),
        sa.Column("decayed", sa.Float, nullable=False),
    )
    op.create_index("ix_exchange_weeks_platform_week", "exchange_weeks", ["platform", "week"])
    op.create_table(
        "exchange_own_weeks",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("week", sa.Integer),
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
    op.create_index(
        "ix_exchange_own_weeks_platform_week", "exchange_own_weeks", ["platform", "week"]
    )
    op.create_table(
        "exchange_spans",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("first_at", UTCDateTime),
        sa.Column("last_at", UTCDateTime),
        sa.Column("received", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("platform", name="pk_exchange_spans"),
    )
    state = op.create_table(
        "exchange_state",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("data_version", sa.Integer, nullable=False),
        sa.Column("derived", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_exchange_state"),
    )
    op.bulk_insert(state, [{"id": 1, "data_version": 0, "derived": None}])


def downgrade() -> None:
    for name in (
        "exchange_state",
        "exchange_spans",
        "exchange_own_weeks",
        "exchange_weeks",
        "exchange_threads",
        "exchange_contacts",
        "exchange_own_links",
        "exchange_own",
    ):
        op.drop_table(name)
