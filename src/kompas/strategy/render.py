"""The review as Markdown, or as one self-contained HTML file whose charts (key results
over weeks, mix against target) are inline SVG drawn here: no script, no CDN, no network.
All user and platform text is escaped."""

from __future__ import annotations

from html import escape

from kompas.strategy.keyresults import KeyResultStatus
from kompas.strategy.review import MixRow, Review

_WIDTH, _HEIGHT, _PAD = 320, 120, 28


def _value(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "no data"
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def _share(value: float | None) -> str:
    return "no data" if value is None else f"{value * 100:.0f}%"


def _trend_arrow(direction: str | None) -> str:
    return {"up": "↑", "down": "↓", "flat": "→"}.get(direction or "", "·")


def markdown(review: Review) -> str:
    """The review as Markdown (platform text is quoted as code, so it cannot inject)."""
    lines = [
        f"# Strategy review: {review.since.date()} to {review.until.date()}",
        "",
        f"> {review.strategy.why.splitlines()[0] if review.strategy.why else ''}",
        "",
        f"**Status: {review.status}** — {review.status_reason}",
        "",
        "## Biggest gaps",
        "",
    ]
    lines += [f"{n}. {g.sentence}" for n, g in enumerate(review.gaps, 1)] or ["None measured."]
    if review.unknown:
        lines += ["", "## No data", ""] + [f"- {g.sentence}" for g in review.unknown]
    lines += [
        "",
        "## Key results",
        "",
        "| goal | key result | value | status | trend |",
        "|---|---|---|---|---|",
    ]
    for kr in review.key_results:
        series = " ".join(_value(p.value, kr.key_result.percent) for p in kr.trend)
        lines.append(
            f"| {_cell(kr.goal)} | `{_cell(kr.key_result.text)}` | "
            f"{_value(kr.value, kr.key_result.percent)} | {kr.status} | "
            f"{_trend_arrow(kr.direction)} {series} |"
        )
    lines += ["", "## Mix", "", "| kind | target | actual |", "|---|---|---|"]
    lines += [f"| {m.kind} | {_share(m.target)} | {_share(m.actual)} |" for m in review.mix]
    lines += ["", "## Pillars", "", "| pillar | posts | share |", "|---|---|---|"]
    lines += [f"| {_cell(p.name)} | {p.posts} | {_share(p.share)} |" for p in review.pillars]
    lines += [
        "",
        "## Habits",
        "",
        "| habit | done | target | streak | best |",
        "|---|---|---|---|---|",
    ]
    for h in review.habits:
        done = "no data" if h.done is None else str(h.done)
        lines.append(
            f"| {_cell(h.habit.name)} | {done} | {h.habit.target} per {h.habit.per} | "
            f"{'-' if h.streak is None else h.streak} | "
            f"{'-' if h.best_streak is None else h.best_streak} |"
            + (f" {_cell(str(h.reason))}" if h.reason else "")
        )
    lines += [
        "",
        "## Unaligned activity",
        "",
        f"{len(review.unaligned)} of {review.posts - len(review.unsupported)} posts serve no "
        f"pillar ({_share(review.unaligned_share)}).{_not_read(review)}",
        "",
    ]
    for post, _alignment in review.unaligned[:5]:
        snippet = " ".join(post.text.split())[:120].replace("`", "'")
        lines.append(f"- `{snippet}`")
    return "\n".join(lines) + "\n"


def _not_read(review: Review) -> str:
    """The posts alignment could not read, by language (empty when there are none)."""
    if not review.unsupported:
        return ""
    languages = ", ".join(f"{k} {v}" for k, v in review.unsupported_languages.items())
    return (
        f" {len(review.unsupported)} more are in languages your pillars are not written in "
        f"({languages}): not counted as unaligned."
    )


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _line_chart(kr: KeyResultStatus) -> str:
    values = [p.value for p in kr.trend]
    known = [v for v in values if v is not None]
    target = kr.key_result.target
    top = max([*known, target, 1e-9]) * 1.15
    inner_w, inner_h = _WIDTH - 2 * _PAD, _HEIGHT - 2 * _PAD
    step = inner_w / max(1, len(values) - 1)

    def y(v: float) -> float:
        return _PAD + inner_h - (v / top) * inner_h if top else _PAD + inner_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart kr-chart" width="{_WIDTH}" '
        f'height="{_HEIGHT}" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-label="{escape(kr.key_result.text)} over weeks">',
        f"<title>{escape(kr.key_result.text)}</title>",
        f'<line x1="{_PAD}" y1="{_PAD + inner_h}" x2="{_PAD + inner_w}" y2="{_PAD + inner_h}" '
        'stroke="#999"/>',
        f'<line class="target" x1="{_PAD}" y1="{y(target):.1f}" x2="{_PAD + inner_w}" '
        f'y2="{y(target):.1f}" stroke="#c33" stroke-dasharray="4 3"/>',
        f'<text x="{_PAD + inner_w}" y="{y(target) - 3:.1f}" font-size="9" text-anchor="end" '
        f'fill="#c33">target {escape(kr.key_result.op)} '
        f"{escape(_value(target, kr.key_result.percent))}</text>",
    ]
    points = [
        (f"{_PAD + i * step:.1f}", f"{y(v):.1f}") for i, v in enumerate(values) if v is not None
    ]
    if len(points) > 1:
        parts.append(
            '<polyline fill="none" stroke="#2563eb" stroke-width="2" points="'
            + " ".join(f"{x},{yy}" for x, yy in points)
            + '"/>'
        )
    for i, v in enumerate(values):
        x = _PAD + i * step
        if v is None:
            parts.append(
                f'<text x="{x:.1f}" y="{_PAD + inner_h - 4}" font-size="8" '
                'text-anchor="middle" fill="#999">no data</text>'
            )
        else:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="3" fill="#2563eb">'
                f"<title>{escape(_value(v, kr.key_result.percent))}</title></circle>"
            )
        label = kr.trend[i].until.date().isoformat()[5:]
        parts.append(
            f'<text x="{x:.1f}" y="{_HEIGHT - 8}" font-size="8" '
            f'text-anchor="middle" fill="#555">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _mix_chart(rows: tuple[MixRow, ...]) -> str:
    width, height = 360, 150
    inner_h = height - 2 * _PAD
    group = (width - 2 * _PAD) / max(1, len(rows))
    bar = group / 3
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart mix-chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="mix against target">',
        "<title>Mix against target</title>",
        f'<line x1="{_PAD}" y1="{_PAD + inner_h}" x2="{width - _PAD}" y2="{_PAD + inner_h}" '
        'stroke="#999"/>',
    ]
    for i, row in enumerate(rows):
        x0 = _PAD + i * group + bar / 2
        for j, (value, colour, what) in enumerate(
            ((row.target, "#9ca3af", "target"), (row.actual, "#2563eb", "actual"))
        ):
            x = x0 + j * bar
            if value is None:
                parts.append(
                    f'<text x="{x + bar / 2:.1f}" y="{_PAD + inner_h - 4}" '
                    'font-size="8" text-anchor="middle" fill="#999">no data</text>'
                )
                continue
            h = value * inner_h
            parts.append(
                f'<rect class="{what}" x="{x:.1f}" y="{_PAD + inner_h - h:.1f}" '
                f'width="{bar - 2:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(row.kind)} {what}: {escape(_share(value))}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + bar:.1f}" y="{height - 8}" font-size="10" '
            f'text-anchor="middle">{escape(row.kind)}</text>'
        )
    parts.append(
        f'<text x="{width - _PAD}" y="14" font-size="9" text-anchor="end">'
        '<tspan fill="#9ca3af">■ target</tspan> <tspan fill="#2563eb">■ actual</tspan>'
        "</text></svg>"
    )
    return "".join(parts)


