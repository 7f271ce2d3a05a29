"""The digest: kept items, ranked by score and grouped by their first tag, rendered as
Markdown or HTML. Everything from a feed is untrusted: HTML output escapes every string
and sanitises feed HTML (nh3) before including it."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kompas.store.feeds import StoredDecision, StoredItem
from kompas.text import sanitize_html

UNTAGGED = "untagged"
SUMMARY_CHARS = 280


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One item in the digest, with the rules that put it there."""

    item_id: str
    title: str
    url: str | None
    source: str
    author: str | None
    published: datetime | None
    score: int
    tags: tuple[str, ...]
    summary: str
    html: str | None
    rules: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """The JSON shape of an entry in ``kompas digest --json``."""
        return {
            "id": self.item_id,
            "title": self.title,
            "url": self.url,
            "source": self.source,
            "author": self.author,
            "published": self.published.isoformat() if self.published else None,
            "score": self.score,
            "tags": list(self.tags),
            "summary": self.summary,
            "rules": list(self.rules),
        }


@dataclass(frozen=True, slots=True)
class DigestGroup:
    """The entries under one tag, best first."""

    tag: str
    entries: tuple[DigestEntry, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    """A ranked digest. ``routed`` says whether it holds only items routed to ``digest``
    (``False``: no rule routes there, so it holds every kept item)."""

    since: datetime | None
    generated_at: datetime
    routed: bool
    groups: tuple[DigestGroup, ...]

    def as_json(self) -> dict[str, Any]:
        """The JSON shape of ``kompas digest --json``."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "generated_at": self.generated_at.isoformat(),
            "routed": self.routed,
            "groups": [
                {"tag": g.tag, "entries": [e.as_json() for e in g.entries]} for g in self.groups
            ],
        }


def _summary(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SUMMARY_CHARS else flat[: SUMMARY_CHARS - 1].rstrip() + "…"


def build_digest(
    decided: list[tuple[StoredItem, StoredDecision]],
    since: datetime | None,
    now: datetime,
) -> Digest:
    """Rank kept items into groups by tag (an item appears once, under its first tag)."""
    kept = [(s, d) for s, d in decided if d.kept]
    routed = any("digest" in d.routes for _, d in kept)
    if routed:
        kept = [(s, d) for s, d in kept if "digest" in d.routes]
    groups: dict[str, list[DigestEntry]] = {}
    for stored, decided_item in kept:
        item = stored.item
        entry = DigestEntry(
            item_id=item.id,
            title=item.title or _summary(item.text)[:80] or item.url or item.id,
            url=item.url,
            source=item.source,
            author=item.author,
            published=item.published,
            score=decided_item.score,
            tags=decided_item.tags,
            summary=_summary(item.text),
            html=stored.html,
            rules=tuple(str(f.get("rule")) for f in decided_item.fired),
        )
        groups.setdefault(decided_item.tags[0] if decided_item.tags else UNTAGGED, []).append(entry)
    ordered = []
    for tag, entries in groups.items():
        entries.sort(
            key=lambda e: (-e.score, -(e.published.timestamp() if e.published else 0), e.item_id)
        )
        ordered.append(DigestGroup(tag, tuple(entries)))
    ordered.sort(key=lambda g: (g.tag == UNTAGGED, -g.entries[0].score, g.tag))
    return Digest(since, now, routed, tuple(ordered))


def _md(text: str) -> str:
    """Text safe inside Markdown link text: no HTML, no link syntax."""
    escaped = text.replace("\\", "\\\\").replace("<", "&lt;").replace(">", "&gt;")
    for char in "[]*_`":
        escaped = escaped.replace(char, "\\" + char)
    return " ".join(escaped.split())


def render_markdown(digest: Digest) -> str:
    """The digest as Markdown."""
    lines = [f"# kompas digest — {digest.generated_at:%Y-%m-%d %H:%M} UTC", ""]
    if digest.since:
        lines += [f"Since {digest.since:%Y-%m-%d %H:%M} UTC.", ""]
    if not digest.groups:
        lines.append("Nothing new.")
    for group in digest.groups:
        lines += [f"## {_md(group.tag)} ({len(group.entries)})", ""]
        for entry in group.entries:
            title = _md(entry.title)
            link = f"[{title}](<{entry.url.replace('>', '%3E')}>)" if entry.url else title
            when = f" · {entry.published:%Y-%m-%d}" if entry.published else ""
            lines.append(f"- {link} — {_md(entry.source)}{when} · score {entry.score}")
            if entry.summary:
                lines.append(f"  {_md(entry.summary)}")
            if entry.rules:
                lines.append(f"  *why: {_md(', '.join(entry.rules))}*")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}"
    "li{margin:.8rem 0}.meta,.why{color:#555;font-size:.9em}"
)


def render_html(digest: Digest) -> str:
    """The digest as one HTML page; every value escaped, feed HTML sanitised."""
    esc = html.escape
    title = f"kompas digest — {digest.generated_at:%Y-%m-%d %H:%M} UTC"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if not digest.groups:
        parts.append("<p>Nothing new.</p>")
    for group in digest.groups:
        parts.append(f"<section><h2>{esc(group.tag)} ({len(group.entries)})</h2><ul>")
        for entry in group.entries:
            heading = esc(entry.title)
            if entry.url and entry.url.startswith(("http://", "https://")):
                heading = f'<a href="{esc(entry.url)}" rel="noopener noreferrer">{heading}</a>'
            when = f" · {entry.published:%Y-%m-%d}" if entry.published else ""
            parts.append(
                f"<li><strong>{heading}</strong>"
                f'<div class="meta">{esc(entry.source)}{esc(when)} · score {entry.score}</div>'
            )
            if entry.html:
                parts.append(
                    f"<details><summary>{esc(entry.summary)}</summary>"
                    f"{sanitize_html(entry.html)}</details>"
                )
            elif entry.summary:
                parts.append(f"<p>{esc(entry.summary)}</p>")
            if entry.rules:
                parts.append(f'<div class="why">why: {esc(", ".join(entry.rules))}</div>')
            parts.append("</li>")
        parts.append("</ul></section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
