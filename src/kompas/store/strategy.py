"""The rows the strategy pillar reads: the user's own posts (with their text, for
alignment) and the user's own dated actions (for habits); and its one table, the user's
corrections of alignment (``kompas strategy teach``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from kompas.store import schema
from kompas.store.schema import accounts, follows, interactions, posts
from kompas.store.upsert import insert_for

#: What the user said about a post's pillars; the text is kept so a correction still
#: teaches when the post is gone from a later import.
alignment_corrections = sa.Table(
    "alignment_corrections",
    schema.metadata,
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("post_id", sa.String(512), primary_key=True),
    #: The pillar ids the post serves; empty when the user said it serves none.
    sa.Column("pillars", sa.JSON, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", schema.UTCDateTime, nullable=False),
)


@dataclass(frozen=True, slots=True)
class StoredCorrection:
    """One row of ``alignment_corrections``."""

    platform: str
    post_id: str
    pillars: tuple[str, ...]
    text: str
    created_at: datetime


def save_correction(
    connection: sa.Connection,
    platform: str,
    post_id: str,
    pillars: Sequence[str],
    text: str,
    when: datetime | None = None,
) -> None:
    """Store (or replace) the user's correction of one post."""
    row = {
        "platform": platform,
        "post_id": post_id,
        "pillars": sorted(set(pillars)),
        "text": text,
        "created_at": when or datetime.now(UTC),
    }
    insert = insert_for(connection, alignment_corrections).values(row)
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=["platform", "post_id"],
            set_={k: row[k] for k in ("pillars", "text", "created_at")},
        )
    )


def corrections(connection: sa.Connection) -> list[StoredCorrection]:
    """Every correction, oldest first."""
    rows = connection.execute(
        sa.select(alignment_corrections).order_by(
            alignment_corrections.c.created_at,
            alignment_corrections.c.platform,
            alignment_corrections.c.post_id,
        )
    )
    return [
        StoredCorrection(r.platform, r.post_id, tuple(r.pillars), r.text, r.created_at)
        for r in rows
    ]


def own_post(connection: sa.Connection, platform: str, post_id: str) -> OwnPost | None:
    """One of the user's posts by its platform and id, or ``None``."""
    found = own_posts(connection, post=(platform, post_id))
    return found[0] if found else None


@dataclass(frozen=True, slots=True)
class OwnPost:
    """One of the user's posts, as alignment and habits need it."""

    platform: str
    id: str
    kind: str
    text: str
    created_at: datetime | None
    author_id: str = ""
    language: str | None = None
    url: str | None = None
    links: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    reply_to_author_id: str | None = None
    repost_of_author_id: str | None = None


@dataclass(frozen=True, slots=True)
class OwnAction:
    """Something the user did to an account or a post (like, bookmark, follow…)."""

    platform: str
    kind: str
    target_account_id: str | None
    target_post_id: str | None
    created_at: datetime | None


def _is_self(platform: Any, column: Any) -> sa.ColumnElement[bool]:
    own = sa.select(accounts.c.platform, accounts.c.id).where(accounts.c.is_self)
    return sa.tuple_(platform, column).in_(own)


def _window(column: Any, since: datetime | None, until: datetime | None) -> sa.ColumnElement[bool]:
    condition: sa.ColumnElement[bool] = sa.true()
    if since is not None:
        condition = condition & (column >= since)
    if until is not None:
        condition = condition & (column < until)
    if since is not None or until is not None:
        condition = condition & column.is_not(None)
    return condition


def own_posts(
    connection: sa.Connection,
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str | None = None,
    post: tuple[str, str] | None = None,
) -> list[OwnPost]:
    """The user's posts in ``[since, until)`` (all of them, undated too, when unbounded),
    oldest first; only the post ``(platform, id)`` when ``post`` is given."""
    where = _is_self(posts.c.platform, posts.c.author_id) & _window(
        posts.c.created_at, since, until
    )
    if platform is not None:
        where = where & (posts.c.platform == platform)
    if post is not None:
        where = where & (posts.c.platform == post[0]) & (posts.c.id == post[1])
    rows = connection.execute(
        sa.select(
            posts.c.platform,
            posts.c.id,
            posts.c.kind,
            posts.c.text,
            posts.c.created_at,
            posts.c.author_id,
            posts.c.language,
            posts.c.url,
            posts.c.links,
            posts.c.mentions,
            posts.c.reply_to_author_id,
            posts.c.repost_of_author_id,
        )
        .where(where)
        .order_by(posts.c.created_at, posts.c.platform, posts.c.id)
    )
    return [
        OwnPost(
            platform=row.platform,
            id=row.id,
            kind=row.kind,
            text=row.text or "",
            created_at=row.created_at,
            author_id=row.author_id,
            language=row.language,
            url=row.url,
            links=tuple(row.links or ()),
            mentions=tuple(row.mentions or ()),
            reply_to_author_id=row.reply_to_author_id,
            repost_of_author_id=row.repost_of_author_id,
        )
        for row in rows
    ]


