"""Bluesky API views (lexicon JSON) → kompas records, purely.

Repository records go through the same function as a CAR export
(:func:`kompas.sources.bluesky.record_to_records`), so a live sync and an imported repo
land on the same rows (accounts by DID, posts by at-uri). Views of *other* people's
records — notifications, feed items — carry the record itself and its at-uri, and take
the same path with their author's DID.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from kompas.model import Account, Interaction, InteractionKind, Platform, Post, Record
from kompas.sources.bluesky import parse_time, record_to_records

B = Platform.BLUESKY
View = Mapping[str, Any]


def split_at_uri(uri: str) -> tuple[str, str]:
    """``at://DID/COLLECTION/RKEY`` → (DID, ``COLLECTION/RKEY``)."""
    if not uri.startswith("at://"):
        raise ValueError(f"not an at:// URI: {uri!r}")
    did, _, key = uri[5:].partition("/")
    if not did or "/" not in key:
        raise ValueError(f"not a record URI: {uri!r}")
    return did, key


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def profile_record(view: View, *, is_self: bool = False) -> Account:
    """A ``app.bsky.actor.defs#profileView(Basic|Detailed)`` as an :class:`Account`."""
    did = view.get("did")
    if not isinstance(did, str) or not did:
        raise ValueError('a profile view needs a "did"')
    labels = {lab.get("val") for lab in view.get("labels") or [] if isinstance(lab, Mapping)}
    handle = view.get("handle")
    return Account(
        platform=B,
        id=did,
        handle=handle if isinstance(handle, str) and handle != "handle.invalid" else None,
        display_name=view.get("displayName") or None,
        url=f"https://bsky.app/profile/{did}",
        bio=view.get("description") or None,
        created_at=parse_time(view.get("createdAt")),
        followers_count=_count(view.get("followersCount")),
        following_count=_count(view.get("followsCount")),
        posts_count=_count(view.get("postsCount")),
        is_self=is_self,
        is_bot=True if "bot" in labels else None,
    )


def repo_records(did: str, listed: View) -> Iterator[Record]:
    """One ``com.atproto.repo.listRecords`` entry of the user's own repository."""
    uri = listed.get("uri")
    value = listed.get("value")
    if not isinstance(uri, str) or not isinstance(value, Mapping):
        raise ValueError('a listed record needs "uri" and "value"')
    _, key = split_at_uri(uri)
    yield from record_to_records(did, key, dict(value))


def notification_records(view: View, self_did: str) -> Iterator[Record]:
    """One ``app.bsky.notification.listNotifications#notification`` → what someone did.

    The notification carries the record that caused it (the like, the repost, the follow,
    the reply or mention post), which is converted exactly as it would be from that
    person's repository, plus their profile.
    """
    author = view.get("author")
    uri = view.get("uri")
    record = view.get("record")
    if not isinstance(author, Mapping) or not isinstance(uri, str):
        raise ValueError('a notification needs "author" and "uri"')
    yield profile_record(author)
    did, key = split_at_uri(uri)
    if isinstance(record, Mapping):
        yield from record_to_records(did, key, dict(record))
    if view.get("reason") == "follow":
        created = parse_time(
            (record or {}).get("createdAt") if isinstance(record, Mapping) else None
        )
        yield Interaction(B, InteractionKind.FOLLOW, did, self_did, None, None, created)


def post_view_records(view: View) -> Iterator[Record]:
    """An ``app.bsky.feed.defs#postView``: the post (with its public counts) and author."""
    author = view.get("author")
    uri = view.get("uri")
    record = view.get("record")
    if (
        not isinstance(author, Mapping)
        or not isinstance(uri, str)
        or not isinstance(record, Mapping)
    ):
        raise ValueError('a post view needs "author", "uri" and "record"')
    yield profile_record(author)
    did, key = split_at_uri(uri)
    for item in record_to_records(did, key, dict(record)):
        if isinstance(item, Post) and item.id == uri:
            yield dataclasses.replace(
                item,
                like_count=_count(view.get("likeCount")),
                repost_count=_count(view.get("repostCount")),
                reply_count=_count(view.get("replyCount")),
                quote_count=_count(view.get("quoteCount")),
            )
        else:
            yield item


def feed_view_records(view: View) -> Iterator[Record]:
    """An ``app.bsky.feed.defs#feedViewPost`` (a timeline entry): the post, and the posts
    it replies to when the feed carries them (``reply.parent``, ``reply.root``)."""
    post = view.get("post")
    if not isinstance(post, Mapping):
        raise ValueError('a feed entry needs a "post"')
    yield from post_view_records(post)
    reply = view.get("reply")
    if isinstance(reply, Mapping):
        for key in ("parent", "root"):
            context = reply.get(key)
            # A deleted or blocked parent comes as notFoundPost/blockedPost: no record.
            if isinstance(context, Mapping) and isinstance(context.get("record"), Mapping):
                yield from post_view_records(context)
