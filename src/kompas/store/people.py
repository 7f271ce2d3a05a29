"""Read queries of the people pillar: an account with its recent posts, the interaction
graph around it, the user's own texts, the network's engagement, and the user's
followers. The people pillar keeps no tables of its own."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kompas.model import InteractionKind, PostKind
from kompas.store.schema import accounts, current_follow, follows, interactions, posts

#: The kinds of interaction that say who talks with whom.
TALK = (
    InteractionKind.REPLY.value,
    InteractionKind.MENTION.value,
    InteractionKind.REPOST.value,
    InteractionKind.QUOTE.value,
)
RECENT = 200


@dataclass(frozen=True, slots=True)
class StoredAccount:
    """An account row, as the people pillar reads it."""

    platform: str
    id: str
    handle: str | None
    display_name: str | None
    bio: str | None
    created_at: datetime | None
    followers_count: int | None
    following_count: int | None
    posts_count: int | None
    is_bot: bool | None
    is_self: bool


def _account(row: Any) -> StoredAccount:
    return StoredAccount(
        platform=row.platform,
        id=row.id,
        handle=row.handle,
        display_name=row.display_name,
        bio=row.bio,
        created_at=row.created_at,
        followers_count=row.followers_count,
        following_count=row.following_count,
        posts_count=row.posts_count,
        is_bot=row.is_bot,
        is_self=bool(row.is_self),
    )


def account(connection: sa.Connection, platform: str, account_id: str) -> StoredAccount | None:
    """One stored account."""
    row = connection.execute(
        sa.select(accounts).where((accounts.c.platform == platform) & (accounts.c.id == account_id))
    ).first()
    return None if row is None else _account(row)


def self_account(connection: sa.Connection, platform: str) -> StoredAccount | None:
    """The user's own account on ``platform``."""
    row = connection.execute(
        sa.select(accounts).where((accounts.c.platform == platform) & accounts.c.is_self).limit(1)
    ).first()
    return None if row is None else _account(row)


def recent_posts(
    connection: sa.Connection, platform: str, author_id: str, limit: int = RECENT
) -> list[dict[str, Any]]:
    """The author's latest posts in kompas's neutral post shape (see
    ``kompas.people.profiles``): kind, counts, links, partners, text, client."""
    rows = connection.execute(
        sa.select(posts)
        .where((posts.c.platform == platform) & (posts.c.author_id == author_id))
        .order_by(posts.c.created_at.desc())
        .limit(limit)
    )
    found = []
    for row in rows:
        partners = [row.reply_to_author_id, row.repost_of_author_id, *(row.mentions or ())]
        found.append(
            {
                "kind": row.kind,
                "created_at": row.created_at.isoformat() if row.created_at else None,
                "likes": row.like_count,
                "reposts": row.repost_count,
                "replies": row.reply_count,
                "links": list(row.links or ()),
                "client": row.client,
                "partners": [p for p in partners if p],
                "text": row.text or "",
            }
        )
    return found


def talk_graph(
    connection: sa.Connection, platform: str, center: Iterable[str]
) -> dict[str, Counter[str]]:
    """Who replied to, mentioned, reposted or quoted whom, for the ``center`` accounts and
    everyone they talk with (two steps out)."""
    graph: dict[str, Counter[str]] = defaultdict(Counter)
    frontier = set(center)
    seen: set[str] = set()
    for _ in range(2):
        ask = sorted(frontier - seen)
        if not ask:
            break
        seen.update(ask)
        for start in range(0, len(ask), 500):
            rows = connection.execute(
                sa.select(
                    interactions.c.actor_id, interactions.c.target_account_id, sa.func.count()
                )
                .where(interactions.c.platform == platform)
                .where(interactions.c.kind.in_(TALK))
                .where(interactions.c.actor_id.in_(ask[start : start + 500]))
                .where(interactions.c.target_account_id.is_not(None))
                .group_by(interactions.c.actor_id, interactions.c.target_account_id)
            )
            for actor, target, count in rows:
                graph[actor][target] += int(count)
        frontier = {t for a in ask for t in graph.get(a, {})}
    return dict(graph)


