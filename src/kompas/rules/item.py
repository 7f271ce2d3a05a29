"""What a rule sees: one item (a feed entry, a timeline post, or one of the user's own
actions) with the fields the conditions test, lowercased and split once so every rule
reads them for free."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate, chain, compress, count
from operator import attrgetter
from typing import Any

import numpy

from kompas.errors import KompasError
from kompas.model import FeedItem
from kompas.rules.regexes import Budget

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
    post an action answers, likes or shares; ``counts`` holds public numbers; ``account``
    is the author's account as ``platform:account_id`` (timeline posts), which
    ``score_by: relationship`` and ``quiet_first`` look up.
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
    account: str | None = None

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
        strings = ("title", "text", "url", "author", "language", "kind", "account")
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
            account=data.get("account") or None,
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
            "account": self.account,
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
    "account",
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
        "budget",
        "full",
        "hay",
        "item",
        "now",
        "spent",
        "timed_out",
    )

    def __init__(self, item: Item, now: datetime, budget: Budget | None = None) -> None:
        self.item = item
        self.now = now
        #: The regex time budget (of the run, else started on the first search), the
        #: seconds this item used of it, and whether it ran out.
        self.budget = budget
        self.spent = 0.0
        self.timed_out = False
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


# --- Many items at once -------------------------------------------------------------
#
# ``RuleSet.decide_all`` judges items a batch at a time, column by column: each condition
# answers for the whole batch with a bitmask (bit ``i`` set: the condition holds for item
# ``i``), so substring tests run once over the batch's joined text in C, and Python only
# touches the items a condition actually has to look at.

#: Optional: one pass over a batch for all of a rule file's substrings at once.
BytesAhoCorasick: Any
try:
    _ahocorasick = importlib.import_module("ahocorasick_rs")
    BytesAhoCorasick = _ahocorasick.BytesAhoCorasick
    _DFA = _ahocorasick.Implementation.DFA
except ImportError:  # pragma: no cover (then each substring is its own str.find scan)
    BytesAhoCorasick = _DFA = None


class Needles:
    """All the substrings a rule file looks for in one field, matched together (with the
    characters :meth:`Haystack.risky` looks for, so one pass answers that too)."""

    __slots__ = ("automaton", "order")

    def __init__(self, needles: Iterable[str]) -> None:
        # One-character ASCII needles stay out: a test per string finds those fastest.
        wanted = {n for n in needles if len(n.encode("utf-8", "surrogatepass")) > 1}
        self.order = tuple(sorted(wanted | set(FOLD_RISKY_CHARS))) if wanted else ()
        self.automaton: Any = None
        if BytesAhoCorasick is not None and self.order:
            encoded = [n.encode("utf-8", "surrogatepass") for n in self.order]
            small = sum(map(len, encoded)) <= 4096  # a DFA is fastest, but grows with them
            self.automaton = BytesAhoCorasick(encoded, implementation=_DFA if small else None)


_TO_CHARS = bytes.maketrans(b"\x00\x01", b"01")
_TO_FLAGS = bytes.maketrans(b"01", b"\x00\x01")
_NOT = bytes.maketrans(b"\x00\x01", b"\x01\x00")


def flags_to_mask(flags: bytes | bytearray) -> int:
    """One byte per item (0 or 1) → a bitmask with bit ``i`` set for each 1."""
    return int(flags.translate(_TO_CHARS)[::-1], 2) if flags else 0


def mask_to_flags(mask: int, size: int) -> bytes:
    """A bitmask → ``size`` bytes, one per item (0 or 1)."""
    return bin(mask)[:1:-1].ljust(size, "0").encode("ascii").translate(_TO_FLAGS)


def indices(mask: int) -> list[int]:
    """The positions of the set bits of ``mask``, in order."""
    return list(compress(count(), bin(mask)[:1:-1].encode("ascii").translate(_TO_FLAGS)))


def mask_of(positions: Iterable[int], size: int) -> int:
    """A bitmask with the bits at ``positions`` set."""
    flags = bytearray(size)
    for i in positions:
        flags[i] = 1
    return flags_to_mask(flags)


class Haystack:
    """Strings of a batch (one per item), searched for all of a rule file's substrings in
    one pass over their UTF-8 joined by NUL; a match is credited to the item it lies
    entirely inside (one that spans a separator is skipped, so NULs in text are safe)."""

    __slots__ = (
        "_encoded",
        "_found",
        "_needles",
        "_risky",
        "size",
        "strings",
    )

    def __init__(self, strings: list[str], needles: Needles | None = None) -> None:
        self.strings = strings
        self._needles = needles
        self.size = len(strings)
        self._found: dict[str, int] = {}
        self._risky: int | None = None
        self._encoded: tuple[bytes, Any] | None = None

    def having(self, needle: str, candidates: int) -> int:
        """The candidates whose string contains ``needle``."""
        known = self._found.get(needle)
        if known is not None:
            return known & candidates
        needles = self._needles
        if needles is not None and needles.automaton is not None and needle in needles.order:
            self._match_all(needles)
            return self._found[needle] & candidates
        strings = self.strings
        if candidates.bit_count() * 8 < self.size:  # few candidates: test each one
            return mask_of((i for i in indices(candidates) if needle in strings[i]), self.size)
        mask = flags_to_mask(bytes([needle in string for string in strings]))
        self._found[needle] = mask
        return mask & candidates

    def having_any(self, needles: Iterable[str], candidates: int) -> int:
        """The candidates whose string contains at least one of ``needles``."""
        found = 0
        for needle in needles:
            hit = self.having(needle, candidates)
            if hit:
                found |= hit
                candidates ^= hit
                if not candidates:
                    break
        return found

    def encoded(self) -> tuple[bytes, Any]:
        """The strings in UTF-8 joined by NUL, and where each starts (a numpy array
        whose last entry is the length plus one)."""
        if self._encoded is None:
            encoded = [s.encode("utf-8", "surrogatepass") for s in self.strings]
            starts = numpy.fromiter(
                accumulate(map((1).__add__, map(len, encoded)), initial=0),
                dtype=numpy.int64,
                count=self.size + 1,
            )
            self._encoded = (b"\x00".join(encoded), starts)
        return self._encoded

    def _match_all(self, needles: Needles) -> None:
        """Every needle's mask from one automaton pass over the batch's UTF-8 bytes
        (byte matches of UTF-8 are character matches: the encoding self-synchronises)."""
        self._needles = None
        joined, starts = self.encoded()
        matches = needles.automaton.find_matches_as_indexes(joined, True)
        spans = numpy.fromiter(
            chain.from_iterable(matches), dtype=numpy.int64, count=3 * len(matches)
        ).reshape(-1, 3)
        owner = numpy.searchsorted(starts, spans[:, 1], side="right") - 1
        inside = spans[:, 2] < starts[owner + 1]  # not across a separator
        # One row of flags per needle, packed to bits: row k is needle k's mask.
        flags = numpy.zeros((len(needles.order), self.size), dtype=numpy.uint8)
        flags[spans[inside, 0], owner[inside]] = 1
        rows = numpy.packbits(flags, axis=1, bitorder="little")
        for needle, row in zip(needles.order, rows, strict=True):
            self._found[needle] = int.from_bytes(row.tobytes(), "little")

    def risky(self) -> int:
        """The items whose string has a character that lowercasing does not map
        exactly (see :meth:`Prepared.foldsafe`)."""
        needles = self._needles
        if self._risky is None and (
            FOLD_RISKY_CHARS[0] in self._found
            or (needles is not None and needles.automaton is not None)
        ):  # the automaton's one pass looked for them already
            self._risky = self.having_any(FOLD_RISKY_CHARS, (1 << self.size) - 1)
        if self._risky is None:
            strings, search = self.strings, FOLD_RISKY.search
            ascii_flags = bytes(map(str.isascii, strings))
            if all(ascii_flags):
                self._risky = 0
            else:  # only non-ASCII strings can be risky; most strings are ASCII
                others = compress(count(), ascii_flags.translate(_NOT))
                self._risky = mask_of((i for i in others if search(strings[i])), self.size)
        return self._risky


#: ASCII → b" " for the characters ``str.split()`` splits on (it also splits on
#: \x1c-\x1f), b"x" for the others.
_WORD_BYTES = bytes.maketrans(
    bytes(range(128)), bytes(32 if chr(c).isspace() else 120 for c in range(128))
)


class Batch:
    """A batch of items as columns, each computed on first use and kept for every rule
    of the batch; ``all`` is the mask of every item."""

    __slots__ = (
        "_columns",
        "_distinct",
        "_fulls",
        "_needles",
        "_tags",
        "_text",
        "_titles",
        "_titles_raw",
        "_words",
        "all",
        "budget",
        "items",
        "now",
        "size",
        "spent",
        "timed_out",
    )

    def __init__(
        self,
        items: Sequence[Item],
        now: datetime,
        needles: tuple[Needles | None, Needles | None] = (None, None),
        budget: Budget | None = None,
    ) -> None:
        self.items = items
        self.now = now
        #: The run's regex time budget, the seconds each item used of it (by position),
        #: and the mask of the items that ran out of it.
        self.budget = budget or Budget.start()
        self.spent: dict[int, float] = {}
        self.timed_out = 0
        self._needles = needles
        self.size = len(items)
        self.all = (1 << self.size) - 1
        self._columns: dict[str, list[Any]] = {}
        self._distinct: dict[str, set[Any]] = {}
        self._fulls: list[str] | None = None
        self._text: Haystack | None = None
        self._titles: Haystack | None = None
        self._titles_raw: Haystack | None = None
        self._tags: dict[str, int] | None = None
        self._words: list[int] | None = None

    def column(self, name: str) -> list[Any]:
        """One field of every item."""
        values = self._columns.get(name)
        if values is None:
            values = self._columns[name] = list(map(attrgetter(name), self.items))
        return values

    def where(self, name: str, holds: Callable[[Any], bool], candidates: int) -> int:
        """The candidates whose field ``name`` satisfies ``holds`` (asked once per
        distinct value: languages, authors, sources and kinds repeat a lot)."""
        values = self.column(name)
        distinct = self._distinct.get(name)
        if distinct is None:
            try:
                distinct = self._distinct[name] = set(values)
            except TypeError:  # unhashable values (a list given for a tuple): one by one
                return flags_to_mask(bytes([holds(v) for v in values])) & candidates
        good = {v for v in distinct if holds(v)}
        if not good:
            return 0
        if len(good) == len(distinct):
            return candidates
        return flags_to_mask(bytes(map(good.__contains__, values))) & candidates

    def fulls(self) -> list[str]:
        """Title and text of each item as written (what text regexes search)."""
        if self._fulls is None:
            self._fulls = [
                f"{title}\n{text}" if title else text
                for title, text in zip(self.column("title"), self.column("text"), strict=True)
            ]
        return self._fulls

    def text(self) -> Haystack:
        """Title and text of each item, lowercased."""
        if self._text is None:
            self._text = Haystack(list(map(str.lower, self.fulls())), self._needles[0])
        return self._text

    def titles(self) -> Haystack:
        """Each item's title, lowercased."""
        if self._titles is None:
            titles = list(map(str.lower, self.column("title")))
            self._titles = Haystack(titles, self._needles[1])
        return self._titles

    def titles_raw(self) -> Haystack:
        """Each item's title as written (for :meth:`Haystack.risky`)."""
        if self._titles_raw is None:
            self._titles_raw = Haystack(self.column("title"))
        return self._titles_raw

    def words(self) -> list[int]:
        """Each item's word count (``counts["words"]`` when given)."""
        if self._words is None:
            table = _WORD_BYTES
            counted = [  # len(full.split()), without building the words when ASCII
                (marks := full.encode("ascii").translate(table)).count(b" x") + (marks[:1] == b"x")
                if full.isascii()
                else len(full.split())
                for full in self.fulls()
            ]
            self._words = [
                counted[i] if (given := counts.get("words")) is None else given
                for i, counts in enumerate(self.column("counts"))
            ]
        return self._words

    def tag_masks(self, wanted: Iterable[str] | None = None) -> dict[str, int]:
        """Lowercased tag → the items that have it (their own, and those that rules
        of this batch gave so far: the engine adds them as rules fire). Only the
        ``wanted`` tags (those rules test; ``None``: all) are looked up in their own tags."""
        if self._tags is None:
            column = self.column("tags")
            self._tags = {}
            try:
                distinct = set(column)
            except TypeError:  # unhashable (a list given for a tuple): each item alone
                column = [tuple(tags) for tags in column]
                distinct = set(column)
            if wanted is None:
                wanted = {t.lower() for tags in distinct for t in tags}
            for tag in wanted:
                having = {tags for tags in distinct if any(t.lower() == tag for t in tags)}
                if having:
                    self._tags[tag] = flags_to_mask(bytes(map(having.__contains__, column)))
        return self._tags
