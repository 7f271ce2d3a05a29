"""The local queue's rules, apart from any I/O: when ``--at WHEN`` is, which moves between
states are allowed, and which rows a run has to send.

A queued post is ``queued`` until a run claims it (``sending``); it ends ``sent``, or
``failed`` when the network refused it (retrying would only be refused again), or
``cancelled`` by the user. A platform that is down or rate-limits past the retry policy puts
it back to ``queued`` with the error, for the next run. A run that dies mid-send leaves it
``sending``: the next run takes it over once that run is known to be gone, and sends it
again with the same idempotency key, so nothing is posted twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from kompas.errors import KompasError, UsageError
from kompas.store.post_queue import QueuedPost

QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
CANCELLED = "cancelled"
STATES = (QUEUED, SENDING, SENT, FAILED, CANCELLED)
#: What ``kompas post list`` shows without ``--all``: what is not done with.
PENDING = (QUEUED, SENDING, FAILED)
#: Who may become what. ``sending`` to ``sending`` is a run taking over from a dead one.
TRANSITIONS: dict[str, frozenset[str]] = {
    QUEUED: frozenset({SENDING, CANCELLED}),
    SENDING: frozenset({SENT, QUEUED, FAILED, SENDING}),
    FAILED: frozenset({CANCELLED}),
    SENT: frozenset(),
    CANCELLED: frozenset(),
}
#: How long a run may stay silent on a row it holds before another run may take it over
#: (it says it is alive after each part and before each retry wait, which is at most 15
#: minutes).
LEASE = timedelta(minutes=30)

NETWORKS = ("mastodon", "bluesky")


class PastWhen(KompasError):
    """``--at`` names a time that has already gone by."""


class BadMove(KompasError):
    """A queued post cannot go from its state to the one asked (cancelling a sent post)."""


def can_move(old: str, new: str) -> bool:
    """Whether a queued post in ``old`` may become ``new``."""
    return new in TRANSITIONS.get(old, frozenset())


def check_move(post: QueuedPost, new: str) -> None:
    """Raise :class:`BadMove`, saying why, unless ``post`` may become ``new``."""
    if can_move(post.state, new):
        return
    if post.state == SENT:
        where = post.sent[0].url or post.sent[0].uri if post.sent else None
        raise BadMove(f"post {post.id} was already sent" + (f" ({where})" if where else ""))
    if post.state == CANCELLED:
        raise BadMove(f"post {post.id} was already cancelled")
    if post.state == SENDING:
        raise BadMove(f"post {post.id} is being sent right now (by {post.claimed_by})")
    raise BadMove(f"post {post.id} is {post.state} and cannot become {new}")


# --- when ------------------------------------------------------------------------------

_UNITS = {
    "m": 1,
    "min": 1,
    "mins": 1,
    "minute": 1,
    "minutes": 1,
    "h": 60,
    "hr": 60,
    "hrs": 60,
    "hour": 60,
    "hours": 60,
    "d": 1440,
    "day": 1440,
    "days": 1440,
    "w": 10080,
    "week": 10080,
    "weeks": 10080,
}
_AMOUNT = re.compile(r"(\d{1,6})\s*([a-z]+)")
_RELATIVE = re.compile(r"in\s+((?:\d{1,6}\s*[a-z]+\s*)+)")
_TIME = r"(?P<hour>\d{1,2})(?:[:h](?P<minute>\d{2}))?\s*(?P<half>am|pm)?"
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_AT = re.compile(
    r"(?P<day>today|tomorrow|" + "|".join(_DAYS) + r")(?:\s+(?:at\s+)?" + _TIME + r")?"
)
_TIME_ONLY = re.compile(r"(?:at\s+)?" + _TIME)
_DATE_AT = re.compile(r"(?P<date>\d{4}-\d{2}-\d{2})(?:[ t]+" + _TIME + r")?")
EXAMPLES = '"in 2h", "tomorrow 9:00", "friday 18:30", "2026-12-24 09:00" or an ISO 8601 time'


def parse_when(text: str, now: datetime, zone: tzinfo | None = None) -> datetime:
    """The moment ``--at`` names, as UTC.

    Accepts ``now``; ``in 2h`` (``m``, ``h``, ``d``, ``w`` or the words, combined as in
    ``in 1h 30m``); ``today 18:30``, ``tomorrow 9:00``, ``monday 9am`` (the next such day
    still ahead); ``18:30`` (today); ``2026-12-24 09:00`` and full ISO 8601. A time without
    an offset is the user's local time (``zone``; the system's when ``None``). A time that
    has gone by raises :class:`PastWhen`; one that is not understood, :class:`UsageError`.
    """
    said = " ".join(text.strip().lower().split())
    moment = _moment(said, text, now, zone)
    if moment < now:
        raise PastWhen(
            f"--at {text.strip()!r} is in the past ({describe(moment, now, zone)}): "
            f"queue it for later, e.g. {EXAMPLES}"
        )
    return moment


def _moment(said: str, text: str, now: datetime, zone: tzinfo | None) -> datetime:
    if said == "now":
        return now
    found = _RELATIVE.fullmatch(said)
    if found:
        return now + _duration(found.group(1), text)
    found = _DAY_AT.fullmatch(said)
    if found:
        if found.group("hour") is None:
            raise UsageError(
                f"--at {text.strip()!r} has no time of day: say when, e.g. "
                f'"{found.group("day")} 9:00"'
            )
        today = _local_now(now, zone).date()
        at = _time_of(found, text)
        day = found.group("day")
        if day == "today":
            return _utc(datetime.combine(today, at), zone)
        if day == "tomorrow":
            return _utc(datetime.combine(today + timedelta(days=1), at), zone)
        ahead = (_DAYS.index(day) - today.weekday()) % 7
        moment = _utc(datetime.combine(today + timedelta(days=ahead), at), zone)
        return (
            moment
            if moment >= now
            else _utc(datetime.combine(today + timedelta(days=ahead or 7), at), zone)
        )
    found = _TIME_ONLY.fullmatch(said)
    if found and (found.group("minute") or found.group("half")):
        return _utc(datetime.combine(_local_now(now, zone).date(), _time_of(found, text)), zone)
    found = _DATE_AT.fullmatch(said)
    if found:
        if found.group("hour") is None:
            raise UsageError(
                f"--at {text.strip()!r} has no time of day: say when, e.g. "
                f'"{found.group("date")} 09:00"'
            )
        day = _date_of(found.group("date"), text)
        return _utc(datetime.combine(day, _time_of(found, text)), zone)
    try:
        parsed = datetime.fromisoformat(text.strip().upper())
    except ValueError:
        raise UsageError(
            f"--at {text.strip()!r} is not a time kompas understands: {EXAMPLES}"
        ) from None
    if parsed.tzinfo is None:
        return _utc(parsed, zone)
    return parsed.astimezone(UTC)


def _duration(amounts: str, text: str) -> timedelta:
    minutes = 0
    for number, unit in _AMOUNT.findall(amounts):
        if unit not in _UNITS:
            raise UsageError(
                f'--at {text.strip()!r}: {unit!r} is not a unit (m, h, d or w: "in 2h")'
            )
        minutes += int(number) * _UNITS[unit]
    return timedelta(minutes=minutes)


def _time_of(found: re.Match[str], text: str) -> time:
    hour = int(found.group("hour"))
    minute = int(found.group("minute") or 0)
    half = found.group("half")
    if half is not None:
        if not 1 <= hour <= 12:
            raise UsageError(f"--at {text.strip()!r}: {hour}{half} is not a time")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise UsageError(f"--at {text.strip()!r}: {hour}:{minute:02d} is not a time of day")
    return time(hour, minute)


def _date_of(value: str, text: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--at {text.strip()!r}: {value} is not a date") from None


def _local_now(now: datetime, zone: tzinfo | None) -> datetime:
    return now.astimezone(zone) if zone is not None else now.astimezone()


def _utc(wall: datetime, zone: tzinfo | None) -> datetime:
    """A wall-clock time in ``zone`` (the system's local time when ``None``, with that
    day's daylight saving) as UTC."""
    if zone is None:
        return wall.astimezone(UTC)  # a naive datetime is read as the system's local time
    return wall.replace(tzinfo=zone).astimezone(UTC)


def describe(moment: datetime, now: datetime, zone: tzinfo | None = None) -> str:
    """``2026-12-05 09:00 CET, in 14 h``: a moment in the user's local time, and how far."""
    local = _local_now(moment, zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip() + ", " + how_far(moment, now)


def how_far(moment: datetime, now: datetime) -> str:
    """``in 14 h``, ``3 days ago``, ``now``: the distance in words."""
    seconds = (moment - now).total_seconds()
    size = abs(seconds)
    if size < 60:
        return "now"
    if size < 3600:
        amount = f"{size // 60:.0f} min"
    elif size < 2 * 86400:
        hours = size / 3600
        amount = f"{hours:.0f} h" if hours >= 10 else f"{hours:.1f} h".replace(".0 h", " h")
    else:
        amount = f"{size / 86400:.0f} days"
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


# --- what a run sends -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimant:
    """A run, as it writes itself in ``claimed_by``: its host and process id."""

    host: str
    pid: int

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}"

    @classmethod
    def parse(cls, value: str | None) -> Claimant | None:
        """The claimant written as ``value`` (``None`` when it is not one)."""
        if not value:
            return None
        host, _, pid = value.rpartition(":")
        return cls(host, int(pid)) if host and pid.isdigit() else None


def abandoned(
    post: QueuedPost,
    now: datetime,
    me: Claimant,
    alive: Callable[[int], bool],
    lease: timedelta = LEASE,
) -> bool:
    """Whether ``post``, left ``sending``, belongs to a run that is gone: a process of this
    host that no longer exists, or a run that has not said it is alive for ``lease``."""
    if post.state != SENDING:
        return False
    holder = Claimant.parse(post.claimed_by)
    if holder is not None and holder.host == me.host and holder != me and not alive(holder.pid):
        return True
    return post.claimed_at is None or now - post.claimed_at >= lease


def to_send(
    posts: Iterable[QueuedPost],
    now: datetime,
    me: Claimant,
    alive: Callable[[int], bool],
    lease: timedelta = LEASE,
) -> list[QueuedPost]:
    """The rows a run at ``now`` has to send, soonest due first: queued and due, or left
    ``sending`` by a run that is gone."""
    chosen = [
        post
        for post in posts
        if (post.state == QUEUED and post.due_at <= now) or abandoned(post, now, me, alive, lease)
    ]
    return sorted(chosen, key=lambda post: (post.due_at, post.id))
