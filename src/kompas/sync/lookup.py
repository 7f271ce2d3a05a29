"""Public account lookup, without the user's credentials: the profile, recent posts and a
bounded sample of followers and follows of any account — Mastodon through the instance's
public endpoints, Bluesky through the public AppView.

The result is plain data (:class:`Lookup`), cached in the store with its fetch time, and
its records are written like an import so the people pillar can query them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from atproto import models

from kompas.model import Account, Follow, Platform, Post, Record
from kompas.store.sync import cache_lookup, cached_lookup
from kompas.store.writer import write_import
from kompas.sync import bluesky, mastodon
from kompas.sync.bluesky_records import post_view_records, profile_record
from kompas.sync.http import RetryPolicy
from kompas.sync.identifiers import PUBLIC_APPVIEW, AccountRef
from kompas.sync.mastodon_records import Resolver, account_record, status_records

POSTS = 20
SAMPLE = 50


@dataclass
class Lookup:
    """What kompas learned about one public account, and when."""

    query: str
    platform: str
    account: dict[str, Any]
    posts: list[dict[str, Any]] = field(default_factory=list)
    followers: list[dict[str, Any]] = field(default_factory=list)
    follows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fetched_at: str = ""
    cached: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The ``kompas lookup --json`` shape."""
        return {
            "query": self.query,
            "platform": self.platform,
            "account": self.account,
            "posts": self.posts,
            "followers": self.followers,
            "follows": self.follows,
            "notes": self.notes,
            "fetched_at": self.fetched_at,
            "cached": self.cached,
        }


def _account_dict(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "handle": account.handle,
        "display_name": account.display_name,
        "url": account.url,
        "bio": account.bio,
        "created_at": account.created_at.isoformat() if account.created_at else None,
        "followers_count": account.followers_count,
        "following_count": account.following_count,
        "posts_count": account.posts_count,
        "is_bot": account.is_bot,
    }


def _brief(account: Account) -> dict[str, Any]:
    return {"id": account.id, "handle": account.handle, "display_name": account.display_name}


def _post_dict(post: Post) -> dict[str, Any]:
    return {
        "id": post.id,
        "url": post.url,
        "created_at": post.created_at.isoformat() if post.created_at else None,
        "kind": post.kind.value,
        "text": post.text,
        "language": post.language,
        "reply_to_id": post.reply_to_id,
        "repost_of_id": post.repost_of_id,
        "like_count": post.like_count,
        "repost_count": post.repost_count,
        "reply_count": post.reply_count,
    }


def _own_posts(records: Iterable[Record], author: str) -> list[Post]:
    return [r for r in records if isinstance(r, Post) and r.author_id == author]


def fetch_mastodon(
    ref: AccountRef, policy: RetryPolicy, posts: int, sample: int
) -> tuple[Lookup, list[Record]]:
    """Look a Mastodon account up on its own instance's public API."""
    assert ref.base_url is not None and ref.host is not None
    api = mastodon.client(ref.base_url, policy)
    user = ref.identifier.split("@", 1)[0]
    found = mastodon.call(f"looking up {ref.identifier}", lambda: api.account_lookup(user))
    resolver = Resolver(ref.host)
    me = account_record(found, home=ref.host)
    resolver.learn_account(found)
    records: list[Record] = [me]
    lookup = Lookup(ref.identifier, Platform.MASTODON.value, _account_dict(me))
    statuses = mastodon.call(
        "fetching recent posts", lambda: api.account_statuses(found["id"], limit=min(posts, 40))
    )
    for status in statuses[:posts]:
        records.extend(status_records(status, resolver))
    lookup.posts = [_post_dict(p) for p in _own_posts(records, me.id)]
    for name, method in (("followers", api.account_followers), ("follows", api.account_following)):
        try:
            people = mastodon.call(
                f"fetching {name}",
                lambda m=method: m(found["id"], limit=min(sample, 80)),  # type: ignore[misc]
            )
        except mastodon.PlatformError as exc:
            lookup.notes.append(f"{name} not public: {exc}")
            continue
        sampled = [account_record(p, home=ref.host) for p in people[:sample]]
        records.extend(sampled)
        for other in sampled:
            pair = (other.id, me.id) if name == "followers" else (me.id, other.id)
            records.append(Follow(Platform.MASTODON, *pair))
        setattr(lookup, name, [_brief(a) for a in sampled])
        hidden = me.followers_count if name == "followers" else me.following_count
        if not people and hidden:
            lookup.notes.append(f"{name}: the account hides this list")
    return lookup, records


