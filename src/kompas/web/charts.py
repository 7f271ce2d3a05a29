"""Charts drawn on the server as SVG: no JavaScript, nothing to download, and nothing a
strict Content-Security-Policy has to allow. Every label is escaped."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 200
PAD_BOTTOM = 28
PAD_TOP = 18


def bar_chart(
    labels: Sequence[str],
    values: Sequence[int | float],
    title: str,
    *,
    highlight_last: bool = True,
) -> Markup:
    """A vertical bar chart of ``values`` with ``labels`` under the bars.

    The chart carries its figures as a ``<title>`` per bar (a tooltip, and text a screen
    reader can read), so the picture never is the only place a number lives.
    """
    count = max(len(values), 1)
    top = max((float(v) for v in values), default=0.0) or 1.0
    slot = WIDTH / count
    bar = max(slot * 0.7, 1.0)
    usable = HEIGHT - PAD_BOTTOM - PAD_TOP
    # At most about a dozen labels, so they never overlap.
    step = max(1, -(-count // 12))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="0" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH}" '
        f'y2="{HEIGHT - PAD_BOTTOM}"/>',
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = usable * float(value) / top
        x = index * slot + (slot - bar) / 2
        y = HEIGHT - PAD_BOTTOM - height
        css = "bar current" if highlight_last and index == count - 1 else "bar"
        parts.append(
            f"<g><title>{escape(label)}: {escape(str(value))}</title>"
            f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
            f'height="{height:.1f}" data-value="{escape(str(value))}"/>'
        )
        if value and count <= 26:
            parts.append(
                f'<text class="value" x="{x + bar / 2:.1f}" y="{y - 4:.1f}">'
                f"{escape(str(value))}</text>"
            )
        if index % step == 0:
            parts.append(
                f'<text class="label" x="{x + bar / 2:.1f}" y="{HEIGHT - 10}">'
                f"{escape(label)}</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


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
