"""``kompas lists plan`` and ``kompas lists apply``: Mastodon and Bluesky lists whose
members come from the rules, relationships or people-to-meet. ``plan`` changes nothing;
``apply`` makes exactly the plan's diff."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from kompas.cli._common import State, err, fail, out, plain
from kompas.errors import KompasError

if TYPE_CHECKING:
    from kompas.lists import ListPlan, ListsClient

app = typer.Typer(
    help="Lists on Mastodon and Bluesky whose members come from your rules (list:NAME), "
    "your relationships or people-to-meet.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for programs.")]


def _clients(platforms: set[str], write: bool) -> dict[str, ListsClient]:
    from kompas.cli.sync import _policy
    from kompas.sync.bluesky_lists import BlueskyLists
    from kompas.sync.mastodon_lists import MastodonLists

    home = State.workspace().home
    policy = _policy()
    made: dict[str, ListsClient] = {}
    for platform in sorted(platforms):
        kind = MastodonLists if platform == "mastodon" else BlueskyLists
        made[platform] = kind(home, policy, write=write)
    return made


def _plans(write: bool) -> tuple[list[ListPlan], dict[str, ListsClient]]:
    from kompas.lists import plan, specs

    workspace = State.workspace()
    with workspace.engine.connect() as connection:
        platforms = {s.platform for s in specs(workspace.home, connection)}
    clients = _clients(platforms, write)
    return plan(workspace.engine, workspace.home, clients), clients


def _guarded(write: bool) -> tuple[list[ListPlan], dict[str, ListsClient]]:
    from kompas.cli.sync import unreachable
    from kompas.sync.http import PlatformUnreachable

    try:
        return _plans(write)
    except PlatformUnreachable as error:
        unreachable(error)
    except KompasError as error:
        raise fail(error) from None


def _print(plans: list[ListPlan]) -> None:
    if not plans:
        out.print(
            "No lists: no rule routes to list:NAME and there is no lists.yaml (see docs/lists.md)."
        )
        return
    for p in plans:
        flags = " (exclusive)" if p.spec.exclusive else ""
        state = "to create" if p.create else f"{p.unchanged} member(s) stay"
        out.print(
            f"[bold]{p.spec.platform} list {plain(repr(p.spec.name))}[/]{flags} — "
            f"{plain(p.spec.source)}; {state}"
        )
        if p.set_exclusive is not None:
            out.print(f"  ~ exclusive: {str(p.set_exclusive).lower()}")
        for m in p.add:
            out.print(f"  [green]+ {plain(m.shown)}[/]")
        for m in p.remove:
            out.print(f"  [red]- {plain(m.shown)}[/]")
        for m, why in p.skipped:
            out.print(f"  [dim]skipped {plain(m.shown)}: {plain(why)}[/]")
    total = sum(p.changes for p in plans)
    out.print(f"{total} change(s)." if total else "Nothing to change.")


def _json(plans: list[ListPlan]) -> dict[str, object]:
    return {"lists": [p.as_json() for p in plans], "changes": sum(p.changes for p in plans)}


@app.command("plan")
def plan_command(as_json: JsonOption = False) -> None:
    """Show what apply would change on each list (adds, removals); changes nothing."""
    plans, _ = _guarded(write=False)
    if as_json:
        sys.stdout.write(json.dumps(_json(plans), indent=2, ensure_ascii=False) + "\n")
        return
    _print(plans)


@app.command("apply")
def apply_command(
    yes: Annotated[bool, typer.Option("--yes", help="Apply without asking.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Make the plan's changes on Mastodon and Bluesky (Mastodon needs `kompas connect
    mastodon --write`). Run it again after an interruption: it resumes."""
    from kompas.cli.sync import unreachable
    from kompas.lists import apply
    from kompas.sync.http import PlatformUnreachable

    plans, clients = _guarded(write=True)
    total = sum(p.changes for p in plans)
    if not as_json:
        _print(plans)
    if total and not yes:
        if not sys.stdin.isatty():
            err.print("Not applied: add --yes to apply without a terminal.", highlight=False)
            raise typer.Exit(1)
        if not typer.confirm("Apply these changes?", err=True):
            raise typer.Exit(1)
    try:
        report = apply(plans, clients, lambda step: err.print(step, highlight=False, markup=False))
    except PlatformUnreachable as error:
        err.print("Stopped; run `kompas lists apply` again to resume.", highlight=False)
        unreachable(error)
    except KompasError as error:
        raise fail(error) from None
    summary = report.as_json()
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        return
    if total:
        out.print(
            f"Applied: {summary['created']} list(s) created, {summary['added']} added, "
            f"{summary['removed']} removed."
        )
