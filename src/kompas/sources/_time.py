"""Dates read from exports, checked for range: nothing any platform published lies before
1990 or after tomorrow, and a year 0001 or 9999 would overflow later arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
#: Tomorrow as last computed: a moment before it is before tomorrow now (time only moves
#: on), so a parse reads the clock once, not once per date.
_tomorrow = EARLIEST


def checked(moment: datetime | None, field: str) -> datetime | None:
    """``moment`` if it lies between 1990 and tomorrow; a ValueError naming ``field`` if not."""
    global _tomorrow
    if moment is None:
        return None
    if EARLIEST <= moment <= _tomorrow:
        return moment
    _tomorrow = datetime.now(UTC) + timedelta(days=1)
    if not EARLIEST <= moment <= _tomorrow:
        raise ValueError(
            f"{field} {moment.isoformat()} is out of range (expected a date from 1990 to tomorrow)"
        )
    return moment
