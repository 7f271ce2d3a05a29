"""Unfollows: a complete follower or following list (a sync that walked the whole list,
or an export's list with the date it was taken) says who follows whom at that time.

Edges the list shows are marked seen, and re-opened if they had ended before it was taken;
current edges on that side of the account that it does not show are ended (at the time the
sync noticed, or the export's date), never deleted, so the history keeps them. Counts read
only current edges (:data:`kompas.store.schema.current_follow`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import sqlalchemy as sa

from kompas.model import Follow, FollowList
from kompas.store.schema import follows

#: Which list of an account: the accounts following it, or the accounts it follows.
Side = Literal["followers", "following"]


def mark_seen(connection: sa.Connection, edges: Iterable[Follow], at: datetime) -> int:
    """Note that a complete list taken at ``at`` shows ``edges`` (already written); re-open
    those that had ended by then. Returns how many were re-opened."""
    keys = {(e.platform.value, e.follower_id, e.followee_id) for e in edges}
    if not keys:
        return 0
    platforms = {platform for platform, _, _ in keys}
    ended = {
        (row.platform, row.follower_id, row.followee_id)
        for row in connection.execute(
            sa.select(follows.c.platform, follows.c.follower_id, follows.c.followee_id).where(
                follows.c.platform.in_(platforms),
                follows.c.ended_at.is_not(None),
                follows.c.ended_at <= at,
            )
        )
    } & keys
    match = (
        (follows.c.platform == sa.bindparam("p"))
        & (follows.c.follower_id == sa.bindparam("a"))
        & (follows.c.followee_id == sa.bindparam("b"))
    )
    rows = [{"p": p, "a": a, "b": b} for p, a, b in sorted(keys)]
    connection.execute(
        sa.update(follows)
        .where(match & (follows.c.seen_at.is_(None) | (follows.c.seen_at < at)))
        .values(seen_at=at),
        rows,
    )
    if ended:
        connection.execute(
            sa.update(follows).where(match).values(ended_at=None),
            [{"p": p, "a": a, "b": b} for p, a, b in sorted(ended)],
        )
    return len(ended)


def end_unseen(
    connection: sa.Connection,
    platform: str,
    account_id: str,
    side: Side,
    started: datetime,
    at: datetime,
) -> int:
    """End, at ``at``, the current edges on ``side`` of ``account_id`` that the complete
    list walked since ``started`` did not show (nor were made after it started). Returns
    how many ended."""
    column = follows.c.followee_id if side == "followers" else follows.c.follower_id
    result = connection.execute(
        sa.update(follows)
        .where(
            (follows.c.platform == platform)
            & (column == account_id)
            & follows.c.ended_at.is_(None)
            & (follows.c.seen_at.is_(None) | (follows.c.seen_at < started))
            & (follows.c.followed_at.is_(None) | (follows.c.followed_at < started))
        )
        .values(ended_at=at)
    )
    return int(result.rowcount or 0)


def apply_list(
    connection: sa.Connection, listed: FollowList, edges: Iterable[tuple[str, str, str]]
) -> int:
    """An export's complete list, taken at ``listed.taken_at``, whose edges ``edges``
    (``(platform, follower, followee)``, already written) hold: mark them seen, end the
    others of that side. An older export changes nothing a newer list decided."""
    platform = listed.platform.value
    own = 2 if listed.side == "followers" else 1
    shown = [
        Follow(listed.platform, edge[1], edge[2])
        for edge in edges
        if str(edge[0]) == platform and edge[own] == listed.account_id
    ]
    mark_seen(connection, shown, listed.taken_at)
    side: Side = "followers" if listed.side == "followers" else "following"
    return end_unseen(
        connection, platform, listed.account_id, side, listed.taken_at, listed.taken_at
    )
