"""The one schema, in SQLAlchemy Core. Alembic migrations (``migrations/``) create and
evolve it; a test checks that the migrations and this module never drift apart."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Stores UTC as a naive timestamp and always hands back an aware UTC datetime, the
    same on SQLite (which has no time zones) and PostgreSQL."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("kompas stores only timezone-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL paths on SQLite
            value = datetime.fromisoformat(value)
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("id", sa.String(512), primary_key=True),
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
    sa.Index(None, "platform", "is_self"),
)

posts = sa.Table(
    "posts",
    metadata,
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("id", sa.String(512), primary_key=True),
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
    sa.Index(None, "platform", "author_id", "created_at"),
    sa.Index(None, "platform", "reply_to_id"),
    sa.Index(None, "created_at"),
)

follows = sa.Table(
    "follows",
    metadata,
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("follower_id", sa.String(512), primary_key=True),
    sa.Column("followee_id", sa.String(512), primary_key=True),
    sa.Column("followed_at", UTCDateTime),
    #: When a complete follower/following list last showed the edge (sync or export).
    sa.Column("seen_at", UTCDateTime),
    #: When a complete list first missed it: the edge ended (kept, for history). Null: current.
    sa.Column("ended_at", UTCDateTime),
    sa.Index(None, "platform", "followee_id"),
)

#: Follow edges that hold now: every count of followers or following reads only these.
current_follow = follows.c.ended_at.is_(None)

interactions = sa.Table(
    "interactions",
    metadata,
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("actor_id", sa.String(512), nullable=False),
    sa.Column("target_account_id", sa.String(512)),
    sa.Column("target_post_id", sa.String(512)),
    sa.Column("via_post_id", sa.String(512)),
    sa.Column("created_at", UTCDateTime),
    sa.Index(None, "platform", "actor_id", "kind", "created_at"),
    sa.Index(None, "created_at"),
)

feed_subscriptions = sa.Table(
    "feed_subscriptions",
    metadata,
    sa.Column("url", sa.String(2048), primary_key=True),
    sa.Column("title", sa.Text),
    sa.Column("html_url", sa.Text),
    sa.Column("categories", sa.JSON, nullable=False),
)

imports = sa.Table(
    "imports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=False),
    sa.Column("added", sa.JSON, nullable=False),
)

#: Accounts on several platforms that the user declared to be one person.
identity_links = sa.Table(
    "identity_links",
    metadata,
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("account_id", sa.String(512), primary_key=True),
    sa.Column("person", sa.String(256), nullable=False),
    sa.Index(None, "person"),
)
