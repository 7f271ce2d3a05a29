"""What one inbox item is, how items rank, and the reply-time figures they give: pure
functions over the store's rows (:mod:`kompas.store.inbox`).

``median_reply_minutes`` and ``unanswered_share`` (the community pillar) come from
:func:`responsiveness` over the same :class:`~kompas.store.inbox.Addressed` rows that the
inbox lists, so the figures and the list never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kompas.community.relationships import decay
from kompas.store.inbox import Addressed, Exchanges, Mark, responsiveness

__all__ = ["responsiveness"]

OPEN = "open"
ANSWERED = "answered"
#: The tag (given by the user's rules) that puts an item first.
QUESTION = "question"
TWO_WAY = "two-way"
ONE_WAY = "one-way"


def state_of(item: Addressed, mark: Mark | None, now: datetime) -> str:
    """``answered`` when the user answered; else the user's mark (a snooze that has run
    out is open again); else ``open``."""
    if item.answered:
        return ANSWERED
    if mark is None or (mark.state == "snoozed" and (mark.until is None or mark.until <= now)):
        return OPEN
    return mark.state


@dataclass(frozen=True, slots=True)
class Tie:
    """The user's relationship with the person behind an item: strength (decayed
    exchanges), two-way or one-way, and whether this item is the first contact."""

    strength: float
    way: str
    first_contact: bool
    exchanges: int
    first_seen: datetime | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "strength": round(self.strength, 3),
            "way": self.way,
            "first_contact": self.first_contact,
            "exchanges": self.exchanges,
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
        }


def tie(seen: Exchanges, at: datetime | None, reference: datetime, half_life_days: float) -> Tie:
    """The relationship from every exchange up to ``reference``; two-way when the user
    ever addressed them too, or they follow the user."""
    moments = [t for t in (*seen.given, *seen.received) if t is not None and t <= reference]
    strength = sum(decay(reference - t, half_life_days) for t in moments)
    before = [t for t in moments if at is not None and t < at]
    first = min(moments, default=None)
    return Tie(
        strength=strength,
        way=TWO_WAY if seen.given or seen.follows_user else ONE_WAY,
        first_contact=at is not None and not before,
        exchanges=len(seen.given) + len(seen.received),
        first_seen=first,
    )


@dataclass(slots=True)
class InboxItem:
    """One post that waits for (or got) the user's answer, with everything the user needs
    to decide: who, what, the thread, the relationship, and what the rules say (built
    fresh for each inbox, then filled in place: rules, thread, relationship)."""

    id: str
    platform: str
    account: str
    handle: str | None
    name: str | None
    kind: str
    post: str
    url: str | None
    text: str
    at: datetime | None
    thread: dict[str, Any] | None
    relationship: Tie
    automated: bool
    automated_why: str | None
    tags: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    state: str = OPEN
    until: datetime | None = None
    answered_at: datetime | None = None
    score: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_question(self) -> bool:
        """Whether the user's rules tag it a question."""
        return QUESTION in self.tags

    @property
    def who(self) -> str:
        """The handle to show (never a bare DID or URL when a handle is known)."""
        return self.handle or self.account.split(":", 1)[1]

    def to_json(self) -> dict[str, Any]:
        """The ``kompas inbox --json`` shape of one item."""
        return {
            "id": self.id,
            "platform": self.platform,
            "account": self.account,
            "handle": self.handle,
            "name": self.name,
            "kind": self.kind,
            "post": self.post,
            "url": self.url,
            "text": self.text,
            "at": self.at.isoformat() if self.at else None,
            "thread": self.thread,
            "relationship": self.relationship.to_json(),
            "automated": self.automated,
            "automated_why": self.automated_why,
            "tags": list(self.tags),
            "routes": list(self.routes),
            "state": self.state,
            "until": self.until.isoformat() if self.until else None,
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
        }


def rank_key(item: InboxItem) -> tuple[int, int, int, float, float]:
    """Questions first, then people (automated accounts last), then the rules' score,
    then the strongest relationship, then the newest."""
    at = item.at.timestamp() if item.at else 0.0
    return (
        0 if item.is_question else 1,
        1 if item.automated else 0,
        -item.score,
        -round(item.relationship.strength, 1),
        -at,
    )


def ranked(items: Iterable[InboxItem]) -> list[InboxItem]:
    """The items in the order the inbox shows them."""
    return sorted(items, key=rank_key)
