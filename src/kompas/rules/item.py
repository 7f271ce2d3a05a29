"""What a rule sees: one item (a feed entry, a timeline post, or one of the user's own
actions) with the fields the conditions test, lowercased and split once so every rule
reads them for free."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kompas.errors import KompasError
from kompas.model import FeedItem

#: The numeric counts a rule may test (``count: {likes: {min: 10}}``).
COUNT_NAMES = ("likes", "reposts", "replies", "quotes", "words", "links")


class ItemError(KompasError):
    """An item given as JSON could not be read."""


def domain_of(url: str) -> str:
    """The lowercase host of ``url`` without ``www.`` (``""`` when there is none).

    Hand-rolled (no ``urlsplit``) because rules ask it of every link of every item."""
    start = url.find("://")
    if start == -1:
        return ""
    rest = url[start + 3 :]
    for stop in "/?#":
        cut = rest.find(stop)
        if cut != -1:
            rest = rest[:cut]
    host = rest.rpartition("@")[2]
    # An IPv6 literal keeps its brackets; otherwise the port goes.
    host = host[: host.find("]") + 1] if host.startswith("[") else host.partition(":")[0]
    return host.strip().lower().rstrip(".").removeprefix("www.")


@dataclass(frozen=True, slots=True)
class Item:
    """A :class:`~kompas.model.FeedItem` plus what rules over one's own activity need.

    ``kind`` is ``entry`` for feed entries, or a post/interaction kind (``post``,
    ``reply``, ``like``…) for the user's own activity; ``to_tags`` are the tags of the
    post an action answers, likes or shares; ``counts`` holds public numbers.
    """

    id: str
    source: str
    title: str = ""
    text: str = ""
    url: str | None = None
    author: str | None = None
    published: datetime | None = None
    language: str | None = None
    tags: tuple[str, ...] = ()
    kind: str = "entry"
    to_tags: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_feed_item(cls, item: FeedItem, **extra: Any) -> Item:
        """The rules' view of a model ``FeedItem`` (extra fields by keyword)."""
        return cls(
            id=item.id,
            source=item.source,
            title=item.title,
            text=item.text,
            url=item.url,
            author=item.author,
            published=item.published,
            language=item.language,
            tags=item.tags,
            **extra,
        )

    @classmethod
    def from_json(cls, data: Any) -> Item:
        """An item from one JSON object with ``FeedItem``'s fields (and ``kind``,
        ``to_tags``, ``links``, ``counts``); raises :class:`ItemError` saying what is wrong."""
        if not isinstance(data, dict):
            raise ItemError("expected a JSON object with the fields of a FeedItem")
        unknown = set(data) - _JSON_FIELDS
        if unknown:
            raise ItemError(f"unknown field(s) {sorted(unknown)}; known: {sorted(_JSON_FIELDS)}")
        for name in ("id", "source"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise ItemError(f"field {name!r} must be a non-empty string")
        strings = ("title", "text", "url", "author", "language", "kind")
        for name in strings:
            if data.get(name) is not None and not isinstance(data[name], str):
                raise ItemError(f"field {name!r} must be a string")
        lists = ("tags", "to_tags", "links")
        for name in lists:
            value = data.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ItemError(f"field {name!r} must be a list of strings")
        counts = data.get("counts", {})
        if not isinstance(counts, dict) or not all(
            k in COUNT_NAMES and isinstance(v, int) and not isinstance(v, bool)
            for k, v in counts.items()
        ):
            raise ItemError(f"field 'counts' must map some of {list(COUNT_NAMES)} to integers")
        published = data.get("published")
        when: datetime | None = None
        if published is not None:
            try:
                when = datetime.fromisoformat(str(published).replace("Z", "+00:00"))
            except ValueError as exc:
                raise ItemError(f"field 'published' is not an ISO 8601 time: {exc}") from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
        return cls(
            id=data["id"],
            source=data["source"],
            title=data.get("title") or "",
            text=data.get("text") or "",
            url=data.get("url"),
            author=data.get("author"),
            published=when,
            language=data.get("language"),
            tags=tuple(data.get("tags", ())),
            kind=data.get("kind") or "entry",
            to_tags=tuple(data.get("to_tags", ())),
            links=tuple(data.get("links", ())),
            counts=dict(counts),
        )

    def as_json(self) -> dict[str, Any]:
        """The item as a JSON object (the shape :meth:`from_json` reads)."""
        return {
            "id": self.id,
            "source": self.source,
            "title": self.title,
            "text": self.text,
            "url": self.url,
            "author": self.author,
            "published": self.published.isoformat() if self.published else None,
            "language": self.language,
            "tags": list(self.tags),
            "kind": self.kind,
            "to_tags": list(self.to_tags),
            "links": list(self.links),
            "counts": dict(self.counts),
        }


_JSON_FIELDS = {
    "id",
    "source",
    "title",
    "text",
    "url",
    "author",
    "published",
    "language",
    "tags",
    "kind",
    "to_tags",
    "links",
    "counts",
}


#: Non-ASCII characters whose lower, upper or case-folded forms contain ASCII letters
#: (computed over all of Unicode; ``tests/test_rules_safety.py`` recomputes it).
FOLD_RISKY_CHARS = (
    "\u00df\u0130\u0131\u0149\u017f\u01f0\u1e96\u1e97\u1e98\u1e99\u1e9a\u1e9e"
    "\u212a\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"
)
FOLD_RISKY = re.compile(f"[{FOLD_RISKY_CHARS}]")


class Prepared:
    """An item's fields in the form conditions test, computed at most once per item.

    Only the lowercased text is computed up front (nearly every rule reads it); the rest
    is computed on first use, so a rule file pays only for the fields it tests.
    """

    __slots__ = (
        "_author",
        "_domains",
        "_foldsafe",
        "_link_text",
        "_source_domain",
        "_tags",
        "_words",
        "full",
        "hay",
        "item",
        "now",
    )

    def __init__(self, item: Item, now: datetime) -> None:
        self.item = item
        self.now = now
        #: Title and text as written (regexes see the case; ``(?i)`` ignores it).
        self.full = f"{item.title}\n{item.text}" if item.title else item.text
        self.hay = self.full.lower()
        self._foldsafe: bool | None = None
        self._author: str | None = None
        self._domains: frozenset[str] | None = None
        self._link_text: str | None = None
        self._words: int | None = None
        self._source_domain: str | None = None
        self._tags: set[str] | None = None

    def author(self) -> str:
        """The author, lowercased."""
        if self._author is None:
            self._author = (self.item.author or "").lower()
        return self._author

    def domains(self) -> frozenset[str]:
        """Domains of the item's URL and links."""
        if self._domains is None:
            self._domains = _domains(self.item.url, self.item.links)
        return self._domains

    def foldsafe(self) -> bool:
        """Whether lowercasing maps case exactly for this text: no character whose case
        forms involve ASCII letters (ß, ſ, ﬁ, K…), so a literal prefilter over ``hay``
        is a sound necessary condition for a case-insensitive regex."""
        if self._foldsafe is None:
            hay = self.hay
            self._foldsafe = hay.isascii() or FOLD_RISKY.search(hay) is None
        return self._foldsafe

    def link_text(self) -> str:
        """The item's URL and links, lowercased, in one string (for quick substring tests)."""
        if self._link_text is None:
            url = self.item.url
            links = self.item.links
            joined = "\n".join((url, *links)) if url else "\n".join(links)
            self._link_text = joined.lower()
        return self._link_text

    def source_domain(self) -> str:
        """The domain of the source, when the source is a URL."""
        if self._source_domain is None:
            self._source_domain = domain_of(self.item.source) if "/" in self.item.source else ""
        return self._source_domain

    def tags(self) -> set[str]:
        """The item's tags so far (its own and those earlier rules gave), lowercased."""
        if self._tags is None:
            self._tags = {t.lower() for t in self.item.tags}
        return self._tags

    def count(self, name: str) -> int | None:
        """A public count by name; ``words`` and ``links`` are computed from the item."""
        value = self.item.counts.get(name)
        if value is None:
            if name == "words":
                if self._words is None:
                    self._words = len(self.full.split())
                return self._words
            if name == "links":
                return len(self.item.links) + (1 if self.item.url else 0)
        return value


def _domains(url: str | None, links: Iterable[str]) -> frozenset[str]:
    found = {domain_of(u) for u in ((url,) if url else ()) + tuple(links)}
    found.discard("")
    return frozenset(found)
