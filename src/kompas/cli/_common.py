"""What every CLI module shares: the consoles, the workspace from global options, and
how a kompas error becomes exit code 1 with its message on stderr."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console

from kompas.errors import KompasError

if TYPE_CHECKING:
    from kompas.workspace import Workspace

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class State:
    """Global options (``--home``, ``--db``), set once by the main callback."""

    home: str | None = None
    db: str | None = None

    @classmethod
    def workspace(cls) -> Workspace:
        """The workspace the global options name."""
        # Imported here: the workspace brings SQLAlchemy, which `--help` never needs.
        from kompas.workspace import Workspace

        return Workspace.resolve(cls.home, cls.db)


def fail(error: KompasError) -> typer.Exit:
    """Print ``error`` on stderr and return the exit (code 1) to raise."""
    err.print(f"[bold red]error:[/] {error}", highlight=False, markup=True)
    return typer.Exit(1)


def own_domains(workspace: Workspace) -> tuple[str, ...]:
    """The user's own sites from the workspace's strategy.yaml (``domains:``): links to them
    are self-promotion. A broken strategy file is reported, never silently ignored."""
    path = workspace.home / "strategy.yaml"
    if not path.exists():
        return ()
    from kompas.strategy.parse import load_strategy

    return load_strategy(path).domains
