"""A habit's counts over consecutive windows, counted by the database: one grouped query
per habit, reading only the span its windows cover (by the index on each account's posts,
interactions or follows in time), instead of every post of the span loaded into Python.

What each kind counts is :func:`kompas.strategy.habits.count`'s reading of the records,
which stays the reference (``tests/test_habit_counts.py`` compares both)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from kompas.store import sqlfn
from kompas.store.schema import accounts, follows, interactions, posts

#: The kinds read off the user's posts (the rest are interactions, and follows).
POST_KINDS = ("post", "reply", "quote", "repost", "link", "mention")


def _own(platform: Any, account: Any) -> sa.ColumnElement[bool]:
    return sa.tuple_(platform, account).in_(
        sa.select(accounts.c.platform, accounts.c.id).where(accounts.c.is_self)
    )


def windows(
    connection: sa.Connection,
    kind: str,
    people: bool,
    until: datetime,
    length: timedelta,
    count: int,
    platform: str | None = None,
) -> list[int]:
    """How many times ``kind`` was done in each of ``count`` windows of ``length`` ending
    at ``until``, oldest first; with ``people``, how many distinct people it reached."""
    since = until - count * length
    found = [0] * count
    for window, number in _grouped(connection, kind, people, since, until, length, platform):
        if 0 <= window < count:
            found[window] = number
    return found


def _window(connection: sa.Connection, at: Any, since: datetime, length: timedelta) -> Any:
    """The window ``at`` falls in, counted from the oldest (0)."""
    return sqlfn.week_number(
        connection, sqlfn.epoch(connection, at), since.timestamp(), length.total_seconds()
    )


def _grouped(
    connection: sa.Connection,
    kind: str,
    people: bool,
    since: datetime,
    until: datetime,
    length: timedelta,
    platform: str | None,
) -> Sequence[Any]:
    if kind in POST_KINDS:
        p = posts.c
        where = _own(p.platform, p.author_id) & (p.created_at >= since) & (p.created_at < until)
        if platform is not None:
            where &= p.platform == platform
        if kind in ("link", "mention"):
            listed = p.links if kind == "link" else p.mentions
            where &= (p.kind != "repost") & (sqlfn.json_length(connection, listed) > 0)
        else:
            where &= p.kind == kind
        back = _window(connection, p.created_at, since, length).label("back")
        if not people:
            return connection.execute(
                sa.select(back, sa.func.count()).where(where).group_by(back)
            ).all()
        return _distinct(connection, _reached(connection, kind, back, where))
    if kind == "follow":
        f = follows.c
        where = _own(f.platform, f.follower_id) & (f.followed_at >= since) & (f.followed_at < until)
        if platform is not None:
            where &= f.platform == platform
        back = _window(connection, f.followed_at, since, length).label("back")
        target, on = f.followee_id, f.platform
    else:
        i = interactions.c
        where = (
            _own(i.platform, i.actor_id)
            & (i.kind == kind)
            & (i.created_at >= since)
            & (i.created_at < until)
        )
        if platform is not None:
            where &= i.platform == platform
        back = _window(connection, i.created_at, since, length).label("back")
        target, on = i.target_account_id, i.platform
    if not people:
        return connection.execute(
            sa.select(back, sa.func.count()).where(where).group_by(back)
        ).all()
    reached = sa.select(back, on.label("platform"), target.label("person")).where(
        where & target.is_not(None) & (target != "")
    )
    return _distinct(connection, [reached])


def _reached(
    connection: sa.Connection, kind: str, back: Any, where: sa.ColumnElement[bool]
) -> list[sa.Select[Any]]:
    """Who each post reaches: the author replied to (reply), reposted (repost), or
    everyone it mentions or replies to (other kinds), never the user's own account."""
    p = posts.c

    def one(column: Any) -> sa.Select[Any]:
        return sa.select(back, p.platform.label("platform"), column.label("person")).where(
            where & column.is_not(None) & (column != "") & (column != p.author_id)
        )

    if kind == "reply":
        return [one(p.reply_to_author_id)]
    if kind == "repost":
        return [one(p.repost_of_author_id)]
    mention = sqlfn.json_items(connection, p.mentions, "mention")
    named = sa.cast(mention.c.value, sa.String)
    mentioned = (
        sa.select(back, p.platform.label("platform"), named.label("person"))
        .select_from(posts.join(mention, sa.true()))
        .where(where & (named != p.author_id))
    )
    return [one(p.reply_to_author_id), mentioned]


def _distinct(connection: sa.Connection, parts: list[sa.Select[Any]]) -> Sequence[Any]:
    # Each (window, platform, person) once: a union of the parts, or the one part distinct.
    both = (sa.union(*parts) if len(parts) > 1 else parts[0].distinct()).subquery("reached")
    return connection.execute(sa.select(both.c.back, sa.func.count()).group_by(both.c.back)).all()


def dated_any(
    connection: sa.Connection,
    kind: str,
    since: datetime,
    until: datetime,
    platform: str | None = None,
) -> bool:
    """Whether the user has any dated action of ``kind`` in ``[since, until)`` (a like,
    bookmark or follow)."""
    if kind == "follow":
        f = follows.c
        where = _own(f.platform, f.follower_id) & (f.followed_at >= since) & (f.followed_at < until)
        if platform is not None:
            where &= f.platform == platform
    else:
        i = interactions.c
        where = (
            _own(i.platform, i.actor_id)
            & (i.kind == kind)
            & (i.created_at >= since)
            & (i.created_at < until)
        )
        if platform is not None:
            where &= i.platform == platform
    return connection.execute(sa.select(sa.literal(1)).where(where).limit(1)).first() is not None