def own_actions(
    connection: sa.Connection,
    since: datetime | None = None,
    until: datetime | None = None,
    kinds: tuple[str, ...] = ("like", "bookmark"),
    platform: str | None = None,
) -> list[OwnAction]:
    """The user's dated interactions of ``kinds`` in ``[since, until)``, and the follows
    the user started when ``"follow"`` is among ``kinds`` (dated follows only)."""
    found: list[OwnAction] = []
    plain = [k for k in kinds if k != "follow"]
    if plain:
        where = (
            _is_self(interactions.c.platform, interactions.c.actor_id)
            & interactions.c.kind.in_(plain)
            & _window(interactions.c.created_at, since, until)
            & interactions.c.created_at.is_not(None)
        )
        if platform is not None:
            where = where & (interactions.c.platform == platform)
        for row in connection.execute(
            sa.select(
                interactions.c.platform,
                interactions.c.kind,
                interactions.c.target_account_id,
                interactions.c.target_post_id,
                interactions.c.created_at,
            ).where(where)
        ):
            found.append(OwnAction(row[0], row[1], row[2], row[3], row[4]))
    if "follow" in kinds:
        where = (
            _is_self(follows.c.platform, follows.c.follower_id)
            & _window(follows.c.followed_at, since, until)
            & follows.c.followed_at.is_not(None)
        )
        if platform is not None:
            where = where & (follows.c.platform == platform)
        edges = connection.execute(
            sa.select(follows.c.platform, follows.c.followee_id, follows.c.followed_at).where(where)
        )
        for edge in edges:
            found.append(OwnAction(edge[0], "follow", edge[1], None, edge[2]))
    found.sort(key=lambda a: (a.created_at is None, a.created_at))
    return found


def undated_actions(connection: sa.Connection, platform: str | None = None) -> dict[str, int]:
    """How many of the user's likes, bookmarks and follows carry no date, per kind: a
    habit over them is "no data" when none are dated, not 0."""
    where = _is_self(interactions.c.platform, interactions.c.actor_id) & (
        interactions.c.created_at.is_(None)
    )
    if platform is not None:
        where = where & (interactions.c.platform == platform)
    found = {
        str(kind): int(n)
        for kind, n in connection.execute(
            sa.select(interactions.c.kind, sa.func.count())
            .where(where)
            .group_by(interactions.c.kind)
        )
    }
    follow_where = _is_self(follows.c.platform, follows.c.follower_id) & (
        follows.c.followed_at.is_(None)
    )
    if platform is not None:
        follow_where = follow_where & (follows.c.platform == platform)
    undated_follows = int(
        connection.execute(
            sa.select(sa.func.count()).select_from(follows).where(follow_where)
        ).scalar_one()
    )
    if undated_follows:
        found["follow"] = found.get("follow", 0) + undated_follows
    return found


def activity_span(
    connection: sa.Connection, platform: str | None = None
) -> tuple[datetime, datetime] | None:
    """The first and last moment of the user's dated posts: outside it a count of 0
    would be made up."""
    where = _is_self(posts.c.platform, posts.c.author_id) & posts.c.created_at.is_not(None)
    if platform is not None:
        where = where & (posts.c.platform == platform)
    row = connection.execute(
        sa.select(sa.func.min(posts.c.created_at), sa.func.max(posts.c.created_at)).where(where)
    ).one()
    if row[0] is None or row[1] is None:
        return None
    column_type = posts.c.created_at.type
    first = column_type.process_result_value(row[0], connection.dialect)  # type: ignore[attr-defined]
    last = column_type.process_result_value(row[1], connection.dialect)  # type: ignore[attr-defined]
    return first, last