def own_texts(connection: sa.Connection, limit: int = 1000) -> list[str]:
    """The text of the user's own latest posts and replies (not reposts), all platforms."""
    own = sa.select(accounts.c.platform, accounts.c.id).where(accounts.c.is_self).subquery()
    rows = connection.execute(
        sa.select(posts.c.text)
        .select_from(
            posts.join(own, (posts.c.platform == own.c.platform) & (posts.c.author_id == own.c.id))
        )
        .where(posts.c.kind != PostKind.REPOST.value)
        .order_by(posts.c.created_at.desc())
        .limit(limit)
    )
    return [text for (text,) in rows if text]


def network_engagement(connection: sa.Connection) -> list[tuple[int, float]]:
    """(followers, mean likes + reposts per original post) of every other account whose
    follower count and post counts the store knows."""
    per_post = posts.c.like_count + sa.func.coalesce(posts.c.repost_count, 0)
    rows = connection.execute(
        sa.select(accounts.c.followers_count, sa.func.avg(per_post))
        .select_from(
            posts.join(
                accounts,
                (posts.c.platform == accounts.c.platform) & (posts.c.author_id == accounts.c.id),
            )
        )
        .where(~accounts.c.is_self)
        .where(accounts.c.followers_count > 0)
        .where(posts.c.like_count.is_not(None))
        .where(posts.c.kind != PostKind.REPOST.value)
        .group_by(accounts.c.platform, accounts.c.id, accounts.c.followers_count)
    )
    return [(int(f), float(v)) for f, v in rows if v is not None]


def followers(connection: sa.Connection) -> tuple[int, list[StoredAccount]]:
    """How many followers the user has (all platforms), and the stored profiles of those
    whose profile has anything to score (a creation date or a follower count)."""
    own = sa.select(accounts.c.platform, accounts.c.id).where(accounts.c.is_self).subquery()
    edges = follows.join(
        own,
        (follows.c.platform == own.c.platform)
        & (follows.c.followee_id == own.c.id)
        & current_follow,
    )
    total = int(connection.execute(sa.select(sa.func.count()).select_from(edges)).scalar_one())
    rows = connection.execute(
        sa.select(accounts)
        .select_from(
            edges.join(
                accounts,
                (accounts.c.platform == follows.c.platform)
                & (accounts.c.id == follows.c.follower_id),
            )
        )
        .where(sa.or_(accounts.c.created_at.is_not(None), accounts.c.followers_count.is_not(None)))
        .order_by(accounts.c.platform, accounts.c.id)
    )
    return total, [_account(row) for row in rows]


@dataclass(frozen=True, slots=True)
class Counts:
    """What the store itself counts for an account: its follow edges and its posts."""

    followers: int
    following: int
    posts: int


def counts(connection: sa.Connection, platform: str, account_id: str) -> Counts:
    """Followers and following from the stored follow edges that are current (not ended
    by an unfollow), and the stored posts, of one account (for the user's own account,
    whose export holds these lists)."""

    def count(query: sa.Select[Any]) -> int:
        return int(connection.execute(query).scalar_one())

    on = (follows.c.platform == platform) & current_follow
    return Counts(
        followers=count(
            sa.select(sa.func.count()).where(on & (follows.c.followee_id == account_id))
        ),
        following=count(
            sa.select(sa.func.count()).where(on & (follows.c.follower_id == account_id))
        ),
        posts=count(
            sa.select(sa.func.count()).where(
                (posts.c.platform == platform) & (posts.c.author_id == account_id)
            )
        ),
    )


#: Interactions that show attention between two accounts (likes included; bookmarks are
#: private and say nothing to the other side).
ATTENTION = (*TALK, InteractionKind.LIKE.value)


@dataclass(frozen=True, slots=True)
class Tie:
    """One weighted tie of the user's own graph: ``source`` did ``kind`` to ``target``
    ``count`` times (``kind`` is an interaction kind, or ``follow``)."""

    platform: str
    source: str
    target: str
    kind: str
    count: int


