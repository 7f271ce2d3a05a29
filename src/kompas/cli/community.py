"""``kompas community``: are you building relationships, or just posting?"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from kompas.cli._common import State, err, fail, out, own_domains
from kompas.errors import KompasError
from kompas.period import PeriodError, note, period_of

if TYPE_CHECKING:
    from kompas.community import CommunityReport, Figures, Relationship

app = typer.Typer(
    help="Community: conversations, sharing, learning and connections, beside vanity numbers.",
    invoke_without_command=True,
)

#: kompas.community.report.HALF_LIFE_DAYS, written out so that `--help` does not import the
#: pillar (tests/test_startup.py checks that they agree).
HALF_LIFE_DAYS = 30.0

Since = Annotated[
    str | None,
    typer.Option(
        "--since", help="First day of the period (YYYY-MM-DD; default: 90 days before its end)."
    ),
]
Until = Annotated[
    str | None,
    typer.Option(
        "--until",
        help="Last day of the period, included (YYYY-MM-DD; default: the day your data ends, "
        "or today when it is current).",
    ),
]
AllTime = Annotated[
    bool,
    typer.Option("--all", help="All time, undated records (e.g. X likes) included."),
]
PlatformOpt = Annotated[
    str | None,
    typer.Option("--platform", help="Only this platform: x, mastodon, bluesky or linkedin."),
]
HalfLife = Annotated[
    float,
    typer.Option("--half-life", help="Days after which an interaction counts half (strength)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for programs.")]


def _load(
    since: str | None, until: str | None, all_time: bool, platform: str | None, half_life: float
) -> tuple[CommunityReport, str | None]:
    """The report of the period the flags name (by default the 90 days up to where the
    data ends), and the line to show first about that period."""
    from kompas.community import report
    from kompas.model import Platform
    from kompas.store.queries import data_span

    try:
        if platform is not None and platform not in {p.value for p in Platform}:
            raise PeriodError(
                f"unknown platform {platform!r} (one of: {', '.join(p.value for p in Platform)})"
            )
        if half_life <= 0:
            raise PeriodError("--half-life must be a positive number of days")
        workspace = State.workspace()
        with workspace.engine.connect() as connection:
            span = data_span(connection).of(platform)
            period = period_of(since, until, all_time, span)
            result = report(connection, period, half_life, platform, own_domains(workspace))
    except KompasError as error:
        raise fail(error) from None
    return result, note(period, span) or _hint(result)


def _hint(result: CommunityReport) -> str | None:
    if not result.empty or result.data_start is None or result.data_end is None:
        return None
    first, last = result.data_start.date(), result.data_end.date()
    return (
        f"Nothing you did falls in this period. Your data runs from {first} to {last}: "
        f"try --since {first} --until {last}, or --all."
    )


@app.callback()
def community(
    ctx: typer.Context,
    since: Since = None,
    until: Until = None,
    all_time: AllTime = False,
    platform: PlatformOpt = None,
    half_life: HalfLife = HALF_LIFE_DAYS,
    as_json: AsJson = False,
) -> None:
    """Your community figures for a period (default: the last 90 days), per platform and
    merged, beside the vanity numbers."""
    if ctx.invoked_subcommand is not None:
        return
    result, first_line = _load(since, until, all_time, platform, half_life)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
        if first_line:
            err.print(first_line, highlight=False, markup=False)
        return
    if first_line:
        out.print(Text(first_line, style="yellow"))
    _print(result)


def _number(value: float | int | str | None, percent: bool = False) -> Text:
    if value is None:
        return Text("no data", style="dim")
    if isinstance(value, str):
        return Text(value)
    if percent:
        return Text(f"{value:.1%}" if 0 < value < 0.01 else f"{value:.0%}")
    if isinstance(value, float):
        return Text(f"{value:,.2f}")
    return Text(f"{value:,}")


_ROWS: tuple[tuple[str, str, bool], ...] = (
    ("Conversation", "", False),
    ("replies given", "replies_given", False),
    ("replies received", "replies_received", False),
    ("conversations started", "conversations_started", False),
    ("conversations joined", "conversations_joined", False),
    ("median minutes to reply", "median_reply_minutes", False),
    ("left unanswered", "unanswered_share", True),
    ("Sharing", "", False),
    ("reposts/quotes of others", "reposts_of_others", False),
    ("links to others' pages", "links_shared", False),
    ("self-promotion", "self_promotion", False),
    ("people shared from", "distinct_people_shared", False),
    ("Learning", "", False),
    ("likes given", "likes_given", False),
    ("bookmarks", "bookmarks_given", False),
    ("sources learned from", "distinct_sources_learned", False),
    ("undated (not in period)", "undated_excluded", False),
    ("Connections", "", False),
    ("people interacted with", "people_interacted", False),
    ("people reached (first time)", "people_reached", False),
    ("new connections (two-way)", "new_connections", False),
    ("reciprocity", "reciprocity", True),
    ("  basis", "reciprocity_basis", False),
    ("people you replied to", "follow_back_of", False),
    ("  of whom follow you back", "follow_back", True),
    ("mutual follows", "mutuals", False),
    ("automated accounts", "automated_accounts", False),
    ("Rates per post", "", False),
    ("conversation rate", "conversation_rate", False),
    ("amplification rate", "amplification_rate", False),
    ("applause rate", "applause_rate", False),
    ("Vanity", "", False),
    ("followers", "followers", False),
    ("following", "following", False),
    ("posts", "posts", False),
)


def _print(result: CommunityReport) -> None:
    table = Table(title=f"Community, {result.period.label()}", title_justify="left")
    table.add_column("", style="bold")
    for name in result.figures:
        table.add_column(name, justify="right")
    figures = list(result.figures.values())
    for label, key, percent in _ROWS:
        if not key:
            table.add_row(Text(label, style="cyan"))
            continue
        table.add_row(f"  {label}", *(_number(f.get(key), percent) for f in figures))
    table.add_row(Text("Mix of posts", style="cyan"))
    for kind in ("conversation", "sharing", "broadcast", "other"):
        table.add_row(f"  {kind}", *(_number(f.get(f"mix.{kind}"), True) for f in figures))
    table.add_row(Text("Style", style="cyan"), *(_number(f.style) for f in figures))
    out.print(table)
    merged = result.figures["all"]
    for name, f in result.figures.items():
        line = Text.assemble((name, "bold"), f" style {f.style or 'no data'}: ")
        line.append("; ".join(reason.render() for reason in f.style_reasons))
        out.print(line)
    platforms = [p for p in result.figures if p != "all"]
    if merged.has_data:
        _print_trends(merged, platforms[0] if len(platforms) == 1 else "all platforms")
    if merged.has_data and not merged.received_data:
        out.print(
            Text(
                "Replies and mentions received: no data. Exports hold what you did, not what "
                "others did to you; `kompas sync` (Mastodon, Bluesky) adds it, and reciprocity "
                "falls back to who follows you back where the export lists your followers "
                "(see docs/community.md).",
                style="dim",
            )
        )


def _print_trends(figures: Figures, scope: str) -> None:
    from kompas.cli._trends import print_trends

    print_trends(out, figures.trends.weeks, figures.trends.series, scope)


@app.command("people")
def people_command(
    top: Annotated[int, typer.Option("--top", min=1, help="How many people to list.")] = 20,
    fading: Annotated[
        bool,
        typer.Option("--fading", help="List fading relationships: strong before, silent now."),
    ] = False,
    since: Since = None,
    until: Until = None,
    all_time: AllTime = False,
    platform: PlatformOpt = None,
    half_life: HalfLife = HALF_LIFE_DAYS,
    as_json: AsJson = False,
) -> None:
    """Your relationships, strongest first: strength decays with a half-life up to the end
    of the period (over --all it counts every exchange). Automated accounts are listed
    apart, never ranked."""
    result, first_line = _load(since, until, all_time, platform, half_life)
    scope = platform or "all"
    found = result.fading(scope, top) if fading else result.top(scope, top)
    if as_json:
        payload = {
            "period": result.to_json()["period"],
            "fading" if fading else "top": [r.to_json() for r in found],
            "automated": [r.to_json() for r in result.automated(scope, top)],
        }
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        if first_line:
            err.print(first_line, highlight=False, markup=False)
        return
    if first_line:
        out.print(Text(first_line, style="yellow"))
    _print_people(found, fading, result, scope)


def _print_people(
    found: list[Relationship], fading: bool, result: CommunityReport, scope: str
) -> None:
    if not found:
        if fading and result.period.since is None:
            out.print("Fading relationships need a period: pass --since (and --until).")
        else:
            out.print(
                Text("No relationships in this period. " + (_hint(result) or ""), style="yellow")
            )
        return
    title = "Fading: strong before the period, silent in it" if fading else "Top relationships"
    table = Table(title=f"{title}, {result.period.label()}", title_justify="left")
    numbers = ("strength", "before", "given", "received")
    for column in ("who", "way", *numbers, "last seen"):
        table.add_column(column, justify="right" if column in numbers else "left")
    for r in found:
        table.add_row(
            Text(r.name),
            r.way,
            f"{r.strength:.2f}",
            f"{r.strength_before:.2f}",
            str(r.given),
            str(r.received),
            f"{r.last_seen:%Y-%m-%d}" if r.last_seen else "",
        )
    out.print(table)
    bots = result.automated(scope, 5)
    if bots:
        names = ", ".join(f"{b.name} ({b.given + b.received})" for b in bots)
        out.print(Text(f"Automated accounts you exchanged with (not ranked): {names}", style="dim"))
