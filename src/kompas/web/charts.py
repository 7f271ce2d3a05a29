"""Charts drawn on the server as SVG: no JavaScript, nothing to download, and nothing a
strict Content-Security-Policy has to allow. Every label is escaped.

A bar chart carries its numbers in the picture (a y axis with its values, the value over
each bar when there is room for it, else over the highest and the newest bar) and in a
``<title>`` per bar (a tooltip, and text a screen reader reads), so the picture never is
the only place a number lives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape

from kompas import buckets, i18n

WIDTH = 640
HEIGHT = 200
PAD_RIGHT = 6
PAD_BOTTOM = 30
PAD_TOP = 20
#: The width of one character of chart text, in chart units, at the largest size the
#: stylesheet draws it (16 units on a phone): labels are spaced so they never overlap.
CHAR = 9.0


def ticks(top: float, whole: bool = True) -> list[float]:
    """Round values for the y axis, from 0 to at least ``top``: at most 5 ticks, spaced
    1, 2 or 5 times a power of ten (whole numbers only for counts)."""
    if top <= 0:
        return [0.0, 1.0]
    power = 10.0 ** math.floor(math.log10(top / 4))
    step = next(s for s in (power * m for m in (1, 2, 5, 10)) if math.ceil(top / s - 1e-9) <= 4)
    if whole:
        step = max(step, 1.0)
    count = math.ceil(top / step - 1e-9)
    return [round(i * step, 6) for i in range(count + 1)]


def _number(value: float, lang: str) -> str:
    return i18n.format_number(int(value) if float(value).is_integer() else value, lang)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[int | float | None],
    title: str,
    *,
    lang: str = i18n.DEFAULT,
    highlight_last: bool = True,
    notes: Sequence[str] | None = None,
    partial: Sequence[bool] | None = None,
) -> Markup:
    """A vertical bar chart of ``values`` with ``labels`` under the bars and a y axis.

    A ``None`` value leaves its slot empty ("no data"); ``notes`` add a word to a bar's
    tooltip; ``partial`` bars (a month the period only partly covers) are drawn lighter.
    """
    count = max(len(values), 1)
    known = [float(v) for v in values if v is not None]
    whole = all(float(v).is_integer() for v in known)
    scale = ticks(max(known, default=0.0), whole)
    top = scale[-1]
    tick_texts = [_number(t, lang) for t in scale]
    pad_left = CHAR * max(len(t) for t in tick_texts) + 10
    plot = WIDTH - pad_left - PAD_RIGHT
    slot = plot / count
    bar = max(slot * 0.7, 1.0)
    usable = HEIGHT - PAD_BOTTOM - PAD_TOP
    base = HEIGHT - PAD_BOTTOM
    shown_values = [None if v is None else _number(float(v), lang) for v in values]
    # Every bar carries its value when they all fit over their bars; else the highest
    # and the newest do. Axis labels are spread so that none overlaps the next.
    every_value = slot >= CHAR * max((len(v) for v in shown_values if v), default=0) + 2
    step = max(1, math.ceil((CHAR * max((len(x) for x in labels), default=0) + 8) / slot))
    newest = max((i for i, v in enumerate(values) if v is not None), default=-1)
    highest = max(
        (i for i, v in enumerate(values) if v is not None),
        key=lambda i: float(values[i] or 0),
        default=-1,
    )
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick, text in zip(scale, tick_texts, strict=True):
        y = base - usable * tick / top
        parts.append(
            f'<line class="{"axis" if tick == 0 else "grid"}" x1="{pad_left:.1f}" '
            f'y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{pad_left - 6:.1f}" y="{y + 4:.1f}" data-tick="{tick:g}">'
            f"{escape(text)}</text>"
        )
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = pad_left + index * slot + (slot - bar) / 2
        note = notes[index] if notes else ""
        shown = shown_values[index] or i18n.render("chart.no_data", lang)
        parts.append(f"<g><title>{escape(label)}: {escape(shown)}{escape(note)}</title>")
        if value is not None:
            height = usable * float(value) / top
            y = base - height
            css = "bar"
            if highlight_last and index == count - 1:
                css += " current"
            if partial and partial[index]:
                css += " partial"
            parts.append(
                f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" data-value="{escape(str(value))}"/>'
            )
            if value and (every_value or index in (newest, highest)):
                parts.append(
                    f'<text class="value" x="{x + bar / 2:.1f}" y="{y - 4:.1f}">'
                    f"{escape(shown)}</text>"
                )
        if (count - 1 - index) % step == 0:  # the newest bar always has its label
            parts.append(
                f'<text class="label" x="{x + bar / 2:.1f}" y="{HEIGHT - 10}">'
                f"{escape(label)}</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def bucket_label(start: date, unit: buckets.Unit, lang: str) -> str:
    """A bucket as a person names it: ``8 May``, ``May 2023``, ``2023`` (in ``lang``)."""
    month = i18n.render(f"chart.month.{start.month}", lang)
    if unit == "week":
        return i18n.render("chart.week_label", lang, day=start.day, month=month)
    if unit == "month":
        return i18n.render("chart.month_label", lang, year=str(start.year), month=month)
    return str(start.year)


def trend_chart(
    weeks: Sequence[str],
    values: Sequence[int | None],
    title: str,
    *,
    name: str = "",
    lang: str = i18n.DEFAULT,
) -> Markup:
    """A week-by-week series as a bar chart and its caption, in weeks, months or years as
    the span needs (:func:`kompas.buckets.bucket`); the caption says which."""
    grouped = buckets.bucket(weeks, values, average=name in buckets.AVERAGED)
    labels = [bucket_label(b.start, grouped.unit, lang) for b in grouped.buckets]
    partial = [b.partial for b in grouped.buckets]
    notes = [
        i18n.render("chart.partial", lang, weeks=b.weeks, whole=b.whole) if b.partial else ""
        for b in grouped.buckets
    ]
    chart = bar_chart(labels, grouped.values(), title, lang=lang, notes=notes, partial=partial)
    how = "average" if name in buckets.AVERAGED and grouped.unit != "week" else "sum"
    caption = i18n.render(f"chart.by_{grouped.unit}_{how}", lang)
    if any(partial):
        caption += " " + i18n.render(f"chart.partial_{grouped.unit}", lang)
    return Markup(
        f'{chart}<figcaption><strong>{escape(title)}</strong> — <span class="chart-unit" '
        f'data-unit="{grouped.unit}">{escape(caption)}</span></figcaption>'
    )


def share_bar(parts: Sequence[tuple[str, int | float]], title: str) -> Markup:
    """One horizontal bar split into shares (e.g. the mix of kinds of activity)."""
    total = sum(float(v) for _, v in parts) or 1.0
    x = 0.0
    pieces = [
        f'<svg class="chart share" viewBox="0 0 {WIDTH} 36" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
    ]
    for index, (label, value) in enumerate(parts):
        width = WIDTH * float(value) / total
        pieces.append(
            f'<rect class="slice s{index % 6}" x="{x:.1f}" y="0" width="{width:.1f}" '
            f'height="36"><title>{escape(label)}: {escape(str(value))}</title></rect>'
        )
        x += width
    pieces.append("</svg>")
    return Markup("".join(pieces))


def sparkline(values: Sequence[int | float | None], title: str = "") -> Markup:
    """A tiny bar sparkline (a key result's trend); missing values leave a gap."""
    known = [float(v) for v in values if v is not None]
    top = max(known, default=0.0) or 1.0
    count = max(len(values), 1)
    slot = 140 / count
    parts = [
        '<svg class="spark" viewBox="0 0 140 28" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for index, value in enumerate(values):
        if value is None:
            continue
        height = max(1.0, 26 * float(value) / top)
        css = "bar current" if index == count - 1 else "bar"
        parts.append(
            f'<rect class="{css}" x="{index * slot + 1:.1f}" y="{28 - height:.1f}" '
            f'width="{max(slot - 2, 1):.1f}" height="{height:.1f}">'
            f"<title>{escape(str(value))}</title></rect>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
