"""Relationships: per person, what the user and they exchanged, how strong it is at the end
of the period, and whether it goes both ways.

Strength is the sum of ``0.5 ** (age / half_life)`` over dated exchanges, aged to the end of
the *period* (not to today: an old archive's relationships are as strong as they were
then). Over all time nothing decays: strength is the number of exchanges, so 179 older
exchanges outrank 5 recent ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kompas.community.contacts import GIVEN, Contact
from kompas.community.report import ONE_WAY, TWO_WAY, UNKNOWN_WAY, Relationship
from kompas.known_bots import is_known_bot
from kompas.period import Period


@dataclass
class Tally:
    """What the user and one person exchanged, while it is being counted."""

    accounts: set[tuple[str, str]] = field(default_factory=set)
    strength: float = 0.0
    before: float = 0.0
    given: int = 0
    received: int = 0
    received_ever: int = 0
    exchanges: int = 0
    first: datetime | None = None
    last: datetime | None = None


def decay(age: timedelta, half_life_days: float) -> float:
    """The weight of an exchange ``age`` old."""
    return float(0.5 ** (age.total_seconds() / 86400 / half_life_days))


def display_handle(platform: str, account: str, handle: str | None) -> str | None:
    """A handle to show for an account: the stored one, else the one a Mastodon actor URL
    spells (``https://host/users/name`` → ``name@host``); never a bare DID or URL."""
    if handle:
        if platform == "mastodon" and "@" not in handle and account.startswith("http"):
            host = account.split("/")[2] if account.count("/") >= 2 else ""
            return f"{handle}@{host}" if host else handle
        return handle
    if platform == "mastodon" and account.startswith("http") and "/users/" in account:
        host = account.split("/")[2]
        name = account.rsplit("/users/", 1)[1].strip("/")
        if name and "/" not in name:
            return f"{name}@{host}"
    return None


@dataclass(frozen=True, slots=True)
class Knowledge:
    """What the data can tell about the other side: platforms where what others did to the
    user is known, where the user's follower list is known, and who follows the user."""

    received: frozenset[str] = frozenset()
    follower_lists: frozenset[str] = frozenset()
    followers: frozenset[str] = frozenset()  # person keys


def relationships(
    contacts: Iterable[Contact],
    period: Period,
    reference: datetime,
    half_life_days: float,
    handles: dict[tuple[str, str], str],
    known: Knowledge,
    automated: set[tuple[str, str]],
) -> list[Relationship]:
    """Every person the user ever exchanged anything with (up to the end of the period),
    strength aged to ``reference`` (and to the period's start, for the fading ones)."""
    found: dict[str, Tally] = {}
    for c in contacts:
        if c.person is None or (c.when is not None and c.when >= reference):
            continue
        tally = found.setdefault(c.person, Tally())
        tally.accounts.add((c.platform, c.account or ""))
        tally.exchanges += 1
        if c.direction != GIVEN:
            tally.received_ever += 1
        if period.contains(c.when):
            if c.direction == GIVEN:
                tally.given += 1
            else:
                tally.received += 1
        if period.all_time:
            tally.strength += 1.0
        if c.when is None:
            continue
        if not period.all_time:
            tally.strength += decay(reference - c.when, half_life_days)
        if period.since is not None and c.when < period.since:
            tally.before += decay(period.since - c.when, half_life_days)
        tally.first = c.when if tally.first is None else min(tally.first, c.when)
        tally.last = c.when if tally.last is None else max(tally.last, c.when)
    return [finish(person, t, known, handles, automated) for person, t in found.items()]


def finish(
    person: str,
    t: Tally,
    known: Knowledge,
    handles: dict[tuple[str, str], str],
    automated: set[tuple[str, str]],
) -> Relationship:
    """One person's relationship from what was counted: which way it goes, the handles to
    show, and whether the person is an automated account."""
    platforms = {p for p, _ in t.accounts}
    if t.received_ever or person in known.followers:
        way = TWO_WAY
    elif platforms & (known.received | known.follower_lists):
        way = ONE_WAY
    else:
        way = UNKNOWN_WAY
    shown = [display_handle(p, a, handles.get((p, a))) for p, a in sorted(t.accounts)]
    bot = any(
        key in automated or is_known_bot(key[0], handle)
        for key, handle in zip(sorted(t.accounts), shown, strict=True)
    )
    return Relationship(
        person=person,
        accounts=tuple(f"{p}:{a}" for p, a in sorted(t.accounts)),
        handles=tuple(dict.fromkeys(h for h in shown if h)),
        strength=t.strength,
        strength_before=t.before,
        given=t.given,
        received=t.received,
        first_seen=t.first,
        last_seen=t.last,
        way=way,
        automated=bot,
        exchanges=t.exchanges,
    )
