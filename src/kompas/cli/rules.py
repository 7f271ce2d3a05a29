"""``kompas rules ...``, ``kompas feeds ...`` and ``kompas digest``: the rules pillar.

Thin shells over :mod:`kompas.rules`, :mod:`kompas.sources.feed_fetch` and
:mod:`kompas.store.feeds`: they parse arguments, call the library and print.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from kompas.cli._common import State, err, fail, out
from kompas.errors import KompasError, UsageError
from kompas.period import DataSpan, anchor

if TYPE_CHECKING:
    from kompas.rules import RuleSet
    from kompas.sources.feed_fetch import FetchResult

# The rule engine, the feed fetcher and the store load inside each command, not for `--help`.

#: kompas.sources.feed_fetch.DEFAULT_MAX_BYTES, written out so that `--help` does not import
#: the HTTP client (tests/test_startup.py checks that they agree).
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

STYLES = ("connector", "curator", "promoter", "all-rounder", "lurker")

rules_app = typer.Typer(
    help="Your rules: a small, safe language run over everything you read and do.",
    no_args_is_help=True,
)
feeds_app = typer.Typer(
    help="RSS/Atom feeds: follow, pull (conditional GET), list, republish, serve on Bluesky.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for programs.")]


def rules_path() -> Path:
    """The workspace's rules file."""
    return State.workspace().home / "rules.yaml"


def _workspace_rules(required: bool) -> RuleSet | None:
    from kompas.rules import load_rules

    path = rules_path()
    if not path.exists():
        if required:
            raise fail(KompasError(f"no rules file at {path}: create one with `kompas rules init`"))
        return None
    try:
        return load_rules(path)
    except KompasError as error:
        raise fail(error) from None


def _window(text: str, span: DataSpan) -> tuple[datetime, datetime, str | None]:
    """``--since``: a duration back from where the data ends (the end of its newest day
    when that is before today, else now), or a date up to now; and the line that says
    where the window was anchored."""
    from kompas.rules.compiler import parse_duration

    now = datetime.now(UTC)
    try:
        length = parse_duration(text)
    except ValueError:
        return _parse_moment(text, now), now, None
    end, anchored = anchor(span, now)
    if not anchored or span.last is None:
        return now - length, now, None
    return (
        end - length,
        end,
        f"Your newest data is from {span.last:%Y-%m-%d}: the window ({text}) ends then, "
        "not today (pass a date to --since to choose another).",
    )