_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ddd;padding:.3rem .6rem;
text-align:left;vertical-align:top}th{background:#f5f5f5}.met{color:#15803d}.missed{color:#b91c1c}
.nodata{color:#6b7280;font-style:italic}.charts{display:flex;flex-wrap:wrap;gap:1rem}
blockquote{color:#444;border-left:3px solid #ddd;margin:0;padding-left:1rem}
"""


def html(review: Review) -> str:
    """The review as one self-contained HTML page with inline SVG charts."""
    e = escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Strategy review {review.since.date()} – {review.until.date()}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Strategy review: {review.since.date()} to {review.until.date()}</h1>",
        f"<blockquote>{e(review.strategy.why)}</blockquote>",
        f'<p id="status"><strong>Status: {e(review.status)}</strong> — '
        f"{e(str(review.status_reason or ''))}</p>",
        '<section id="gaps"><h2>Biggest gaps</h2><ol>',
    ]
    out += [f"<li>{e(str(g.sentence))}</li>" for g in review.gaps] or ["<li>None measured.</li>"]
    out.append("</ol>")
    if review.unknown:
        out += [
            "<h3>No data</h3><ul>",
            *(f"<li>{e(str(g.sentence))}</li>" for g in review.unknown),
        ]
        out.append("</ul>")
    out += [
        '</section><section id="key-results"><h2>Key results</h2>',
        "<table><thead><tr><th>goal</th><th>key result</th><th>value</th><th>status</th>"
        "<th>trend</th></tr></thead><tbody>",
    ]
    for kr in review.key_results:
        status_class = {"met": "met", "missed": "missed"}.get(kr.status, "nodata")
        out.append(
            f"<tr><td>{e(kr.goal)}</td><td><code>{e(kr.key_result.text)}</code></td>"
            f'<td class="{status_class}">{e(_value(kr.value, kr.key_result.percent))}</td>'
            f'<td class="{status_class}">{e(kr.status)}</td>'
            f"<td>{e(_trend_arrow(kr.direction))}</td></tr>"
        )
    out.append('</tbody></table><div class="charts">')
    out += [_line_chart(kr) for kr in review.key_results]
    out += [
        '</div></section><section id="mix"><h2>Mix against target</h2>',
        "<table><thead><tr><th>kind</th><th>target</th><th>actual</th></tr></thead><tbody>",
    ]
    out += [
        f"<tr><td>{e(m.kind)}</td><td>{e(_share(m.target))}</td><td>{e(_share(m.actual))}</td></tr>"
        for m in review.mix
    ]
    out += [
        "</tbody></table>",
        _mix_chart(review.mix),
        "</section>",
        '<section id="pillars"><h2>Pillars</h2><table><thead><tr><th>pillar</th>'
        "<th>posts</th><th>share</th></tr></thead><tbody>",
    ]
    out += [
        f"<tr><td>{e(p.name)}</td><td>{p.posts}</td><td>{e(_share(p.share))}</td></tr>"
        for p in review.pillars
    ]
    out += [
        '</tbody></table></section><section id="habits"><h2>Habits</h2><table><thead>'
        "<tr><th>habit</th><th>done</th><th>target</th><th>streak</th><th>best</th></tr>"
        "</thead><tbody>"
    ]
    for h in review.habits:
        done = (
            f'<span class="nodata" title="{e(str(h.reason or ""))}">no data</span>'
            if h.done is None
            else str(h.done)
        )
        out.append(
            f"<tr><td>{e(h.habit.name)}</td><td>{done}</td>"
            f"<td>{h.habit.target} per {e(h.habit.per)}</td>"
            f"<td>{'–' if h.streak is None else h.streak}</td>"
            f"<td>{'–' if h.best_streak is None else h.best_streak}</td></tr>"
        )
    out += [
        '</tbody></table></section><section id="unaligned"><h2>Unaligned activity</h2>',
        f"<p>{len(review.unaligned)} of {review.posts - len(review.unsupported)} posts serve "
        f"no pillar ({e(_share(review.unaligned_share))}).{e(_not_read(review))}</p><ul>",
    ]
    out += [f"<li>{e(' '.join(post.text.split())[:200])}</li>" for post, _ in review.unaligned[:5]]
    out += ["</ul></section></body></html>"]
    return "\n".join(out) + "\n"
