"""The ``kompas`` command line: parses arguments, calls the library, prints.

Exit codes: 0 success, 1 a problem with the user's input (message on stderr), 2 usage
error, 3 a platform or network failure.
"""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kompas import notice
from kompas.cli import crash
from kompas.cli._common import State, err, fail, out, plain
from kompas.cli._startup import keep_plain_values, only_the_command, read_signatures_once
from kompas.errors import KompasError

if TYPE_CHECKING:
    from kompas.store.status import PlatformCounts
    from kompas.workspace import Workspace

# Start-up stays cheap (`kompas --help` in about the time of importing Typer): every module
# here imports the library it drives inside the command that needs it, never at the top.
# tests/test_startup.py checks that `--help` loads no database, network or numeric library.

app = typer.Typer(
    name="kompas",
    help="A local-first compass for your social media.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain Click help: Typer's Rich help imports Markdown and traceback rendering, which
    # alone cost twice the start-up budget of every command.
    rich_markup_mode=None,
)
import_app = typer.Typer(
    help="Import a platform's own export into the local database (idempotent).",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"kompas {version('kompas')}", highlight=False)
        raise typer.Exit()


@app.callback()
def main_options(
    home: Annotated[
        str | None,
        typer.Option(
            "--home", help="Workspace folder (default: $KOMPAS_HOME or the user data dir)."
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: $KOMPAS_DB or SQLite in the workspace)."),
    ] = None,
    _show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """kompas: community, your own rules, real people, and a strategy — from your own data."""
    State.home = home
    State.db = db
    notice.listen(_long_wait)


def _long_wait(what: str) -> AbstractContextManager[object]:
    """A spinner on stderr while the store works (nothing when stderr is not a terminal)."""
    return err.status(f"{plain(what)}…")


def _waiting(message: str) -> None:
    err.print(message, markup=False, highlight=False)


def _run_import(kind: str, path: Path) -> None:
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from kompas.importing import import_export

    workspace = State.workspace()

    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} records"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    crash.doing.append(f"importing {path}")
    try:
        with workspace.writing(f"importing {path.name}", waiting=_waiting), progress:
            task = progress.add_task(f"importing {plain(path.name)}", total=None)
            added = import_export(
                workspace.engine, kind, path, lambda n: progress.update(task, completed=n)
            )
    except KompasError as error:
        raise fail(error) from None
    summary = ", ".join(f"{count:,} {table}" for table, count in added.items() if count)
    out.print(
        f"Imported {path} ({kind}): added {summary or 'nothing new'}.",
        highlight=False,
        markup=False,
    )


PathArg = Annotated[Path, typer.Argument(help="The export: archive file or unpacked folder.")]


@import_app.command("x-archive")
def import_x(path: PathArg) -> None:
    """Import an X/Twitter archive (.zip or its folder)."""
    _run_import("x-archive", path)


@import_app.command("mastodon-archive")
def import_mastodon(path: PathArg) -> None:
    """Import a Mastodon account archive (.tar.gz, .zip or folder)."""
    _run_import("mastodon-archive", path)


@import_app.command("bluesky-car")
def import_bluesky(
    path: Annotated[Path, typer.Argument(help="A repository export (.car).")],
) -> None:
    """Import a Bluesky repository export (.car)."""
    _run_import("bluesky-car", path)


@import_app.command("linkedin")
def import_linkedin(path: PathArg) -> None:
    """Import a LinkedIn data export (.zip or folder)."""
    _run_import("linkedin", path)


@import_app.command("opml")
def import_opml(path: Annotated[Path, typer.Argument(help="An OPML subscription list.")]) -> None:
    """Import the feeds you follow from an OPML file."""
    _run_import("opml", path)


_COLUMNS = ("posts", "replies", "reposts", "likes", "bookmarks", "followers", "following")


