"""The rows the community pillar reads: the user's own accounts, posts, follow edges, and
every interaction the user gave or received, loaded once as model records.

One query per table keeps the pillar fast (the X sample, ~2k posts and ~9k interactions,
loads in a fraction of a second) and lets :mod:`kompas.community` stay pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from kompas.known_bots import is_known_bot
from kompas.model import Account, Follow, Interaction, InteractionKind, Platform, Post, PostKind
from kompas.store import inbox
from kompas.store.identities import person_keys
from kompas.store.schema import accounts, current_follow, follows, interactions, posts


@dataclass(frozen=True, slots=True)
class CommunityData:
    """Everything the community figures are computed from.

    ``posts`` holds the user's own posts and the posts of others that reply to them;
    ``interactions`` those the user gave (actor is the user) or received (target is the
    user); ``persons`` maps linked accounts to their person (see :mod:`identities`).
    """

    selves: list[Account] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    follows: list[Follow] = field(default_factory=list)
    persons: dict[tuple[str, str], str] = field(default_factory=dict)
    handles: dict[tuple[str, str], str] = field(default_factory=dict)
    #: ``(platform, kind) → count`` of the user's undated interactions with nobody known
    #: (X likes): they can only be counted, so they are counted in SQL, not loaded.
    anonymous: dict[tuple[str, str], int] = field(default_factory=dict)
    #: Accounts that are automated: flagged by the platform or known (``known_bots``).
    automated: set[tuple[str, str]] = field(default_factory=set)
    #: The URL prefixes of the user's own pages (profiles, and so their own posts).
    profile_pages: tuple[str, ...] = ()
    #: Every post that addressed the user, answered or not: the inbox's own rows, so the
    #: reply figures and ``kompas inbox`` never disagree.
    addressed: list[inbox.Addressed] = field(default_factory=list)


def _self_pairs() -> sa.Select[tuple[str, str]]:
    return sa.select(accounts.c.platform, accounts.c.id).where(accounts.c.is_self)


def _is_self(platform: Any, column: Any) -> sa.ColumnElement[bool]:
    return sa.tuple_(platform, column).in_(_self_pairs())


def _post(row: Any) -> Post:
    return Post(
        platform=Platform(row.platform),
        id=row.id,
        author_id=row.author_id,
        created_at=row.created_at,
        kind=PostKind(row.kind),
        reply_to_id=row.reply_to_id,
        reply_to_author_id=row.reply_to_author_id,
        quote_of_id=row.quote_of_id,
        repost_of_id=row.repost_of_id,
        repost_of_author_id=row.repost_of_author_id,
        conversation_id=row.conversation_id,
        mentions=tuple(row.mentions or ()),
        links=tuple(row.links or ()),
        like_count=row.like_count,
        repost_count=row.repost_count,
        reply_count=row.reply_count,
        quote_count=row.quote_count,
    )


def load(
    connection: sa.Connection, platform: str | None = None, rows: bool = True
) -> CommunityData:
    """The user's community rows, on one platform or all of them; without ``rows``, only
    what is about accounts (selves, follows, handles, undated counts), not the posts and
    interactions the grouped queries count in the database."""

    def only(column: Any) -> sa.ColumnElement[bool]:
        return sa.true() if platform is None else column == platform

    selves = [
        Account(
            platform=Platform(row.platform),
            id=row.id,
            handle=row.handle,
            url=row.url,
            bio=row.bio,
            followers_count=row.followers_count,
            following_count=row.following_count,
            posts_count=row.posts_count,
            is_self=True,
        )
        for row in connection.execute(
            sa.select(accounts).where(accounts.c.is_self & only(accounts.c.platform))
        )
    ]
    if not selves:
        return CommunityData(persons=person_keys(connection))
    post_columns = [c for c in posts.columns if c.name not in ("text", "html", "hashtags")]
    own_ids = sa.select(posts.c.platform, posts.c.id).where(
        _is_self(posts.c.platform, posts.c.author_id)
    )
    others = posts.alias("others")
    anonymous_rows = (
        interactions.c.target_account_id.is_(None)
        & interactions.c.created_at.is_(None)
        & interactions.c.kind.in_([InteractionKind.LIKE.value, InteractionKind.BOOKMARK.value])
    )
    anonymous = {
        (row.platform, row.kind): int(row.n)
        for row in connection.execute(
            sa.select(interactions.c.platform, interactions.c.kind, sa.func.count().label("n"))
            .where(
                only(interactions.c.platform)
                & _is_self(interactions.c.platform, interactions.c.actor_id)
                & anonymous_rows
            )
            .group_by(interactions.c.platform, interactions.c.kind)
        )
    }
    found: list[Post] = []
    acts: list[Interaction] = []
    if rows:
        found = [
            _post(row)
            for row in connection.execute(
                sa.select(*post_columns).where(
                    only(posts.c.platform) & _is_self(posts.c.platform, posts.c.author_id)
                )
            )
        ]
        found += [
            _post(row)
            for row in connection.execute(
                sa.select(*(others.c[c.name] for c in post_columns)).where(
                    only(others.c.platform)
                    & ~_is_self(others.c.platform, others.c.author_id)
                    & (
                        _is_self(others.c.platform, others.c.reply_to_author_id)
                        | sa.tuple_(others.c.platform, others.c.reply_to_id).in_(own_ids)
                    )
                )
            )
        ]
        given_or_received = _is_self(interactions.c.platform, interactions.c.actor_id) | _is_self(
            interactions.c.platform, interactions.c.target_account_id
        )
        found_rows = connection.execute(
            sa.select(
                interactions.c.platform,
                interactions.c.kind,
                interactions.c.actor_id,
                interactions.c.target_account_id,
                interactions.c.target_post_id,
                interactions.c.via_post_id,
                interactions.c.created_at,
            ).where(only(interactions.c.platform) & given_or_received & ~anonymous_rows)
        )
        platforms = {p.value: p for p in Platform}
        kinds = {k.value: k for k in InteractionKind}
        acts = [
            Interaction(platforms[r[0]], kinds[r[1]], r[2], r[3], r[4], r[5], r[6])
            for r in found_rows
        ]
    edges = [
        Follow(Platform(row.platform), row.follower_id, row.followee_id, row.followed_at)
        for row in connection.execute(
            sa.select(follows).where(
                only(follows.c.platform)
                & current_follow
                & (
                    _is_self(follows.c.platform, follows.c.follower_id)
                    | _is_self(follows.c.platform, follows.c.followee_id)
                )
            )
        )
    ]
    handles: dict[tuple[str, str], str] = {}
    automated: set[tuple[str, str]] = set()
    for row in connection.execute(
        sa.select(accounts.c.platform, accounts.c.id, accounts.c.handle, accounts.c.is_bot).where(
            only(accounts.c.platform)
            & (accounts.c.handle.is_not(None) | accounts.c.is_bot.is_(True))
        )
    ):
        if row.handle:
            handles[(row.platform, row.id)] = row.handle
        if row.is_bot or is_known_bot(row.platform, row.handle):
            automated.add((row.platform, row.id))
    pages = tuple(
        page
        for me in selves
        for page in profile_pages(
            me.platform.value, me.url, handles.get((me.platform.value, me.id)), me.bio
        )
    )
    return CommunityData(
        selves,
        found,
        acts,
        edges,
        person_keys(connection),
        handles,
        anonymous,
        automated,
        pages,
        inbox.addressed(connection, inbox.selves(connection, platform)),
    )


def profile_pages(
    platform: str, url: str | None, handle: str | None, bio: str | None = None
) -> list[str]:
    """The user's own pages: the profile (under which a platform shows the user's own
    posts) and the links of the user's bio (their site; shorteners are set aside later)."""
    pages = [url] if url else []
    pages += [u.rstrip(".,;:!?") for u in re.findall(r"https?://[^\s<>\"')\]]+", bio or "")]
    if platform == "x" and handle:
        pages += [f"https://x.com/{handle}", f"https://twitter.com/{handle}"]
    if platform == "bluesky" and handle:
        pages.append(f"https://bsky.app/profile/{handle}")
    if platform == "mastodon" and url and "/@" in url:
        host, name = url.split("/@", 1)
        pages.append(f"{host}/users/{name}")
    return pages