def own_graph(connection: sa.Connection) -> tuple[dict[str, str], list[Tie], dict[str, str]]:
    """The user's own graph, every platform: the user's account per platform, every tie
    between the user and others (interactions both ways, follows both ways), and the ties
    among those others (so their communities show): their interactions and follows that
    the store holds, and ``together`` ties between accounts the user addressed in the same
    post; plus a handle per account known."""
    own = {
        row.platform: row.id
        for row in connection.execute(
            sa.select(accounts.c.platform, accounts.c.id).where(accounts.c.is_self)
        )
    }
    ties: list[Tie] = []
    others: dict[str, set[str]] = defaultdict(set)
    for platform, me in own.items():
        on = (interactions.c.platform == platform) & interactions.c.kind.in_(ATTENTION)
        rows = connection.execute(
            sa.select(
                interactions.c.actor_id,
                interactions.c.target_account_id,
                interactions.c.kind,
                sa.func.count(),
            )
            .where(on & interactions.c.target_account_id.is_not(None))
            .where((interactions.c.actor_id == me) | (interactions.c.target_account_id == me))
            .group_by(
                interactions.c.actor_id, interactions.c.target_account_id, interactions.c.kind
            )
        )
        for actor, target, kind, count in rows:
            if actor != target:
                ties.append(Tie(platform, actor, target, kind, int(count)))
                others[platform].add(target if actor == me else actor)
        # Accounts the user addressed in one post (a reply with mentions, a post naming
        # several people) were talked to together: a tie between them, from the export.
        together: dict[str, set[str]] = defaultdict(set)
        for via, target in connection.execute(
            sa.select(interactions.c.via_post_id, interactions.c.target_account_id)
            .where(interactions.c.platform == platform)
            .where(interactions.c.actor_id == me)
            .where(interactions.c.kind.in_(TALK))
            .where(interactions.c.via_post_id.is_not(None))
            .where(interactions.c.target_account_id.is_not(None))
        ):
            if target != me:
                together[via].add(target)
        pairs: Counter[tuple[str, str]] = Counter()
        for group in together.values():
            named = sorted(group)
            pairs.update((a, b) for i, a in enumerate(named) for b in named[i + 1 :])
        ties += [Tie(platform, a, b, "together", n) for (a, b), n in pairs.items()]
        edges = connection.execute(
            sa.select(follows.c.follower_id, follows.c.followee_id).where(
                (follows.c.platform == platform)
                & current_follow
                & ((follows.c.follower_id == me) | (follows.c.followee_id == me))
            )
        )
        for follower, followee in edges:
            if follower != followee:
                ties.append(Tie(platform, follower, followee, "follow", 1))
                others[platform].add(followee if follower == me else follower)
    for platform, people in others.items():
        ask = sorted(people)
        for start in range(0, len(ask), 500):
            part = ask[start : start + 500]
            rows = connection.execute(
                sa.select(
                    interactions.c.actor_id,
                    interactions.c.target_account_id,
                    interactions.c.kind,
                    sa.func.count(),
                )
                .where(interactions.c.platform == platform)
                .where(interactions.c.kind.in_(ATTENTION))
                .where(interactions.c.actor_id.in_(part))
                .where(interactions.c.target_account_id.in_(ask))
                .group_by(
                    interactions.c.actor_id, interactions.c.target_account_id, interactions.c.kind
                )
            )
            ties += [Tie(platform, a, t, k, int(n)) for a, t, k, n in rows if a != t]
            edges = connection.execute(
                sa.select(follows.c.follower_id, follows.c.followee_id)
                .where((follows.c.platform == platform) & current_follow)
                .where(follows.c.follower_id.in_(part))
                .where(follows.c.followee_id.in_(ask))
            )
            ties += [Tie(platform, a, b, "follow", 1) for a, b in edges if a != b]
    handles: dict[str, str] = {}
    for platform, people in others.items():
        ask = sorted(people | {own[platform]})
        for start in range(0, len(ask), 500):
            rows = connection.execute(
                sa.select(accounts.c.id, accounts.c.handle)
                .where(accounts.c.platform == platform)
                .where(accounts.c.id.in_(ask[start : start + 500]))
                .where(accounts.c.handle.is_not(None))
            )
            handles.update({f"{platform}:{i}": h for i, h in rows})
    return own, ties, handles
