"""Posts read from a timeline → feed items the rules decide, purely.

A timeline post is stored twice, each time where its readers look: as a :class:`Post` (with
its author's :class:`Account`) for the people and community pillars, and as a feed item for
the rules, named after the timeline it came from (``mastodon:home``,
``mastodon:list:NAME``, ``bluesky:timeline``, ``bluesky:list:NAME``). The item's id comes
from the post's own id, so the same post reached through two timelines is one item (kept
under the first timeline that showed it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from kompas.model import Account, FeedItem, Post, Record
from kompas.store.feeds import NewEntry, SocialPost

#: The counts a timeline post carries, under the names rules use (``count: {likes: …}``).
_COUNTS = (
    ("likes", "like_count"),
    ("reposts", "repost_count"),
    ("replies", "reply_count"),
    ("quotes", "quote_count"),
)


def source_name(platform: str, timeline: str, list_name: str | None = None) -> str:
    """``mastodon:home``, ``bluesky:timeline``, or ``PLATFORM:list:NAME`` for a list."""
    if list_name is not None:
        return f"{platform}:list:{' '.join(list_name.split())}"
    return f"{platform}:{timeline}"


def timeline_item_id(platform: str, post_id: str) -> str:
    """The feed item id of a platform's post: the same in every timeline that shows it."""
    return hashlib.blake2b(f"{platform}\x1f{post_id}".encode(), digest_size=8).hexdigest()


def timeline_entry(post: Post, author: Account | None, source: str) -> NewEntry:
    """One post of a timeline as a feed entry (author by handle, hashtags as tags)."""
    platform = post.platform.value
    handle = author.handle if author is not None and author.handle else None
    item = FeedItem(
        id=timeline_item_id(platform, post.id),
        source=source,
        title="",
        text=post.text,
        url=post.url,
        author=handle or post.author_id,
        published=post.created_at,
        language=post.language,
        tags=post.hashtags,
    )
    counts = {
        name: int(value)
        for name, attribute in _COUNTS
        if (value := getattr(post, attribute)) is not None
    }
    social = SocialPost(platform, post.id, post.author_id, post.kind.value, counts)
    # The hash is the post's identity, not its words: two people saying "good morning" are
    # two items, while the same post under another URL is still caught by its id.
    digest = hashlib.blake2b(f"{platform}\x1f{post.id}".encode(), digest_size=16).hexdigest()
    return NewEntry(item, post.id, post.html, post.links, digest, social)


def timeline_entries(
    records: Iterable[Record], shown: Iterable[str], source: str
) -> list[NewEntry]:
    """The entries for the posts ``shown`` (their ids, in timeline order) among ``records``
    (a page's converted records, which also hold the quoted or boosted posts)."""
    rows = list(records)
    posts = {r.id: r for r in rows if isinstance(r, Post)}
    authors: dict[str, Account] = {}
    for row in rows:  # a mention's bare account must not hide the author's full one
        if isinstance(row, Account) and (row.handle or row.id not in authors):
            authors[row.id] = row
    entries: list[NewEntry] = []
    for post_id in dict.fromkeys(shown):
        post = posts.get(post_id)
        if post is not None:
            entries.append(timeline_entry(post, authors.get(post.author_id), source))
    return entries
