"""``kompas connect``, ``kompas sync`` and ``kompas lookup``: live data from Mastodon and
Bluesky. Tokens and app passwords go to the workspace's credentials file (mode 0600) and
are never printed."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.table import Table

from kompas.cli._common import State, err, fail, out, plain, say_error
from kompas.errors import KompasError
from kompas.sync import credentials

if TYPE_CHECKING:
    import sqlalchemy as sa

    from kompas.rules import RuleSet
    from kompas.sync.http import PlatformUnreachable, RetryPolicy
    from kompas.sync.lookup import Lookup
    from kompas.sync.report import SyncReport


#: kompas.sync.identifiers' DEFAULT_SERVICE and PUBLIC_APPVIEW, written out so that start-up
#: does not import the account parser (tests/test_startup.py checks that they agree).
DEFAULT_SERVICE = "https://bsky.social"
PUBLIC_APPVIEW = "https://public.api.bsky.app"

# The HTTP clients and the platform SDKs load inside each command, not for `--help`.

connect_app = typer.Typer(
    help="Connect a Mastodon or Bluesky account for live sync (credentials stay local).",
    no_args_is_help=True,
)
sync_app = typer.Typer(
    help="Fetch what is new on a connected account (incremental, resumable).",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for programs.")]


def _waiting(message: str) -> None:
    err.print(message, markup=False, highlight=False)


def _policy() -> RetryPolicy:
    """The retry policy from the environment, saying on stderr when it waits to retry."""
    from kompas.sync.http import policy_from_env

    policy = policy_from_env()
    policy.notify = lambda message: err.print(message, style="dim", markup=False, highlight=False)
    return policy


def unreachable(error: PlatformUnreachable) -> NoReturn:
    """Exit 3 with the platform failure on stderr."""
    say_error("platform unreachable", error)
    raise typer.Exit(3)


@connect_app.command("mastodon")
def connect_mastodon(
    instance: Annotated[
        str, typer.Option("--instance", help="Your instance, e.g. https://mastodon.social.")
    ],
    code: Annotated[
        str | None,
        typer.Option(
            "--code", help="The authorisation code the instance showed (else you are asked)."
        ),
    ] = None,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Also let kompas post and reply (scopes write:statuses write:media), for "
            "`kompas post send` and `kompas inbox reply`, and change your lists (write:lists), "
            "for `kompas lists apply`; without it kompas only reads.",
        ),
    ] = False,
) -> None:
    """Authorise kompas (read-only, or --write to post, reply and change your lists) on
    your Mastodon instance through OAuth."""
    from kompas.sync import mastodon
    from kompas.sync.http import PlatformUnreachable

    workspace = State.workspace()

    policy = _policy()
    try:
        pending = mastodon.begin_connect(
            instance, policy, mastodon.WRITE_SCOPES if write else mastodon.SCOPES
        )
        access = "read, post and reply, and change your lists" if write else "read-only"
        err.print(
            f"Open this URL, approve kompas ({access}), and copy the code shown:",
            highlight=False,
        )
        err.print(pending.authorize_url, highlight=False, markup=False, soft_wrap=True)
        if code is None:
            code = typer.prompt("Authorisation code", err=True)
        handle = mastodon.finish_connect(workspace.home, pending, code, policy)
    except PlatformUnreachable as error:
        unreachable(error)
    except KompasError as error:
        raise fail(error) from None
    out.print(
        f"Connected Mastodon account {handle} on {pending.instance}; "
        f"token saved in {credentials.path_in(workspace.home)} (mode 0600).",
        highlight=False,
        markup=False,
    )


@connect_app.command("bluesky")
def connect_bluesky(
    handle: Annotated[str, typer.Option("--handle", help="Your handle, e.g. alice.bsky.social.")],
    app_password: Annotated[
        str,
        typer.Option(
            "--app-password",
            prompt="App password",
            hide_input=True,
            envvar="KOMPAS_BLUESKY_APP_PASSWORD",
            help="An app password (Settings → Privacy and security → App passwords); "
            "asked for when not given. Never use your main password.",
        ),
    ],
    service: Annotated[
        str,
        typer.Option("--service", help="Your PDS (default: Bluesky's own, bsky.social)."),
    ] = DEFAULT_SERVICE,
) -> None:
    """Connect a Bluesky account with an app password."""
    from kompas.sync import bluesky
    from kompas.sync.http import PlatformUnreachable

    workspace = State.workspace()
    try:
        did = bluesky.connect(workspace.home, handle, app_password, service, _policy())
    except PlatformUnreachable as error:
        unreachable(error)
    except KompasError as error:
        raise fail(error) from None
    out.print(
        f"Connected Bluesky account {handle} ({did}); app password saved in "
        f"{credentials.path_in(workspace.home)} (mode 0600).",
        highlight=False,
        markup=False,
    )


def _print_report(report: SyncReport, as_json: bool, decided: dict[str, int] | None) -> None:
    if as_json:
        payload = {**report.as_dict(), "rules": decided}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    table = Table(title=f"{report.platform} sync of {report.account}", title_justify="left")
    for column in ("stream", "pages", "items", "added"):
        table.add_column(column, justify="left" if column in ("stream", "added") else "right")
    for name, stream in report.streams.items():
        added = ", ".join(f"{n:,} {t}" for t, n in sorted(stream.added.items()) if n) or "-"
        table.add_row(name, f"{stream.pages:,}", f"{stream.items:,}", added)
    out.print(table)
    for name, stream in report.streams.items():
        if stream.ended or stream.resumed:
            out.print(
                f"{name}: {stream.ended:,} follow(s) ended (no longer listed), "
                f"{stream.resumed:,} back again",
                highlight=False,
            )
        if stream.skipped:
            out.print(f"[yellow]skipped {name}:[/] {plain(stream.skipped)}", highlight=False)
        for warning in stream.warnings:
            out.print(f"[yellow]warning ({name}):[/] {plain(warning)}", highlight=False)
    if decided is not None and decided["items"]:
        out.print(
            f"Rules decided {decided['items']:,} new timeline item(s): {decided['kept']:,} kept.",
            highlight=False,
        )


StreamsOption = Annotated[
    list[str] | None,
    typer.Option("--only", help="Sync only these streams (repeatable)."),
]


def _streams(given: list[str] | None, known: tuple[str, ...]) -> tuple[str, ...]:
    if not given:
        return known
    unknown = [s for s in given if s not in known]
    if unknown:
        raise KompasError(f"unknown stream {unknown[0]!r} (expected one of: {', '.join(known)})")
    return tuple(given)


def _run_sync(platform: ModuleType, only: list[str] | None, as_json: bool) -> None:
    """Sync one platform (``kompas.sync.mastodon`` or ``.bluesky``) and print its report."""
    from kompas.sync.http import PlatformUnreachable

    workspace = State.workspace()
    try:
        streams = _streams(only, platform.STREAMS)
        rules = _rules(workspace.home / "rules.yaml")  # a broken rules file stops us first
        with workspace.writing(f"syncing {platform.PLATFORM}", waiting=_waiting):
            report = platform.sync(workspace.engine, workspace.home, streams=streams)
            decided = _decide(workspace.engine, rules, report.new_items)
    except PlatformUnreachable as error:
        unreachable(error)
    except KompasError as error:
        raise fail(error) from None
    _print_report(report, as_json, decided)


def _rules(path: Path) -> RuleSet | None:
    """The workspace rules, if there is a rules file."""
    if not path.exists():
        return None
    from kompas.rules import load_rules

    return load_rules(path)


def _decide(engine: sa.Engine, rules: RuleSet | None, item_ids: list[str]) -> dict[str, int] | None:
    """Run the workspace rules over the timeline posts a sync stored (``None``: no rules
    file, so nothing is decided until ``kompas rules run``)."""
    if rules is None:
        return None
    from kompas.rules.pipeline import apply_rules

    if not item_ids:
        return {"items": 0, "kept": 0}
    with engine.begin() as connection:
        decisions = apply_rules(connection, rules, item_ids)
    return {"items": len(decisions), "kept": sum(d.kept for d in decisions)}


@sync_app.command("mastodon")
def sync_mastodon(as_json: JsonOption = False, only: StreamsOption = None) -> None:
    """Fetch your new statuses, notifications, followers, following, favourites, bookmarks,
    home and list timelines, and the posts your replies answer."""
    from kompas.sync import mastodon

    _run_sync(mastodon, only, as_json)


@sync_app.command("bluesky")
def sync_bluesky(as_json: JsonOption = False, only: StreamsOption = None) -> None:
    """Fetch your new repository records, notifications, followers, follows, timeline and
    list feeds, the posts your replies answer, and profiles."""
    from kompas.sync import bluesky

    _run_sync(bluesky, only, as_json)


def lookup_command(
    account: Annotated[
        str,
        typer.Argument(
            help="@user@instance, a Bluesky handle or DID, or a profile URL.", show_default=False
        ),
    ],
    as_json: JsonOption = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Fetch again even if the cache is fresh.")
    ] = False,
    max_age: Annotated[
        float, typer.Option("--max-age", min=0, help="Hours a cached lookup stays fresh.")
    ] = 24.0,
    posts: Annotated[
        int, typer.Option("--posts", min=0, max=100, help="How many recent posts to fetch.")
    ] = 20,
    sample: Annotated[
        int,
        typer.Option("--sample", min=0, max=100, help="How many followers and follows to sample."),
    ] = 50,
    appview: Annotated[
        str | None,
        typer.Option(
            "--appview",
            help=f"Bluesky AppView to ask (default: $KOMPAS_BLUESKY_APPVIEW or {PUBLIC_APPVIEW}).",
        ),
    ] = None,
) -> None:
    """Look up any public account: profile, recent posts, a sample of its network."""
    from kompas.sync.http import PlatformUnreachable

    try:
        from kompas.sync.identifiers import parse_account
        from kompas.sync.lookup import lookup

        ref = parse_account(account)
        workspace = State.workspace()
        found = lookup(
            workspace.engine,
            ref,
            policy=_policy(),
            max_age=timedelta(hours=max_age),
            refresh=refresh,
            posts=posts,
            sample=sample,
            appview=appview,
        )
    except PlatformUnreachable as error:
        unreachable(error)
    except KompasError as error:
        raise fail(error) from None
    if as_json:
        sys.stdout.write(json.dumps(found.as_dict(), indent=2) + "\n")
        return
    _print_lookup(found)


def _print_lookup(found: Lookup) -> None:
    a = found.account
    out.print(
        f"[bold]{plain(a.get('display_name') or a.get('handle') or a['id'])}[/] "
        f"({found.platform}: {plain(a.get('handle') or a['id'])})",
        highlight=False,
    )
    if a.get("bio"):
        out.print(str(a["bio"]), highlight=False, markup=False)
    figures = (
        f"{a.get('followers_count') or 0:,} followers · {a.get('following_count') or 0:,} "
        f"following · {a.get('posts_count') or 0:,} posts"
    )
    out.print(figures, highlight=False)
    if found.posts:
        out.print(f"\nRecent posts ({len(found.posts)}):", highlight=False)
        for post in found.posts[:10]:
            text = " ".join(str(post.get("text") or "").split())[:120]
            out.print(f"  {post.get('created_at') or '?'}  {text}", highlight=False, markup=False)
    out.print(
        f"\nSampled {len(found.followers)} followers and {len(found.follows)} follows.",
        highlight=False,
    )
    for note in found.notes:
        out.print(f"[yellow]note:[/] {plain(note)}", highlight=False)
    origin = "cache" if found.cached else "the network"
    out.print(f"Fetched at {found.fetched_at} (from {origin}).", highlight=False)
