"""Trends as sparklines that fit the terminal: weeks for up to half a year, months or years
beyond (the dashboard's buckets, :mod:`kompas.buckets`), one character per bucket, the
newest kept when there is no room for all, and a line saying what was left out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from rich.console import Console
from rich.table import Table

from kompas import buckets

BARS = "▁▂▃▄▅▆▇█"
#: Table borders and cell padding around three columns (Rich's default box).
_FRAME = 10
_TOTAL = "total"


def sparkline(values: Sequence[int | float | None]) -> str:
    """One character per value, its height relative to the largest; a gap for no data."""
    known = [float(v) for v in values if v is not None]
    top = max(known, default=0.0)
    return "".join(
        " " if v is None else BARS[0] if top == 0 else BARS[min(7, round(float(v) / top * 7))]
        for v in values
    )


def _label(start: date, unit: buckets.Unit) -> str:
    if unit == "week":
        return start.isoformat()
    return f"{start:%Y-%m}" if unit == "month" else str(start.year)


def _total(name: str, series: Sequence[int | None]) -> str:
    known = [v for v in series if v is not None]
    if name in buckets.AVERAGED:
        return f"{sum(known) / len(known):,.1f}/week" if known else "no data"
    return f"{sum(known):,}"


def print_trends(
    console: Console, weeks: Sequence[str], series: Mapping[str, list[int] | None], scope: str
) -> None:
    """A table with one sparkline per series, as wide as ``console`` allows."""
    if not weeks:
        return
    names = {name: name.replace("_", " ") for name in series}
    totals = {
        name: "no data" if values is None else _total(name, values)
        for name, values in series.items()
    }
    room = console.width - _FRAME
    room -= max(len(n) for n in names.values()) + max(len(_TOTAL), *map(len, totals.values()))
    room = max(room, 8)
    grouped = {
        name: buckets.bucket(weeks, values, average=name in buckets.AVERAGED)
        for name, values in series.items()
        if values is not None
    }
    frame = buckets.bucket(weeks, [0] * len(weeks))
    unit, starts = frame.unit, [b.start for b in frame.buckets]
    dropped = max(0, len(starts) - room)
    shown = starts[dropped:]
    span = _label(shown[0], unit) + ("" if len(shown) == 1 else f" to {_label(shown[-1], unit)}")
    table = Table(title=f"{unit.title()} by {unit}, {span} ({scope})", title_justify="left")
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("trend", no_wrap=True)
    table.add_column(_TOTAL, justify="right", no_wrap=True)
    for name, values in series.items():
        line = "[dim]no data[/]" if values is None else sparkline(grouped[name].values()[dropped:])
        table.add_row(names[name], line, totals[name])
    console.print(table)
    notes = []
    if unit != "week":
        notes.append(f"one character per {unit}; a week counts in the {unit} it starts in")
    averaged = [names[n] for n in grouped if n in buckets.AVERAGED]
    if averaged and unit != "week":
        notes.append(f"{', '.join(averaged)}: the average week of each {unit}")
    if dropped:
        notes.append(
            f"the oldest {dropped:,} {unit}s ({_label(starts[0], unit)} to "
            f"{_label(starts[dropped - 1], unit)}) do not fit in {console.width} columns and "
            "are left out; totals cover every week"
        )
    for note in notes:
        console.print(f"[dim]{note}[/]", highlight=False, soft_wrap=False)