@app.command("status")
def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for programs.")] = False,
) -> None:
    """What the local database holds, per platform."""
    workspace = State.workspace()
    found = _status_without_sqlalchemy(workspace)
    if found is not None:
        counts, feeds = found
    else:
        from kompas.store.queries import feed_count, status

        try:
            with workspace.engine.connect() as connection:
                counts = status(connection)
                feeds = feed_count(connection)
        except KompasError as error:
            raise fail(error) from None
    if as_json:
        payload = {
            "platforms": {
                platform: {k: v for k, v in c.as_dict().items() if k in _COLUMNS}
                for platform, c in counts.items()
            },
            "feeds": feeds,
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    _print_status(counts, feeds, workspace)


def _status_without_sqlalchemy(
    workspace: Workspace,
) -> tuple[dict[str, PlatformCounts], int] | None:
    """The counts of a SQLite store already at the newest schema, read through the standard
    library (importing SQLAlchemy alone is twice `kompas status`'s start-up budget);
    ``None`` for any other store, which the engine then opens, migrates or reports."""
    import sqlite3

    from kompas.store.sqlite_file import open_current, sqlite_path
    from kompas.store.status import FEEDS_SQL, STATUS_SQL, counts_by_platform

    path = sqlite_path(workspace.db_url)
    if path is None:
        return None
    workspace.ensure_home()
    connection = open_current(path)
    if connection is None:
        return None
    try:
        counts = counts_by_platform(connection.execute(STATUS_SQL))
        feeds = int(connection.execute(FEEDS_SQL).fetchone()[0])
    except sqlite3.Error:
        return None  # the engine's path names the problem
    finally:
        connection.close()
    return counts, feeds


def _print_status(counts: dict[str, PlatformCounts], feeds: int, workspace: Workspace) -> None:
    if not counts:
        out.print("No data yet: import an export with `kompas import ...` (see docs/import.md).")
        return
    table = Table(title=f"kompas workspace: {plain(workspace.home)}", title_justify="left")
    table.add_column("", style="bold")
    for platform in counts:
        table.add_column(platform, justify="right")
    for column in (*_COLUMNS, "accounts"):
        values = (c.as_dict()[column] for c in counts.values())
        table.add_row(column, *("no data" if v is None else f"{v:,}" for v in values))
    out.print(table)
    out.print(f"Feeds followed (OPML): {feeds:,}", highlight=False)


# Each pillar's commands live in their own module; registered here.
from kompas.cli import people as _people  # noqa: E402

app.add_typer(_people.app, name="people")

from kompas.cli import community as _community  # noqa: E402

app.add_typer(_community.app, name="community")

from kompas.cli import rules as _rules  # noqa: E402

app.add_typer(_rules.rules_app, name="rules")
app.add_typer(_rules.feeds_app, name="feeds")
app.command("digest")(_rules.digest_command)
_people.app.command("to-meet")(_rules.to_meet_command)

from kompas.cli import strategy as _strategy  # noqa: E402

app.add_typer(_strategy.app, name="strategy")
app.command("today")(_strategy.today_command)
app.command("review")(_strategy.review_command)

from kompas.cli import sync as _sync  # noqa: E402

app.add_typer(_sync.connect_app, name="connect")
app.add_typer(_sync.sync_app, name="sync")

from kompas.cli import lists as _lists  # noqa: E402

app.add_typer(_lists.app, name="lists")
app.command("lookup")(_sync.lookup_command)

from kompas.cli import inbox as _inbox  # noqa: E402

app.add_typer(_inbox.app, name="inbox")

from kompas.cli import post as _post  # noqa: E402

app.add_typer(_post.app, name="post")

from kompas.cli import web as _web  # noqa: E402

app.command("serve")(_web.serve_command)


def main() -> None:
    """Entry point of the ``kompas`` script: the app behind the last line of defence."""
    for stream in (sys.stdout, sys.stderr):
        # Text that cannot be encoded (a lone surrogate, a terminal that is not UTF-8) is
        # replaced, never a crash.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    try:
        keep_plain_values()
        read_signatures_once()
        only_the_command(app, sys.argv[1:])()
    except Exception as error:  # the last line of defence; see kompas.cli.crash
        sys.exit(crash.report(error))


if __name__ == "__main__":
    main()
