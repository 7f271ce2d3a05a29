"""What the routes a rule can name lead to, so no accepted rule is silently ignored:
``notify`` items are shown first thing in ``kompas today``; ``people-to-meet`` items build
the list of people to research (``kompas people to-meet``); ``digest`` and ``feed:NAME``
are read by the digest and the published feeds. Pure: the store gives the decided items.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kompas.store.feeds import StoredDecision, StoredItem

NOTIFY = "notify"
PEOPLE_TO_MEET = "people-to-meet"
#: How many notifications ``today`` shows at most.
NOTICES = 10

#: ``@name@server`` (fediverse), ``name.bsky.social``-like handles and ``@name``.
_FEDIVERSE = re.compile(r"^@?([A-Za-z0-9_.]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,})$")
_BLUESKY = re.compile(r"^@?([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$")


def _why(decision: StoredDecision) -> str:
    names = [str(f.get("rule") or f.get("name") or "") for f in decision.fired]
    rules = [n for n in names if n]
    return ("rules: " + ", ".join(rules)) if rules else f"score {decision.score}"


@dataclass(frozen=True, slots=True)
class Notice:
    """An item a rule routed to ``notify``."""

    id: str
    title: str
    url: str | None
    source: str
    at: datetime | None
    score: int
    why: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "source": self.source,
            "at": self.at.isoformat() if self.at else None,
            "score": self.score,
            "why": self.why,
        }


def notices(
    decided: Iterable[tuple[StoredItem, StoredDecision]], limit: int = NOTICES
) -> list[Notice]:
    """Items routed to ``notify``, highest score first, then newest."""
    found = [
        Notice(
            id=item.item.id,
            title=item.item.title or item.item.text[:120],
            url=item.item.url,
            source=item.item.source,
            at=item.item.published or item.fetched_at,
            score=decision.score,
            why=_why(decision),
        )
        for item, decision in decided
        if NOTIFY in decision.routes
    ]
    found.sort(key=lambda n: (-n.score, -(n.at.timestamp() if n.at else 0), n.id))
    return found[:limit]


@dataclass(frozen=True, slots=True)
class Candidate:
    """Someone a rule routed to ``people-to-meet``, with what brought them up and how to
    research them."""

    author: str
    source: str
    items: int
    latest_title: str
    latest_url: str | None
    latest_at: datetime | None
    research: str | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "author": self.author,
            "source": self.source,
            "items": self.items,
            "latest": {
                "title": self.latest_title,
                "url": self.latest_url,
                "at": self.latest_at.isoformat() if self.latest_at else None,
            },
            "research": self.research,
        }


def research_command(source: str, author: str) -> str | None:
    """The command that researches ``author``: a stored account of a social timeline, or a
    handle kompas can look up; ``None`` for a name (a blog author) kompas cannot look up."""
    platform = source.split(":", 1)[0]
    if platform in ("mastodon", "bluesky", "x") and ":" in source:
        return f"kompas people research {platform}:{author}"
    if _FEDIVERSE.match(author):
        return f"kompas lookup {author if author.startswith('@') else '@' + author}"
    if _BLUESKY.match(author) and " " not in author:
        return f"kompas lookup {author.lstrip('@')}"
    return None


def people_to_meet(decided: Sequence[tuple[StoredItem, StoredDecision]]) -> list[Candidate]:
    """Authors of the items routed to ``people-to-meet``, most items first."""
    grouped: dict[tuple[str, str], list[StoredItem]] = {}
    for item, decision in decided:
        if PEOPLE_TO_MEET not in decision.routes:
            continue
        author = (item.item.author or "").strip()
        if not author:
            continue
        grouped.setdefault((item.item.source, author), []).append(item)
    found = []
    for (source, author), items in grouped.items():
        latest = max(items, key=lambda i: (i.item.published or i.fetched_at, i.item.id))
        found.append(
            Candidate(
                author=author,
                source=source,
                items=len(items),
                latest_title=latest.item.title or latest.item.text[:120],
                latest_url=latest.item.url,
                latest_at=latest.item.published or latest.fetched_at,
                research=research_command(source, author),
            )
        )
    found.sort(key=lambda c: (-c.items, c.author.lower(), c.source))
    return found
