"""Fetching and parsing RSS/Atom feeds: feedparser for the formats, httpx for the wire.

Polite by default: a bounded number of requests at once (and fewer per host), a deadline
per feed, a size cap read as the body streams in, and conditional GET (ETag and
Last-Modified) so an unchanged feed costs one 304. A feed that fails is reported with its
reason and never stops the others.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import xml.sax
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import httpx

from kompas.errors import SourceError
from kompas.model import FeedItem
from kompas.text import html_to_text

USER_AGENT = "kompas (local-first feed reader)"
DEFAULT_TIMEOUT = 20.0
DEFAULT_CONCURRENCY = 16
DEFAULT_PER_HOST = 4
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True, slots=True)
class FetchedEntry:
    """One feed entry: the model's :class:`FeedItem` plus what storing and dedupe need."""

    item: FeedItem
    guid: str | None
    html: str | None
    links: tuple[str, ...]
    content_hash: str


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed document."""

    title: str | None
    entries: list[FetchedEntry]


@dataclass(frozen=True, slots=True)
class FeedRequest:
    """A feed to fetch, with the validators of the last successful fetch."""

    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """How fetching one feed went. ``status`` is ``ok``, ``not-modified`` or ``error``."""

    url: str
    status: str
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    entries: list[FetchedEntry] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


def item_id(source: str, key: str) -> str:
    """The stable id of a feed item: the same entry of the same feed always gets it."""
    return hashlib.blake2b(f"{source}\x1f{key}".encode(), digest_size=8).hexdigest()


def content_hash(title: str, text: str) -> str:
    """A hash of an entry's visible content, to spot the same post under two URLs."""
    normal = " ".join(f"{title}\n{text}".split()).lower()
    return hashlib.blake2b(normal.encode(), digest_size=16).hexdigest()


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            year, month, day, hour, minute, second = parsed[:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return None


def _body(entry: Any) -> tuple[str | None, str]:
    """(HTML if the entry has HTML, plain text)."""
    for detail in (*(entry.get("content") or ()), entry.get("summary_detail")):
        if not detail or not detail.get("value"):
            continue
        value = str(detail["value"])
        if "html" in str(detail.get("type", "text/html")):
            return value, html_to_text(value)[0]
        return None, value
    summary = entry.get("summary")
    return (None, str(summary)) if summary else (None, "")


def parse_feed(content: bytes, source: str, content_type: str | None = None) -> ParsedFeed:
    """The entries of an RSS or Atom document; raises :class:`SourceError` when the bytes
    are not a feed (malformed XML with nothing recoverable, or an HTML page)."""
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(content, response_headers=headers, sanitize_html=True)
    if not parsed.get("version") and not parsed.entries:
        problem = str(parsed.get("bozo_exception") or "no RSS or Atom document found")
        raise SourceError(source, f"not a feed: {problem}", expected="an RSS or Atom feed")
    failure = parsed.get("bozo_exception")
    if isinstance(failure, xml.sax.SAXParseException):
        # Like lemon24/reader: a feed whose XML is broken is reported, not half-read.
        raise SourceError(
            source,
            f"malformed XML: {failure.getMessage()}",
            location=f"line {failure.getLineNumber()}, column {failure.getColumnNumber()}",
            expected="a well-formed RSS or Atom document",
        )
    feed_language = parsed.feed.get("language")
    entries: list[FetchedEntry] = []
    for entry in parsed.entries:
        html, text = _body(entry)
        _, links = html_to_text(html) if html else ("", [])
        title = str(entry.get("title") or "")
        guid = entry.get("id") or None
        url = entry.get("link") or None
        digest = content_hash(title, text)
        detail = entry.get("author_detail") or {}
        author = detail.get("name") or entry.get("author") or None
        language = (entry.get("summary_detail") or {}).get("language") or feed_language
        tags = tuple(str(t.get("term")) for t in entry.get("tags") or () if t.get("term"))
        item = FeedItem(
            id=item_id(source, guid or url or digest),
            source=source,
            title=title,
            text=text,
            url=url,
            author=author,
            published=_when(entry),
            language=language,
            tags=tags,
        )
        entries.append(FetchedEntry(item, guid, html, tuple(links), digest))
    title = parsed.feed.get("title")
    return ParsedFeed(str(title) if title else None, entries)


class _TooLarge(Exception):
    pass


async def _get(
    client: httpx.AsyncClient, request: FeedRequest, max_bytes: int
) -> tuple[httpx.Response, bytes]:
    headers = {}
    if request.etag:
        headers["If-None-Match"] = request.etag
    if request.last_modified:
        headers["If-Modified-Since"] = request.last_modified
    async with client.stream("GET", request.url, headers=headers) as response:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise _TooLarge(int(declared))
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise _TooLarge(size)
            chunks.append(chunk)
        return response, b"".join(chunks)


async def _fetch_one(
    client: httpx.AsyncClient,
    request: FeedRequest,
    timeout: float,
    max_bytes: int,
) -> FetchResult:
    started = time.perf_counter()

    def failed(message: str, status: int | None = None) -> FetchResult:
        return FetchResult(
            request.url,
            "error",
            http_status=status,
            error=message,
            seconds=time.perf_counter() - started,
        )

    try:
        response, body = await asyncio.wait_for(_get(client, request, max_bytes), timeout)
    except TimeoutError:
        return failed(f"timed out after {timeout:g} s")
    except _TooLarge as exc:
        return failed(f"too large: over {max_bytes:,} bytes (saw {exc.args[0]:,})")
    except httpx.InvalidURL as exc:
        return failed(f"invalid URL: {exc}")
    except httpx.HTTPError as exc:
        return failed(f"unreachable: {type(exc).__name__}: {exc}".rstrip(": "))
    seconds = time.perf_counter() - started
    etag = response.headers.get("etag") or request.etag
    modified = response.headers.get("last-modified") or request.last_modified
    if response.status_code == 304:
        return FetchResult(request.url, "not-modified", 304, etag, modified, seconds=seconds)
    if response.status_code >= 400:
        return failed(f"HTTP {response.status_code} {response.reason_phrase}", response.status_code)
    try:
        parsed = await asyncio.to_thread(
            parse_feed, body, request.url, response.headers.get("content-type")
        )
    except SourceError as exc:
        return failed(exc.problem, response.status_code)
    return FetchResult(
        request.url,
        "ok",
        response.status_code,
        response.headers.get("etag"),
        response.headers.get("last-modified"),
        parsed.title,
        parsed.entries,
        seconds=time.perf_counter() - started,
    )


async def fetch_feeds_async(
    requests: Iterable[FeedRequest],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = DEFAULT_CONCURRENCY,
    per_host: int = DEFAULT_PER_HOST,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_result: Callable[[FetchResult], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[FetchResult]:
    """Fetch every feed at most ``concurrency`` at a time (``per_host`` per host); one
    result per request, in the order given."""
    everything = list(requests)
    overall = asyncio.Semaphore(max(1, concurrency))
    hosts: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(max(1, per_host)))
    limits = httpx.Limits(max_connections=max(1, concurrency), max_keepalive_connections=16)

    async with httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        limits=limits,
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT, "Accept": _ACCEPT},
        transport=transport,
        trust_env=False,
    ) as client:

        async def one(request: FeedRequest) -> FetchResult:
            host = urlsplit(request.url).netloc.lower()
            async with overall, hosts[host]:
                result = await _fetch_one(client, request, timeout, max_bytes)
            if on_result is not None:
                on_result(result)
            return result

        return list(await asyncio.gather(*(one(r) for r in everything)))


def fetch_feeds(requests: Iterable[FeedRequest], **options: Any) -> list[FetchResult]:
    """:func:`fetch_feeds_async` for synchronous callers (the CLI)."""
    return asyncio.run(fetch_feeds_async(requests, **options))
