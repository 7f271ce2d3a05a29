"""The records every part of kompas speaks.

Sources produce them, the store keeps them, the pillars read them. Every record carries its
``platform`` and the platform's own id, so re-importing the same export is idempotent.
Times are timezone-aware UTC datetimes; ids are strings; counts are ints.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Platform(StrEnum):
    """The platforms kompas reads. The values are the keys of ``kompas status --json``."""

    X = "x"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    LINKEDIN = "linkedin"


class PostKind(StrEnum):
    """What a post is, from its author's point of view."""

    POST = "post"
    REPLY = "reply"
    REPOST = "repost"
    QUOTE = "quote"


class InteractionKind(StrEnum):
    """Who did what to whom: the raw material of the community pillar."""

    REPLY = "reply"
    MENTION = "mention"
    REPOST = "repost"
    QUOTE = "quote"
    LIKE = "like"
    BOOKMARK = "bookmark"
    FOLLOW = "follow"


@dataclass(frozen=True, slots=True)
class Account:
    """A person or organisation on a platform; ``is_self`` marks the user's own account."""

    platform: Platform
    id: str
    handle: str | None = None
    display_name: str | None = None
    url: str | None = None
    bio: str | None = None
    created_at: datetime | None = None
    followers_count: int | None = None
    following_count: int | None = None
    posts_count: int | None = None
    is_self: bool = False
    is_bot: bool | None = None


@dataclass(frozen=True, slots=True)
class Post:
    """Something an account published: an original post, a reply, a repost or a quote.

    ``html`` keeps platform HTML exactly as received (never displayed unsanitised);
    ``text`` is its plain-text form, used for analysis.
    """

    platform: Platform
    id: str
    author_id: str
    created_at: datetime | None
    kind: PostKind = PostKind.POST
    text: str = ""
    html: str | None = None
    language: str | None = None
    url: str | None = None
    reply_to_id: str | None = None
    reply_to_author_id: str | None = None
    quote_of_id: str | None = None
    repost_of_id: str | None = None
    repost_of_author_id: str | None = None
    conversation_id: str | None = None
    mentions: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    like_count: int | None = None
    repost_count: int | None = None
    reply_count: int | None = None
    quote_count: int | None = None
    client: str | None = None


@dataclass(frozen=True, slots=True)
class Follow:
    """``follower_id`` follows ``followee_id``; ``followed_at`` when the export knows it."""

    platform: Platform
    follower_id: str
    followee_id: str
    followed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FollowList:
    """An export holds the *complete* ``side`` list of ``account_id`` ("followers": who
    follows it, "following": whom it follows) as it was at ``taken_at``; edges of that list
    it does not hold had ended by then (unfollows). Emitted after the list's ``Follow``s."""

    platform: Platform
    account_id: str
    side: str
    taken_at: datetime


@dataclass(frozen=True, slots=True)
class Interaction:
    """``actor_id`` did ``kind`` to an account and/or a post, at ``created_at`` when known.

    ``via_post_id`` is the post that carries the interaction (the reply itself, the post
    with the mention); it keeps two mentions of the same person in two posts apart.
    """

    platform: Platform
    kind: InteractionKind
    actor_id: str
    target_account_id: str | None = None
    target_post_id: str | None = None
    via_post_id: str | None = None
    created_at: datetime | None = None

    @property
    def id(self) -> str:
        """A stable id, the same on every re-import of the same export."""
        return interaction_id(
            self.kind.value,
            self.actor_id,
            self.target_account_id,
            self.target_post_id,
            self.via_post_id,
        )


def interaction_id(
    kind: str,
    actor_id: str,
    target_account_id: str | None,
    target_post_id: str | None,
    via_post_id: str | None,
) -> str:
    """The stable id of an :class:`Interaction` with these fields (``kind`` as its value), for
    parsers that build rows without the record."""
    key = "\x1f".join(
        (kind, actor_id, target_account_id or "", target_post_id or "", via_post_id or "")
    )
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class FeedSubscription:
    """A feed the user follows, from an OPML list."""

    url: str
    title: str | None = None
    html_url: str | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed or timeline, as the rules pillar sees it."""

    id: str
    source: str
    title: str = ""
    text: str = ""
    url: str | None = None
    author: str | None = None
    published: datetime | None = None
    language: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


Record = Account | Post | Follow | FollowList | Interaction | FeedSubscription
