"""Republished feeds: the items a route ``feed:NAME`` collects, written as Atom 1.0 and
JSON Feed 1.1 so the user can follow their own curated feed in any reader.

Atom is built with ElementTree (which escapes every value); feed HTML is sanitised with
nh3 before it goes into either format."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from kompas.store.feeds import StoredDecision, StoredItem
from kompas.text import sanitize_html

ATOM = "http://www.w3.org/2005/Atom"
FEED_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def routed(
    decided: Sequence[tuple[StoredItem, StoredDecision]], name: str, limit: int = 100
) -> list[tuple[StoredItem, StoredDecision]]:
    """Kept items routed to ``feed:NAME``, newest first, at most ``limit``."""
    route = f"feed:{name}"
    chosen = [(s, d) for s, d in decided if d.kept and route in d.routes]
    chosen.sort(key=lambda p: p[0].item.published or p[0].fetched_at, reverse=True)
    return chosen[:limit]


def _entry_id(item_id: str) -> str:
    return f"urn:kompas:item:{item_id}"


def _content(stored: StoredItem) -> str | None:
    return sanitize_html(stored.html) if stored.html else None


def atom_feed(
    name: str, entries: Sequence[tuple[StoredItem, StoredDecision]], now: datetime
) -> bytes:
    """A valid Atom 1.0 document of the route's items."""
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", f"urn:kompas:feed:{name}")
    sub(feed, "title", f"kompas: {name}")
    sub(feed, "subtitle", "Items your kompas rules routed to this feed.")
    sub(feed, "updated", _stamp(max((_when(s) for s, _ in entries), default=now)))
    sub(feed, "generator", "kompas")
    author = sub(feed, "author")
    sub(author, "name", "kompas")
    for stored, decision in entries:
        item = stored.item
        entry = sub(feed, "entry")
        sub(entry, "id", _entry_id(item.id))
        sub(entry, "title", item.title or item.text[:80] or item.id)
        sub(entry, "updated", _stamp(_when(stored)))
        if item.published:
            sub(entry, "published", _stamp(item.published))
        if item.url:
            sub(entry, "link", href=item.url, rel="alternate")
        if item.author:
            sub(sub(entry, "author"), "name", item.author)
        for tag in decision.tags:
            sub(entry, "category", term=tag)
        content = _content(stored)
        if content:
            sub(entry, "content", content, type="html")
        elif item.text:
            sub(entry, "content", item.text, type="text")
        source = sub(entry, "source")
        sub(source, "id", item.source)
        sub(source, "title", item.source)
        sub(source, "updated", _stamp(stored.fetched_at))
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def json_feed(
    name: str,
    entries: Sequence[tuple[StoredItem, StoredDecision]],
    feed_url: str | None = None,
) -> str:
    """A JSON Feed 1.1 document of the route's items."""
    items: list[dict[str, Any]] = []
    for stored, decision in entries:
        item = stored.item
        entry: dict[str, Any] = {"id": _entry_id(item.id), "title": item.title or None}
        if item.url:
            entry["url"] = item.url
        content = _content(stored)
        if content:
            entry["content_html"] = content
        entry["content_text"] = item.text
        if item.published:
            entry["date_published"] = _stamp(item.published)
        if item.author:
            entry["authors"] = [{"name": item.author}]
        if decision.tags:
            entry["tags"] = list(decision.tags)
        entry["_kompas"] = {"score": decision.score, "source": item.source}
        items.append({k: v for k, v in entry.items() if v is not None})
    document: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"kompas: {name}",
        "description": "Items your kompas rules routed to this feed.",
        "items": items,
    }
    if feed_url:
        document["feed_url"] = feed_url
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _when(stored: StoredItem) -> datetime:
    return stored.item.published or stored.fetched_at


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
