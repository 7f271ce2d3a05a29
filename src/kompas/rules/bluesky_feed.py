"""A Bluesky feed generator made of the user's rules: the posts a route ``feed:NAME``
collects, served as ``app.bsky.feed.getFeedSkeleton`` pages, with the documents a feed
generator must serve (``describeFeedGenerator``, ``/.well-known/did.json``).

Pure: the HTTP app (:mod:`kompas.web.feedgen`) reads the store and calls these. The
skeleton is in rule order: highest score first, then newest, then by item id, and its
cursor is the position of the last post given, so pages stay stable while new posts
arrive (they sort in front, never into a page already read).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kompas.errors import KompasError
from kompas.store.feeds import RoutedPost

GENERATOR = "app.bsky.feed.generator"
#: A did:web names a host (``:`` before a port is written ``%3A``); no paths for services.
DID_WEB = re.compile(r"^did:web:([a-z0-9.-]+(?:%3[aA][0-9]{1,5})?)$")
MAX_LIMIT = 100
DEFAULT_LIMIT = 50


class BadFeedRequest(KompasError):
    """A skeleton request the generator cannot answer (XRPC ``InvalidRequest``)."""


@dataclass(frozen=True, slots=True)
class Skeleton:
    """One page of a feed: post at-uris in rule order, and the cursor of the next page."""

    posts: list[str]
    cursor: str | None

    def as_json(self) -> dict[str, Any]:
        """The ``app.bsky.feed.getFeedSkeleton`` output."""
        body: dict[str, Any] = {"feed": [{"post": uri} for uri in self.posts]}
        if self.cursor is not None:
            body["cursor"] = self.cursor
        return body


def check_service_did(did: str) -> str:
    """``did`` if it is a ``did:web`` a feed generator can be reached at; else an error."""
    if not DID_WEB.match(did):
        raise KompasError(
            f"{did!r} is not a did:web service DID (expected did:web:HOST, e.g. "
            "did:web:feeds.example.com, for the host that serves the feed over HTTPS)"
        )
    return did


def service_endpoint(service_did: str) -> str:
    """The HTTPS origin a ``did:web`` names (where Bluesky's AppView calls the feed);
    ``localhost`` is reached over plain HTTP, as atproto's own did:web resolver does."""
    host = re.sub("%3[aA]", ":", check_service_did(service_did).removeprefix("did:web:"))
    scheme = "http" if host.split(":")[0] == "localhost" else "https"
    return f"{scheme}://{host}"


def feed_uri(publisher_did: str, name: str) -> str:
    """The at-uri of the feed: the generator record ``NAME`` in the publisher's repo."""
    return f"at://{publisher_did}/{GENERATOR}/{name}"


def did_document(service_did: str) -> dict[str, Any]:
    """``/.well-known/did.json`` of the generator: who it is and where it answers."""
    return {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": service_did,
        "service": [
            {
                "id": "#bsky_fg",
                "type": "BskyFeedGenerator",
                "serviceEndpoint": service_endpoint(service_did),
            }
        ],
    }


def describe(service_did: str, feeds: Iterable[str]) -> dict[str, Any]:
    """``app.bsky.feed.describeFeedGenerator``: the generator's DID and its feeds."""
    return {"did": service_did, "feeds": [{"uri": uri} for uri in feeds]}


def _micros(post: RoutedPost) -> int:
    return round(post.published.timestamp() * 1_000_000) if post.published else 0


def _key(post: RoutedPost) -> tuple[int, int, str]:
    return (-post.score, -_micros(post), post.item_id)


def _cursor(post: RoutedPost) -> str:
    return f"{post.score}:{_micros(post)}:{post.item_id}"


def _position(cursor: str) -> tuple[int, int, str]:
    parts = cursor.split(":")
    try:
        score, micros, item_id = int(parts[0]), int(parts[1]), parts[2]
    except (IndexError, ValueError):
        raise BadFeedRequest(f"malformed cursor {cursor[:80]!r}") from None
    if len(parts) != 3 or not item_id:
        raise BadFeedRequest(f"malformed cursor {cursor[:80]!r}")
    return (-score, -micros, item_id)


def skeleton(
    posts: Iterable[RoutedPost], limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Skeleton:
    """The page of ``limit`` posts after ``cursor`` (from the start without one)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadFeedRequest(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    ranked = sorted(posts, key=_key)
    if cursor:
        after = _position(cursor)
        ranked = [p for p in ranked if _key(p) > after]
    page = ranked[:limit]
    following = _cursor(page[-1]) if len(ranked) > limit else None
    return Skeleton([p.post_id for p in page], following)


def generator_record(
    service_did: str, display_name: str, description: str | None, now: datetime | None = None
) -> dict[str, Any]:
    """The ``app.bsky.feed.generator`` record that publishes the feed on Bluesky."""
    record: dict[str, Any] = {
        "$type": GENERATOR,
        "did": check_service_did(service_did),
        "displayName": display_name,
        "createdAt": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    if description:
        record["description"] = description
    return record
