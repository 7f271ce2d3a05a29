"""``kompas people ...``: who is who across platforms, and (people pillar) research."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from kompas.cli._common import State, fail, out
from kompas.errors import KompasError
from kompas.store import identities

app = typer.Typer(
    help="People: link accounts across platforms, research accounts.", no_args_is_help=True
)


@app.command("link")
def link_command(
    accounts: Annotated[
        list[str],
        typer.Argument(
            help="Accounts as PLATFORM:ID-OR-HANDLE, e.g. x:ada mastodon:@ada@hachyderm.io"
        ),
    ],
    name: Annotated[str | None, typer.Option("--as", help="The person's name.")] = None,
) -> None:
    """Declare that accounts on several platforms are the same person."""
    try:
        with State.workspace().engine.begin() as connection:
            refs = [identities.resolve(connection, a) for a in accounts]
            person = identities.link(connection, refs, name)
    except KompasError as error:
        raise fail(error) from None
    out.print(f"Linked {len(refs)} account(s) as {person!r}.", highlight=False)


@app.command("unlink")
def unlink_command(
    account: Annotated[str, typer.Argument(help="An account as PLATFORM:ID-OR-HANDLE.")],
) -> None:
    """Forget that an account belongs to a linked person."""
    try:
        with State.workspace().engine.begin() as connection:
            removed = identities.unlink(connection, identities.resolve(connection, account))
    except KompasError as error:
        raise fail(error) from None
    out.print("Unlinked." if removed else "That account was not linked.")


@app.command("links")
def links_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for programs.")] = False,
) -> None:
    """List the people you linked and their accounts."""
    with State.workspace().engine.connect() as connection:
        found = identities.people(connection)
    if as_json:
        payload = {p: [r.key for r in refs] for p, refs in found.items()}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    if not found:
        out.print("No linked people yet: `kompas people link x:ada mastodon:@ada@example.social`.")
    for person, refs in found.items():
        out.print(f"[bold]{person}[/]: " + ", ".join(r.key for r in refs))
