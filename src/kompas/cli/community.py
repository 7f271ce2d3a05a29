"""``kompas community``: are you building relationships, or just posting?"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kompas.cli._common import State, err, fail, out
from kompas.errors import KompasError
from kompas.model import Platform

if TYPE_CHECKING:
    from kompas.community import CommunityReport, Figures, Period, Relationship

app = typer.Typer(
    help="Community: conversations, sharing, learning and connections, beside vanity numbers.",
    invoke_without_command=True,
)

DEFAULT_DAYS = 90
#: kompas.community.report.HALF_LIFE_DAYS, written out so that `--help` does not import the
#: pillar (tests/test_startup.py checks that they agree).
HALF_LIFE_DAYS = 30.0

Since = Annotated[
    str | None,
    typer.Option(
        "--since", help="First day of the period (YYYY-MM-DD; default: 90 days before --until)."
    ),
]
Until = Annotated[
    str | None,
    typer.Option("--until", help="Last day of the period, included (YYYY-MM-DD; default: today)."),
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


class BadInput(KompasError):
    """A flag value the user must fix."""


def _moment(value: str, flag: str, end_of_day: bool) -> datetime:
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{flag} {value!r} is not a date (expected YYYY-MM-DD)") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def period_of(since: str | None, until: str | None, all_time: bool) -> Period:
    """The period the flags name: ``--until`` includes its whole day; the default is the
    last 90 days."""
    from kompas.community import Period

    if all_time:
        if since or until:
            raise BadInput("--all cannot be combined with --since/--until")
        return Period()
    end = _moment(until, "--until", True) if until else datetime.now(UTC)
    start = _moment(since, "--since", False) if since else end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise BadInput(f"--since {since} is not before --until {until}")
    return Period(start, end)


def _load(
    since: str | None, until: str | None, all_time: bool, platform: str | None, half_life: float
) -> CommunityReport:
    from kompas.community import report

    try:
        if platform is not None and platform not in {p.value for p in Platform}:
            raise BadInput(
                f"unknown platform {platform!r} (one of: {', '.join(p.value for p in Platform)})"
            )
        if half_life <= 0:
            raise BadInput("--half-life must be a positive number of days")
        period = period_of(since, until, all_time)
        with State.workspace().engine.connect() as connection:
            return report(connection, period, half_life, platform)
    except KompasError as error:
        raise fail(error) from None


def _hint(result: CommunityReport) -> str | None:
    if not result.empty:
        return None
    if result.data_start is None or result.data_end is None:
        return "No data yet: import an export with `kompas import ...` (see docs/import.md)."
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
    result = _load(since, until, all_time, platform, half_life)
    hint = _hint(result)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
        if hint:
            err.print(hint, highlight=False)
        return
    _print(result)
    if hint:
        out.print(f"[yellow]{hint}[/]", highlight=False)


def _number(value: float | int | None, percent: bool = False) -> str:
    if value is None:
        return "[dim]no data[/]"
    if percent:
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"


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
    ("self-promotion", "self_promotion", False),
    ("people shared from", "distinct_people_shared", False),
    ("Learning", "", False),
    ("likes given", "likes_given", False),
    ("bookmarks", "bookmarks_given", False),
    ("sources learned from", "distinct_sources_learned", False),
    ("undated (not in period)", "undated_excluded", False),
    ("Connections", "", False),
    ("people interacted with", "people_interacted", False),
    ("new connections", "new_connections", False),
    ("reciprocity", "reciprocity", True),
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
    period, span = result.period, "all time"
    if period.since is not None and period.until is not None:
        last_day = period.until - timedelta(seconds=1)
        span = f"{period.since:%Y-%m-%d} to {last_day:%Y-%m-%d}"
    table = Table(title=f"Community, {span}", title_justify="left")
    table.add_column("", style="bold")
    for name in result.figures:
        table.add_column(name, justify="right")
    for label, key, percent in _ROWS:
        if not key:
            table.add_row(f"[cyan]{label}[/]")
            continue
        table.add_row(
            f"  {label}", *(_number(getattr(f, key), percent) for f in result.figures.values())
        )
    table.add_row("[cyan]Mix of posts[/]")
    for kind in ("conversation", "sharing", "broadcast", "other"):
        table.add_row(
            f"  {kind}", *(_number(getattr(f.mix, kind), True) for f in result.figures.values())
        )
    table.add_row("[cyan]Style[/]", *(f.style for f in result.figures.values()))
    out.print(table)
    merged = result.figures["all"]
    for name, figures in result.figures.items():
        out.print(f"[bold]{name}[/] style {figures.style}: " + "; ".join(figures.style_reasons))
    platforms = [p for p in result.figures if p != "all"]
    _print_trends(merged, platforms[0] if len(platforms) == 1 else "all platforms")
    if not merged.received_data:
        out.print(
            "[dim]no data: your exports hold what you did, not what others did to you "
            "(replies and mentions received); see docs/community.md.[/]"
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
    """Your relationships, strongest first (strength decays with a half-life)."""
    result = _load(since, until, all_time, platform, half_life)
    scope = platform or "all"
    found = result.fading(scope, top) if fading else result.top(scope, top)
    if as_json:
        payload = {
            "period": result.to_json()["period"],
            "fading" if fading else "top": [r.to_json() for r in found],
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    _print_people(found, fading, result)


def _print_people(found: list[Relationship], fading: bool, result: CommunityReport) -> None:
    if not found:
        if fading and result.period.since is None:
            out.print("Fading relationships need a period: pass --since (and --until).")
        else:
            out.print("No relationships in this period." + (" " + (_hint(result) or "")))
        return
    title = "Fading: strong before the period, silent in it" if fading else "Top relationships"
    table = Table(title=title, title_justify="left")
    for column in ("person", "handles", "strength", "before", "given", "received", "last seen"):
        table.add_column(
            column,
            justify="right" if column in ("strength", "before", "given", "received") else "left",
        )
    for r in found:
        table.add_row(
            escape(r.person),
            escape(", ".join(r.handles)),
            f"{r.strength:.2f}",
            f"{r.strength_before:.2f}",
            str(r.given),
            str(r.received),
            f"{r.last_seen:%Y-%m-%d}" if r.last_seen else "",
        )
    out.print(table, highlight=False)
