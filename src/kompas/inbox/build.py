"""``kompas inbox``: what others addressed to the user that waits for an answer, read from
the store, ranked, with each person's relationship and the tags the user's rules give.

The default period is the :data:`DAYS` days up to the newest activity in the store (an old
archive shows its last month, never an empty "last 30 days" before today); ``show_all``
lists every item of the whole history in every state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from kompas.community.report import HALF_LIFE_DAYS
from kompas.inbox.items import (
    ONE_WAY,
    OPEN,
    InboxItem,
    Tie,
    ranked,
    responsiveness,
    state_of,
    tie,
)
from kompas.known_bots import is_known_bot
from kompas.period import DataSpan, Period, default_period, note
from kompas.store import inbox as store
from kompas.store.queries import data_span

if TYPE_CHECKING:
    from kompas.rules.engine import RuleSet

#: The default period, in days up to the newest activity.
DAYS = 30
#: How many items the inbox lists by default (``show_all``: every one).
LIMIT = 50
#: Every character to drop: Unicode categories Cc, Cf and Cs (Unicode 14, Python 3.11's),
#: newline and tab kept. tests/test_inbox_text.py checks it against ``unicodedata``.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891"
    "\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff"
    "\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def plain_text(text: str) -> str:
    """Platform text made safe to print: control and format characters (bidi overrides,
    escape sequences) removed."""
    return _UNSAFE.sub("", text).strip()


@dataclass(frozen=True, slots=True)
class Inbox:
    """The inbox of one period: its items (ranked), how many there are in all, and the
    reply figures of the same rows."""

    items: tuple[InboxItem, ...]
    period: Period
    span: DataSpan
    addressed: int
    unanswered: int
    open: int
    median_reply_minutes: float | None
    unanswered_share: float | None
    has_accounts: bool
    #: Whether anything was ever addressed to the user in the store (``False`` from
    #: exports alone: they hold what the user did, not what others sent).
    ever_addressed: bool = True

    @property
    def note(self) -> str | None:
        """The first line to show about the period (where the data ends)."""
        if not self.has_accounts:
            return "No account of yours in the store yet: import an export or `kompas sync`."
        return note(self.period, self.span)

    def to_json(self) -> dict[str, Any]:
        """The ``kompas inbox --json`` shape."""
        return {
            "items": [i.to_json() for i in self.items],
            "period": {
                "since": self.period.since.isoformat() if self.period.since else None,
                "until": self.period.until.isoformat() if self.period.until else None,
                "data_end": self.span.last.isoformat() if self.span.last else None,
            },
            "addressed": self.addressed,
            "unanswered": self.unanswered,
            "open": self.open,
            "median_reply_minutes": self.median_reply_minutes,
            "unanswered_share": self.unanswered_share,
            "ever_addressed": self.ever_addressed,
        }


def rules_of(home: Path | None) -> RuleSet | None:
    """The workspace's rules (``rules.yaml``), or ``None`` when there is none. A broken
    file raises its own error: never silently ignored."""
    if home is None or not (home / "rules.yaml").exists():
        return None
    from kompas.rules.engine import load_rules

    return load_rules(home / "rules.yaml")


def build_inbox(
    connection: sa.Connection,
    platform: str | None = None,
    show_all: bool = False,
    rules: RuleSet | None = None,
    now: datetime | None = None,
    days: int = DAYS,
    limit: int | None = LIMIT,
    model_check: bool = True,
    cap: int | None = None,
) -> Inbox:
    """The inbox: open items of the period (``show_all``: every item, every state),
    questions first, then people by relationship, newest first; at most ``limit`` items
    (not with ``show_all``), and never more than ``cap`` (a page's bound)."""
    now = now or datetime.now(UTC)
    own = store.selves(connection, platform)
    span = data_span(connection).of(platform)
    period = Period(data_end=span.last) if show_all else default_period(span, days, now)
    rows = store.addressed(connection, own, period.since, period.until)
    median, share = responsiveness(rows)
    marks = store.marks(connection)
    states = {(r.platform, r.post): state_of(r, marks.get((r.platform, r.post)), now) for r in rows}
    shown = [r for r in rows if show_all or states[(r.platform, r.post)] == OPEN]
    reference = period.until or span.last or now
    items: list[InboxItem] = []
    for name, group in _by_platform(shown).items():
        texts = store.post_texts(connection, name, [r.post for r in group])
        who = store.people(connection, name, [r.actor for r in group])
        for row in group:
            items.append(_item(row, texts.get(row.post), who.get(row.actor), marks, states))
    if rules is not None:
        items = _with_rules(items, rules, now)
    # Ranked first without the relationships (questions, people, score, newest), so only
    # the items shown need their whole history read; then ranked again with them.
    result = ranked(items)
    if limit is not None and not show_all:
        result = result[:limit]
    if cap is not None:
        result = result[:cap]
    result = ranked(_with_context(connection, result, own, reference))
    if model_check:
        result = ranked(_model_checked(connection, result))
    return Inbox(
        items=tuple(result),
        period=period,
        span=span,
        addressed=len(rows),
        unanswered=sum(1 for r in rows if not r.answered),
        open=sum(1 for s in states.values() if s == OPEN),
        median_reply_minutes=median,
        unanswered_share=share,
        has_accounts=bool(own),
        ever_addressed=bool(rows) or store.ever_addressed(connection, own),
    )


def _by_platform(rows: list[store.Addressed]) -> dict[str, list[store.Addressed]]:
    found: dict[str, list[store.Addressed]] = {}
    for row in rows:
        found.setdefault(row.platform, []).append(row)
    return found


#: The relationship of an item before :func:`_with_context` reads it.
_UNKNOWN_TIE = Tie(0.0, ONE_WAY, False, 0, None)


def _item(
    row: store.Addressed,
    text: store.PostText | None,
    person: store.Person | None,
    marks: dict[tuple[str, str], store.Mark],
    states: dict[tuple[str, str], str],
) -> InboxItem:
    """One row as an item (its thread and relationship filled in later)."""
    name = row.platform
    handle = _handle(name, row.actor, person.handle if person else None)
    declared = bool(person and person.is_bot)
    known = is_known_bot(name, handle)
    mark = marks.get((row.platform, row.post))
    return InboxItem(
        id=row.id,
        platform=name,
        account=f"{name}:{row.actor}",
        handle=handle,
        name=(plain_text(person.display_name or "") or None) if person else None,
        kind=row.kind,
        post=row.post,
        url=text.url if text else None,
        text=plain_text(text.text) if text else "",
        at=row.at,
        thread=None,
        relationship=_UNKNOWN_TIE,
        automated=declared or known,
        automated_why="declared_bot" if declared else "known_bot" if known else None,
        state=states[(row.platform, row.post)],
        until=mark.until if mark and mark.state == "snoozed" else None,
        answered_at=row.answered_at,
        extra={
            "language": text.language if text else None,
            "hashtags": text.hashtags if text else (),
            "target": row.target_post,
        },
    )


def _with_context(
    connection: sa.Connection,
    items: list[InboxItem],
    own: dict[str, list[str]],
    reference: datetime,
) -> list[InboxItem]:
    """The items with their thread (the user's post they answer) and the relationship
    with their author, read from the whole history."""
    found: list[InboxItem] = []
    by_platform: dict[str, list[InboxItem]] = {}
    for item in items:
        by_platform.setdefault(item.platform, []).append(item)
    done: dict[str, InboxItem] = {}
    for name, group in by_platform.items():
        actors = [i.account.split(":", 1)[1] for i in group]
        seen = store.exchanges(connection, name, own[name], actors)
        targets = store.post_texts(
            connection, name, [str(i.extra["target"]) for i in group if i.extra.get("target")]
        )
        for item, actor in zip(group, actors, strict=True):
            target_id = item.extra.get("target")
            target = targets.get(str(target_id)) if target_id else None
            done[item.id] = replace(
                item,
                thread={
                    "post": target_id,
                    "text": plain_text(target.text) if target else None,
                    "url": target.url if target else None,
                }
                if target_id
                else None,
                relationship=tie(seen[actor], item.at, reference, HALF_LIFE_DAYS),
            )
    found = [done[i.id] for i in items]
    return found


def _handle(platform: str, account: str, handle: str | None) -> str | None:
    from kompas.community.relationships import display_handle

    return display_handle(platform, account, handle)


def _with_rules(items: list[InboxItem], rules: RuleSet, now: datetime) -> list[InboxItem]:
    """Each item with the tags, routes and score the user's rules give it."""
    from kompas.rules.item import Item

    views = [
        Item(
            id=f"inbox:{i.id}",
            source=i.platform,
            text=i.text,
            url=i.url,
            author=i.handle,
            published=i.at,
            language=i.extra.get("language"),
            tags=tuple(i.extra.get("hashtags") or ()),
            kind=i.kind,
        )
        for i in items
    ]
    for item, decision in zip(items, rules.decide_all(views, now), strict=True):
        item.tags, item.routes, item.score = (
            tuple(decision.tags),
            tuple(decision.routes),
            decision.score,
        )
    return items


def _model_checked(connection: sa.Connection, items: list[InboxItem]) -> list[InboxItem]:
    """The authenticity model's view of the accounts shown that declare nothing, scored
    in one batch: an account it flags as likely automated is marked, with its reason."""
    unknown = list(dict.fromkeys(i.account for i in items if not i.automated))
    if not unknown:
        return items
    from kompas.people import authenticity
    from kompas.people.signals import columns_from_profiles
    from kompas.people.stored import profile

    found = [(key, profile(connection, *key.split(":", 1))) for key in unknown]
    known = [(key, p) for key, p in found if p is not None]
    if not known:
        return items
    scores = authenticity.score(
        authenticity.shipped(), columns_from_profiles([p for _, p in known])
    )
    flagged: dict[str, str] = {}
    for row, (key, _) in enumerate(known):
        if scores.used[row] == authenticity.UNKNOWN or not scores.flagged[row]:
            continue
        codes = authenticity.codes(scores, row)
        flagged[key] = next(
            (c for c in codes if c.endswith("automated")), codes[0] if codes else ""
        )
    return [
        replace(i, automated=True, automated_why=flagged[i.account]) if i.account in flagged else i
        for i in items
    ]