def fetch_bluesky(
    ref: AccountRef, policy: RetryPolicy, posts: int, sample: int, appview: str
) -> tuple[Lookup, list[Record]]:
    """Look a Bluesky account up on the public AppView (no login)."""
    api = bluesky.client(appview, policy)
    actor = ref.identifier
    profile = bluesky.call(
        f"looking up {actor}",
        lambda: bluesky.body_of(
            api.invoke_query(
                "app.bsky.actor.getProfile",
                params=models.AppBskyActorGetProfile.Params(actor=actor),
            )
        ),
    )
    me = profile_record(profile)
    records: list[Record] = [me]
    lookup = Lookup(ref.identifier, Platform.BLUESKY.value, _account_dict(me))
    feed = bluesky.call(
        "fetching recent posts",
        lambda: bluesky.body_of(
            api.invoke_query(
                "app.bsky.feed.getAuthorFeed",
                params=models.AppBskyFeedGetAuthorFeed.Params(actor=me.id, limit=min(posts, 100)),
            )
        ),
    )
    reposts = 0
    for item in (feed.get("feed") or [])[:posts]:
        if item.get("reason"):  # a repost: the feed has the reposted post, not the repost record
            reposts += 1
            continue
        records.extend(post_view_records(item["post"]))
    if reposts:
        lookup.notes.append(f"{reposts} reposts among the recent posts are not listed")
    lookup.posts = [_post_dict(p) for p in _own_posts(records, me.id)]
    for name, nsid, params in (
        ("followers", "app.bsky.graph.getFollowers", models.AppBskyGraphGetFollowers.Params),
        ("follows", "app.bsky.graph.getFollows", models.AppBskyGraphGetFollows.Params),
    ):
        body = bluesky.call(
            f"fetching {name}",
            lambda n=nsid, p=params: bluesky.body_of(  # type: ignore[misc]
                api.invoke_query(n, params=p(actor=me.id, limit=min(sample, 100)))
            ),
        )
        sampled = [profile_record(v) for v in (body.get(name) or [])[:sample]]
        records.extend(sampled)
        for other in sampled:
            pair = (other.id, me.id) if name == "followers" else (me.id, other.id)
            records.append(Follow(Platform.BLUESKY, *pair))
        setattr(lookup, name, [_brief(a) for a in sampled])
    return lookup, records


def lookup(
    engine: sa.Engine,
    ref: AccountRef,
    *,
    policy: RetryPolicy,
    max_age: timedelta = timedelta(hours=24),
    refresh: bool = False,
    posts: int = POSTS,
    sample: int = SAMPLE,
    appview: str | None = None,
    now: datetime | None = None,
) -> Lookup:
    """The public view of ``ref``: from the cache when fresh enough, else fetched and cached."""
    now = now or datetime.now(UTC)
    if not refresh:
        hit = cached_lookup(engine, ref.key)
        if hit is not None and now - hit.fetched_at <= max_age:
            payload = dict(hit.payload)
            payload["cached"] = True
            return Lookup(**payload)
    if ref.platform is Platform.MASTODON:
        found, records = fetch_mastodon(ref, policy, posts, sample)
    else:
        view = appview or os.environ.get("KOMPAS_BLUESKY_APPVIEW") or PUBLIC_APPVIEW
        found, records = fetch_bluesky(ref, policy, posts, sample, view)
    found.fetched_at = now.isoformat()
    write_import(engine, records, source="lookup", path=ref.key)
    payload = found.as_dict()
    cache_lookup(engine, ref.key, ref.platform.value, now, payload)
    return found
