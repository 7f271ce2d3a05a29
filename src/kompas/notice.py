"""Long waits the user should be told about. The store says when one starts (rebuilding
the derived exchanges after an import: minutes on a history of a million posts); whichever
interface runs decides how to show it. The command line shows a spinner; the library and
the dashboard, which register nothing, stay quiet."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

Show = Callable[[str], AbstractContextManager[object]]

_show: Show | None = None


def listen(show: Show | None) -> None:
    """Show every long wait with ``show(what)`` (``None``: show nothing)."""
    global _show
    _show = show


def waiting(what: str) -> AbstractContextManager[object]:
    """The context of a long wait, shown as the interface chose."""
    return _show(what) if _show is not None else nullcontext()
