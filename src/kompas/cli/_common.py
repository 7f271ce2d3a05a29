"""What every CLI module shares: the consoles, the workspace from global options, and
how a kompas error becomes its exit code with its message on stderr."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from kompas.errors import KompasError, UsageError

if TYPE_CHECKING:
    from kompas.workspace import Workspace

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

_SURROGATE = re.compile("[\ud800-\udfff]")


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


def text_of(value: object) -> str:
    """Any value as printable text: lone surrogates (which cannot be written as UTF-8)
    become U+FFFD, so a name from an export never crashes the terminal."""
    return _SURROGATE.sub("\ufffd", str(value))


def plain(value: object) -> str:
    """Untrusted text (names, paths, messages from an export or a platform) made inert for
    Rich markup, to interpolate in a string that has markup of its own."""
    return escape(text_of(value))


def say_error(label: str, message: object) -> None:
    """``label: message`` on stderr, the label in bold red, the message as plain text."""
    err.print(Text.assemble((f"{label}:", "bold red"), " ", text_of(message)), highlight=False)


def fail(error: KompasError) -> typer.Exit:
    """Print ``error`` on stderr and return the exit to raise: code 2 for a bad flag value
    (:class:`UsageError`), else 1."""
    say_error("error", error)
    return typer.Exit(2 if isinstance(error, UsageError) else 1)


def own_domains(workspace: Workspace) -> tuple[str, ...]:
    """The user's own sites from the workspace's strategy.yaml (``domains:``): links to them
    are self-promotion. A broken strategy file is reported, never silently ignored."""
    path = workspace.home / "strategy.yaml"
    if not path.exists():
        return ()
    from kompas.strategy.parse import load_strategy

    return load_strategy(path).domains
