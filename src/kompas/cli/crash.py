"""The last line of defence: an error kompas did not expect becomes one line on stderr and
a full report in the workspace, never a traceback on the terminal (exit code 1).

Tests run the CLI in-process without this guard (see ``tests/conftest.py``), so an
unexpected error still fails them.
"""

from __future__ import annotations

import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from kompas.cli._common import State, say_error, text_of

#: What the command was doing, for the one line ("importing FILE"); set by the commands.
doing: list[str] = []


def _log_folder() -> Path:
    try:
        return State.workspace().home / "logs"
    except Exception:  # the workspace itself may be what failed
        return Path(os.environ.get("TMPDIR", "/tmp"))


def write_report(error: BaseException, argv: list[str]) -> Path | None:
    """Write the traceback and the command line to a new log file; its path, or None."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    body = "".join(traceback.format_exception(error))
    text = f"kompas {' '.join(argv[1:])}\n{datetime.now(UTC).isoformat()}\n\n{body}"
    for folder in (_log_folder(), Path(os.environ.get("TMPDIR", "/tmp"))):
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = folder / f"kompas-error-{stamp}.log"
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                f.write(text_of(text))
            return path
        except OSError:
            continue
    return None


def report(error: BaseException, argv: list[str] | None = None) -> int:
    """Say in one line that kompas failed unexpectedly, where the full report is; the exit
    code to use (1)."""
    argv = sys.argv if argv is None else argv
    what = doing[-1] if doing else "running `kompas " + " ".join(argv[1:3]) + "`"
    detail = " ".join(text_of(error).split())[:300] or "no detail"
    path = write_report(error, argv)
    where = f"; details in {path}" if path else ""
    say_error(
        "internal error", f"while {what}: {type(error).__name__}: {detail}{where}; please report it"
    )
    return 1
