"""The migration scripts' head revisions, read from their text without importing Alembic or
SQLAlchemy: opening a store that is already at the newest schema costs next to nothing
(``kompas status`` starts in about the time of importing Typer)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

MIGRATIONS = Path(__file__).with_name("migrations")

# A top-level `revision = "…"` or `down_revision: str | None = …` on one line.
_ASSIGNMENT = re.compile(r"^(revision|down_revision)[ \t]*(?::[^=\n]*)?=[ \t]*(.*?)[ \t]*$", re.M)


def script_heads() -> set[str] | None:
    """The head revisions of the migration scripts, from their ``revision`` and
    ``down_revision`` literals; ``None`` when a script does not state them as one-line
    literals (then only Alembic can tell)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        if script.name == "__init__.py":
            continue
        values: dict[str, object] = {}
        for name, text in _ASSIGNMENT.findall(script.read_text(encoding="utf-8")):
            if name in values:
                return None  # assigned twice: only running the script would tell
            try:
                values[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                return None
        revision, down = values.get("revision"), values.get("down_revision", ...)
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list) and all(isinstance(d, str) for d in down):
            parents.update(down)
        elif down is not None:
            return None
    return revisions - parents
