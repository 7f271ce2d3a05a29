"""What checking a draft reads from the store: the post it answers (and who wrote it), and
the pages that are the user's own (their profiles, so their own posts)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from kompas.store.community import profile_pages
from kompas.store.schema import accounts, posts


@dataclass(frozen=True, slots=True)
class RepliedPost:
    """The post a draft answers, as far as the store knows it: its author always, its text
    only when the post itself is stored (else its author is known from an earlier reply or
    quote of the user's to it)."""

    platform: str
    id: str
    author_id: str
    author_handle: str | None
    author_is_self: bool
    text: str | None
    url: str | None


def _author(connection: sa.Connection, platform: str, account: str) -> tuple[str | None, bool]:
    row = connection.execute(
        sa.select(accounts.c.handle, accounts.c.is_self).where(
            (accounts.c.platform == platform) & (accounts.c.id == account)
        )
    ).first()
    return (row.handle, bool(row.is_self)) if row else (None, False)


def _candidates(ref: str) -> list[tuple[str | None, str]]:
    """``(platform, id)`` pairs ``ref`` may name: ``PLATFORM:ID`` (as ``kompas strategy
    align`` prints it), or an id or URL on any platform."""
    found: list[tuple[str | None, str]] = []
    platform, colon, rest = ref.partition(":")
    if colon and platform in ("mastodon", "bluesky", "x", "linkedin") and rest:
        found.append((platform, rest))
    found.append((None, ref))
    return found


def replied_post(connection: sa.Connection, ref: str) -> RepliedPost | None:
    """The post ``ref`` names (its platform and id, its id, or its URL), with its author;
    ``None`` when the store knows neither the post nor anything of the user's that answered
    or quoted it."""
    ref = ref.strip()
    if not ref:
        return None
    for platform, post_id in _candidates(ref):
        where = (posts.c.id == post_id) | (posts.c.url == post_id)
        if platform is not None:
            where = (posts.c.platform == platform) & where
        row = connection.execute(
            sa.select(posts.c.platform, posts.c.id, posts.c.author_id, posts.c.text, posts.c.url)
            .where(where)
            .order_by(posts.c.platform, posts.c.id)
            .limit(1)
        ).first()
        if row is not None:
            handle, is_self = _author(connection, row.platform, row.author_id)
            return RepliedPost(
                row.platform, row.id, row.author_id, handle, is_self, row.text or "", row.url
            )
        # Not stored itself: an earlier reply of the user's names its author.
        where = (posts.c.reply_to_id == post_id) & posts.c.reply_to_author_id.is_not(None)
        if platform is not None:
            where = (posts.c.platform == platform) & where
        answer = connection.execute(
            sa.select(posts.c.platform, posts.c.reply_to_author_id)
            .where(where)
            .order_by(posts.c.platform)
            .limit(1)
        ).first()
        if answer is not None:
            handle, is_self = _author(connection, answer.platform, answer.reply_to_author_id)
            return RepliedPost(
                answer.platform, post_id, answer.reply_to_author_id, handle, is_self, None, None
            )
    return None


def own_pages(connection: sa.Connection) -> tuple[str, ...]:
    """The user's own pages: each own account's profile (which holds their own posts) and
    the links of its bio, as the community pillar counts self-promotion."""
    rows = connection.execute(
        sa.select(accounts.c.platform, accounts.c.url, accounts.c.handle, accounts.c.bio).where(
            accounts.c.is_self
        )
    )
    return tuple(
        page for row in rows for page in profile_pages(row.platform, row.url, row.handle, row.bio)
    )
