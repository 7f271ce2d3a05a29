"""``kompas post``: check a draft against each network's rules and your strategy, send it,
or queue it for later."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Check a draft against each network's rules and your strategy, send it, or queue it.",
    no_args_is_help=True,
)
