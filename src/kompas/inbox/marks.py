"""The user's marks on inbox items: done, snoozed for a while, ignored; each reversible
(``undo``). Marks are stored locally and never written by a sync."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from kompas.errors import KompasError, UsageError
from kompas.inbox.build import DAYS
from kompas.period import default_period
from kompas.store import inbox as store
from kompas.store.queries import data_span

_DURATION = re.compile(r"^\s*(\d{1,5})\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"m": 1 / 60, "min": 1 / 60, "h": 1, "d": 24, "w": 24 * 7}


class UnknownItem(KompasError):
    """An inbox item id that names no item."""


def parse_duration(value: str) -> timedelta:
    """``30m``, ``12h``, ``3d`` or ``2w`` as a duration; a :class:`UsageError` naming the
    value otherwise."""
    found = _DURATION.match(value)
    if found is None or int(found.group(1)) == 0:
        raise UsageError(
            f"duration {value!r} is not understood (expected a number and m, h, d or w: 3d)"
        )
    return timedelta(hours=int(found.group(1)) * _UNITS[found.group(2).lower()])


def resolve(connection: sa.Connection, ref: str) -> store.Addressed:
    """The item ``ref`` names: its short id (as the inbox prints it) or its post's id or
    URI. Looks in the default period first, then the whole history."""
    wanted = ref.strip()
    if not wanted:
        raise UnknownItem("no inbox item has an empty id")
    own = store.selves(connection)
    period = default_period(data_span(connection), DAYS)
    for since, until in ((period.since, period.until), (None, None)):
        for row in store.addressed(connection, own, since, until, answers=False):
            if row.id == wanted.lower() or row.post == wanted:
                return row
    raise UnknownItem(f"no inbox item has the id {wanted!r} (see `kompas inbox --all`)")


def mark(
    connection: sa.Connection,
    ref: str,
    state: str,
    duration: timedelta | None = None,
    now: datetime | None = None,
) -> tuple[store.Addressed, datetime | None]:
    """Mark the item ``ref`` ``done``, ``snoozed`` (for ``duration``) or ``ignored``;
    return it and when a snooze ends."""
    moment = now or datetime.now(UTC)
    row = resolve(connection, ref)
    until = moment + duration if state == "snoozed" and duration is not None else None
    store.set_mark(connection, row.platform, row.post, state, moment, until)
    return row, until


def unmark(connection: sa.Connection, ref: str) -> tuple[store.Addressed, bool]:
    """Take the mark off the item ``ref`` (it is open again unless answered); whether
    it had one."""
    row = resolve(connection, ref)
    return row, store.clear_mark(connection, row.platform, row.post)