def _parse_moment(text: str, now: datetime, flag: str = "--since") -> datetime:
    """``7d``/``36h`` (ago) or an ISO 8601 date/time."""
    from kompas.rules.compiler import parse_duration

    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise fail(
            UsageError(f"{flag} {text!r}: expected a duration (90m, 36h, 7d, 2w) or a date")
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---------------------------------------------------------------- kompas rules


@rules_app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of rules.yaml (for editors' completion and checks)."""
    from kompas.rules import rules_schema

    sys.stdout.write(json.dumps(rules_schema(), indent=2) + "\n")


@rules_app.command("init")
def init_command(
    style: Annotated[
        str,
        typer.Option(
            "--style", help="Starter rules: connector, curator, promoter, all-rounder, lurker."
        ),
    ] = "all-rounder",
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing rules.yaml.")
    ] = False,
) -> None:
    """Write a starter rules.yaml for your style into the workspace."""
    if style not in STYLES:
        raise fail(UsageError(f"unknown style {style!r}; choose one of: {', '.join(STYLES)}"))
    path = rules_path()
    if path.exists() and not force:
        raise fail(KompasError(f"{path} exists; use --force to overwrite it"))
    text = resources.files("kompas.rules").joinpath("templates", f"{style}.yaml").read_text("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    out.print(
        f"Wrote {path} ({style} style). Edit it, then `kompas rules check`.",
        highlight=False,
        markup=False,
    )


@rules_app.command("check")
def check_command(
    file: Annotated[
        Path | None, typer.Argument(help="A rules file (default: the workspace's rules.yaml).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Validate a rules file; errors give the line and column."""
    from kompas.rules import load_rules

    path = file or rules_path()
    try:
        rules = load_rules(path)
    except KompasError as error:
        raise fail(error) from None
    if as_json:
        payload = {"file": str(path), "rules": [r.name for r in rules.rules], "valid": True}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    out.print(f"{path}: {len(rules.rules)} rule(s), valid.", highlight=False, markup=False)


@rules_app.command("test")
def test_command(
    rules_file: Annotated[Path, typer.Argument(help="The rules file to try.")],
    items_file: Annotated[
        Path, typer.Argument(help="Items as JSON Lines, one FeedItem-shaped object a line.")
    ],
    now: Annotated[
        str | None,
        typer.Option("--now", help="Judge ages as of this ISO time (default: now), for tests."),
    ] = None,
) -> None:
    """Run a rules file over items offline; print one JSON decision per item."""
    from kompas.rules import Item, ItemError, load_rules
    from kompas.rules.regexes import TIMEOUT_TAG, Budget

    try:
        rules = load_rules(rules_file)
    except KompasError as error:
        raise fail(error) from None
    moment = datetime.now(UTC) if now is None else _parse_moment(now, datetime.now(UTC), "--now")
    try:
        lines = items_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(KompasError(f"{items_file}: cannot read ({exc})")) from None
    budget, late = Budget.start(), 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = Item.from_json(json.loads(line))
        except json.JSONDecodeError as exc:
            raise fail(
                KompasError(f"{items_file}, line {number}, column {exc.colno}: {exc.msg}")
            ) from None
        except (ValueError, RecursionError) as exc:  # a huge number, nesting too deep
            problem = (
                "nested too deeply"
                if isinstance(exc, RecursionError)
                else "a number too long to read (more than 4,300 digits)"
            )
            raise fail(KompasError(f"{items_file}, line {number}: {problem}")) from None
        except ItemError as error:
            raise fail(KompasError(f"{items_file}, line {number}: {error}")) from None
        decision = rules.explain(item, moment, budget)
        late += TIMEOUT_TAG in decision.tags
        sys.stdout.write(json.dumps(decision.as_json()) + "\n")
    if late:
        err.print(
            f"{late:,} item(s) ran out of regex time: kept and tagged {TIMEOUT_TAG}.",
            highlight=False,
        )


@rules_app.command("explain")
def explain_command(
    item_id: Annotated[str, typer.Argument(help="A feed item's id (see `kompas digest --json`).")],
    as_json: JsonOption = False,
) -> None:
    """Show what the rules decided about an item, which rules fired, and why."""
    from kompas.store import feeds as store

    with State.workspace().engine.connect() as connection:
        decided = store.decision(connection, item_id)
        stored = next(iter(store.items(connection, ids=[item_id])), None)
    if decided is None or stored is None:
        raise fail(KompasError(f"no decision about item {item_id!r} (pull feeds first)"))
    if as_json:
        payload = {
            "id": item_id,
            "title": stored.item.title,
            "url": stored.item.url,
            "source": stored.item.source,
            "kept": decided.kept,
            "score": decided.score,
            "tags": list(decided.tags),
            "routes": list(decided.routes),
            "decided_by": decided.decided_by,
            "fired": decided.fired,
            "rules_digest": decided.rules_digest,
            "decided_at": decided.decided_at.isoformat(),
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    verdict = "[green]kept[/]" if decided.kept else "[red]dropped[/]"
    by = f" by rule {decided.decided_by!r}" if decided.decided_by else " (default)"
    out.print(f"[bold]{_plain(stored.item.title) or item_id}[/]  ({_plain(stored.item.url or '')})")
    author = f" · {stored.item.author}" if stored.item.author else ""
    out.print(f"from {_plain(stored.item.source)}{_plain(author)}", highlight=False)
    out.print(f"{verdict}{_plain(by)}, score {decided.score}")
    if decided.tags:
        out.print("tags: " + _plain(", ".join(decided.tags)))
    if decided.routes:
        out.print("routes: " + _plain(", ".join(decided.routes)))
    if not decided.fired:
        out.print("No rule fired.")
    for fired in decided.fired:
        out.print(
            f"• rule [bold]{_plain(str(fired['rule']))}[/] (line {fired['line']}): "
            + _plain(", ".join(fired.get("effects", ())))
        )
        for reason in fired.get("reasons", ()):
            out.print(f"    because {_plain(str(reason))}")


def _plain(text: str) -> str:
    """Untrusted text made inert for Rich markup."""
    return text.replace("[", r"\[")


@rules_app.command("run")
def run_command(as_json: JsonOption = False) -> None:
    """Apply the workspace rules again to every stored feed item."""
    from kompas.rules.pipeline import apply_rules
    from kompas.rules.regexes import TIMEOUT_TAG

    rules = _workspace_rules(required=True)
    assert rules is not None
    with State.workspace().engine.begin() as connection:
        decisions = apply_rules(connection, rules)
    kept = sum(d.kept for d in decisions)
    late = sum(TIMEOUT_TAG in d.tags for d in decisions)
    if as_json:
        payload = {
            "items": len(decisions),
            "kept": kept,
            "dropped": len(decisions) - kept,
            "timed_out": late,
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    out.print(
        f"Decided {len(decisions):,} item(s): {kept:,} kept, {len(decisions) - kept:,} dropped."
        + (f" {late:,} ran out of regex time (kept, tagged {TIMEOUT_TAG})." if late else "")
    )


@rules_app.command("activity")
def activity_command(
    since: Annotated[str, typer.Option("--since", help="Window start: 7d, 2w or a date.")] = "7d",
    as_json: JsonOption = False,
) -> None:
    """Count the tags your rules give your own posts and interactions (habits)."""
    from kompas.rules.pipeline import count_tagged
    from kompas.store.queries import data_span

    rules = _workspace_rules(required=True)
    assert rules is not None
    with State.workspace().engine.connect() as connection:
        start, end, first_line = _window(since, data_span(connection))
        counts = count_tagged(connection, rules, start, end)
    if as_json:
        payload = {"since": start.isoformat(), "until": end.isoformat(), "tags": counts}
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        if first_line:
            err.print(first_line, highlight=False, markup=False)
        return
    if first_line:
        out.print(first_line, highlight=False, markup=False, style="yellow")
    if not counts:
        out.print("No tagged activity in that window.")
    for tag, count in counts.items():
        out.print(f"{_plain(tag)}: {count:,}")


# ---------------------------------------------------------------- kompas feeds


@feeds_app.command("add")
def add_command(
    url: Annotated[str, typer.Argument(help="The feed's URL (RSS or Atom).")],
    title: Annotated[str | None, typer.Option("--title", help="A name for the feed.")] = None,
) -> None:
    """Follow a feed."""
    from kompas.store import feeds as store

    if not re.match(r"^https?://[^\s/]+", url):
        raise fail(KompasError(f"{url!r} is not an http(s) URL"))
    with State.workspace().engine.begin() as connection:
        added = store.add_subscription(connection, url, title)
    out.print(
        f"Following {url}." if added else f"Already following {url}.",
        highlight=False,
        markup=False,
    )


def _result_json(result: FetchResult, new: int, failures: int) -> dict[str, Any]:
    return {
        "url": result.url,
        "status": result.status,
        "http_status": result.http_status,
        "entries": len(result.entries),
        "new": new,
        "error": result.error,
        "failure_count": failures,
        "seconds": round(result.seconds, 3),
    }


@feeds_app.command("pull")
def pull_command(
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds allowed per feed.", min=0.1)
    ] = 20.0,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Feeds fetched at once.", min=1, max=64)
    ] = 16,
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", help="Largest feed document accepted.", min=1024)
    ] = DEFAULT_MAX_BYTES,
    as_json: JsonOption = False,
) -> None:
    """Fetch every followed feed (conditional GET), store new items, apply your rules."""
    from kompas.rules.pipeline import pull
    from kompas.store import feeds as store

    rules = _workspace_rules(required=False)
    workspace = State.workspace()
    with workspace.engine.connect() as connection:
        total = len(store.subscriptions(connection))
    if not total:
        out.print("No feeds yet: `kompas import opml FILE` or `kompas feeds add URL`.")
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        TextColumn("[bold]pulling feeds"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    try:
        with (
            workspace.writing(
                "pulling feeds", lambda m: err.print(m, markup=False, highlight=False)
            ),
            progress,
        ):
            task = progress.add_task("pull", total=total)
            report = pull(
                workspace.engine,
                rules,
                on_result=lambda _: progress.advance(task),
                timeout=timeout,
                concurrency=concurrency,
                max_bytes=max_bytes,
            )
    except KompasError as error:
        raise fail(error) from None
    decisions = report.decisions
    new_ids = report.new_ids
    rows = [_result_json(f.result, f.new_items, f.failure_count) for f in report.feeds]
    failed = sum(r["status"] == "error" for r in rows)
    if as_json:
        payload = {
            "feeds": rows,
            "new_items": len(new_ids),
            "kept": sum(d.kept for d in decisions),
            "failed": failed,
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        for row in rows:
            if row["status"] == "error":
                err.print(
                    f"[red]failed[/] {_plain(row['url'])}: {_plain(str(row['error']))} "
                    f"(failures so far: {row['failure_count']})",
                    highlight=False,
                )
        unchanged = sum(r["status"] == "not-modified" for r in rows)
        out.print(
            f"Pulled {len(rows)} feed(s): {len(new_ids):,} new item(s), {unchanged} unchanged, "
            f"{failed} failed."
            + (f" Rules kept {sum(d.kept for d in decisions):,}." if decisions else ""),
            highlight=False,
        )
    if rows and failed == len(rows):
        raise typer.Exit(3)


@feeds_app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """The feeds you follow, their items, last status and failure counts."""
    from kompas.store import feeds as store

    with State.workspace().engine.connect() as connection:
        statuses = store.feed_statuses(connection)
    if as_json:
        payload = [
            {
                "url": s.url,
                "title": s.title,
                "items": s.items,
                "last_status": s.last_status,
                "last_error": s.last_error,
                "last_fetched_at": s.last_fetched_at.isoformat() if s.last_fetched_at else None,
                "failure_count": s.failure_count,
                "consecutive_failures": s.consecutive_failures,
            }
            for s in statuses
        ]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    if not statuses:
        out.print("No feeds yet: `kompas import opml FILE` or `kompas feeds add URL`.")
        return
    table = Table(title="Feeds", title_justify="left")
    for column in ("feed", "items", "last", "failures"):
        table.add_column(column, justify="right" if column in ("items", "failures") else "left")
    for s in statuses:
        last = s.last_status or "never pulled"
        if s.last_error:
            last = f"{last}: {s.last_error}"
        table.add_row(_plain(s.title or s.url), f"{s.items:,}", _plain(last), str(s.failure_count))
    out.print(table)


@feeds_app.command("publish")
def publish_command(
    name: Annotated[str, typer.Argument(help="The route's name: items routed to feed:NAME.")],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder for NAME.atom and NAME.json (default: workspace/feeds)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many items.", min=1)] = 100,
    bluesky: Annotated[
        bool,
        typer.Option(
            "--bluesky",
            help="Publish it as a Bluesky feed instead: write its app.bsky.feed.generator "
            "record to your repository (serve it with `kompas feeds serve NAME --bluesky`).",
        ),
    ] = False,
    service_did: Annotated[
        str | None,
        typer.Option(
            "--service-did",
            help="With --bluesky: did:web:HOST of the server that serves the feed over HTTPS.",
        ),
    ] = None,
    display_name: Annotated[
        str | None,
        typer.Option("--display-name", help="With --bluesky: the feed's name (default: NAME)."),
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="With --bluesky: what the feed shows.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write the items routed to feed:NAME as an Atom feed and a JSON Feed, or publish
    them as a Bluesky feed (--bluesky)."""
    from kompas.rules.publish import FEED_NAME, atom_feed, json_feed, routed
    from kompas.store import feeds as store

    if not FEED_NAME.match(name):
        raise fail(KompasError(f"{name!r} is not a feed name (lowercase letters, digits, - and _)"))
    if bluesky:
        _publish_on_bluesky(name, service_did, display_name or name, description, as_json)
        return
    if service_did or display_name or description:
        raise typer.BadParameter(
            "--service-did, --display-name and --description go with --bluesky"
        )
    workspace = State.workspace()
    with workspace.engine.connect() as connection:
        entries = routed(store.decided_items(connection), name, limit)
    folder = out_dir or workspace.home / "feeds"
    folder.mkdir(parents=True, exist_ok=True)
    atom_path, json_path = folder / f"{name}.atom", folder / f"{name}.json"
    now = datetime.now(UTC)
    atom_path.write_bytes(atom_feed(name, entries, now))
    json_path.write_text(json_feed(name, entries, json_path.resolve().as_uri()), encoding="utf-8")
    if as_json:
        payload = {"atom": str(atom_path), "json_feed": str(json_path), "items": len(entries)}
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    out.print(
        f"Wrote {len(entries)} item(s) to {atom_path} and {json_path}.",
        highlight=False,
        markup=False,
    )


def _publish_on_bluesky(
    name: str, service_did: str | None, display_name: str, description: str | None, as_json: bool
) -> None:
    from kompas.rules.bluesky_feed import GENERATOR, check_service_did, generator_record
    from kompas.sync.bluesky_write import BlueskyWriter
    from kompas.sync.http import PlatformUnreachable, policy_from_env

    if not service_did:
        raise typer.BadParameter("--bluesky needs --service-did did:web:HOST")
    workspace = State.workspace()
    try:
        record = generator_record(check_service_did(service_did), display_name, description)
        writer = BlueskyWriter(workspace.home, policy_from_env())
        written = writer.put(GENERATOR, name, record, f"the feed {name!r}")
    except PlatformUnreachable as error:
        err.print(
            f"[bold red]platform unreachable:[/] {escape(str(error))}", highlight=False, markup=True
        )
        raise typer.Exit(3) from None
    except KompasError as error:
        raise fail(error) from None
    url = f"https://bsky.app/profile/{writer.did}/feed/{name}"
    if as_json:
        payload = {"uri": written.uri, "cid": written.cid, "service_did": service_did, "url": url}
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    out.print(
        f"Published the feed {name!r} ({written.uri}), served by {service_did}: {url}",
        highlight=False,
    )


@feeds_app.command("serve")
def serve_command(
    name: Annotated[str, typer.Argument(help="The route's name: items routed to feed:NAME.")],
    bluesky: Annotated[
        bool,
        typer.Option("--bluesky", help="Serve it as a Bluesky feed generator (required)."),
    ] = False,
    port: Annotated[
        int, typer.Option("--port", help="TCP port on 127.0.0.1.", min=1, max=65535)
    ] = 3000,
    service_did: Annotated[
        str,
        typer.Option(
            "--service-did",
            help="did:web:HOST of the public HTTPS host your reverse proxy answers on.",
        ),
    ] = "did:web:localhost",
) -> None:
    """Serve the items routed to feed:NAME as a Bluesky feed generator on 127.0.0.1
    (getFeedSkeleton, describeFeedGenerator, /.well-known/did.json); Ctrl-C stops it."""
    import uvicorn

    from kompas.rules.bluesky_feed import check_service_did, feed_uri
    from kompas.rules.publish import FEED_NAME
    from kompas.sync import credentials
    from kompas.web.feedgen import create_feed_app

    if not bluesky:
        raise typer.BadParameter("kompas serves feeds for Bluesky only: add --bluesky")
    if not FEED_NAME.match(name):
        raise fail(KompasError(f"{name!r} is not a feed name (lowercase letters, digits, - and _)"))
    workspace = State.workspace()
    try:
        check_service_did(service_did)
        publisher = str(credentials.load(workspace.home, "bluesky")["did"])
        engine = workspace.engine
    except KompasError as error:
        raise fail(error) from None
    app = create_feed_app(engine, name, publisher, service_did)
    out.print(
        f"Bluesky feed {feed_uri(publisher, name)} as {service_did}: http://127.0.0.1:{port}/ "
        "(Ctrl-C stops it; expose it over HTTPS with a reverse proxy, see docs/feeds.md)",
        highlight=False,
    )
    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    except OSError as error:
        err.print(
            f"[bold red]error:[/] cannot listen on 127.0.0.1:{port}: {escape(str(error))}",
            markup=True,
        )
        raise typer.Exit(1) from None


# ---------------------------------------------------------------- kompas digest


def digest_command(
    since: Annotated[
        str, typer.Option("--since", help="Items since: a duration (36h, 7d, 2w) or a date.")
    ] = "7d",
    fmt: Annotated[str, typer.Option("--format", help="md or html.")] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Your digest: kept items ranked by score, grouped by tag."""
    from kompas.rules.digest import build_digest, render_html, render_markdown
    from kompas.store import feeds as store

    if fmt not in ("md", "html"):
        raise fail(UsageError(f"--format {fmt!r}: expected md or html"))
    with State.workspace().engine.connect() as connection:
        start, end, first_line = _window(since, store.feed_span(connection))
        digest = build_digest(store.decided_items(connection, since=start, until=end), start, end)
    if first_line:
        err.print(first_line, highlight=False, markup=False)
    if as_json:
        text = json.dumps(digest.as_json(), indent=2, ensure_ascii=False) + "\n"
    else:
        text = render_html(digest) if fmt == "html" else render_markdown(digest)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        err.print(f"Wrote {output}.", highlight=False, markup=False)
    else:
        sys.stdout.write(text)


# ---------------------------------------------------------------- kompas people to-meet


def to_meet_command(
    since: Annotated[
        str, typer.Option("--since", help="Items since: a duration (7d, 2w) or a date.")
    ] = "30d",
    as_json: JsonOption = False,
) -> None:
    """People your rules route to people-to-meet, with the command that researches them."""
    from kompas.rules.routes import people_to_meet
    from kompas.store import feeds as store

    with State.workspace().engine.connect() as connection:
        start, end, first_line = _window(since, store.feed_span(connection))
        decided = store.decided_items(connection, since=start)
    found = people_to_meet(decided)
    if as_json:
        payload = {
            "since": start.isoformat(),
            "until": end.isoformat(),
            "people": [c.to_json() for c in found],
        }
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        return
    if first_line:
        out.print(first_line, highlight=False, markup=False, style="yellow")
    if not found:
        out.print(
            "No one to meet yet: rules with `route: people-to-meet` (see `kompas rules init`) "
            "pick them from your feeds after `kompas feeds pull` and `kompas rules run`.",
            highlight=False,
            markup=False,
        )
        return
    table = Table(title=f"People to meet ({len(found)})", title_justify="left")
    for column in ("who", "from", "items", "latest", "research with"):
        table.add_column(column, overflow="fold")
    for c in found:
        table.add_row(
            Text(c.author),
            Text(c.source),
            str(c.items),
            Text(c.latest_title[:60]),
            Text(c.research or "—"),
        )
    out.print(table)
    if any(c.research is None for c in found):
        out.print(
            "— a name without a handle cannot be looked up: search for them yourself.",
            highlight=False,
            markup=False,
        )
