"""kompas's own exceptions: precise, catchable, and saying what to fix."""

from __future__ import annotations

from typing import Any


class KompasError(Exception):
    """Base of every error kompas raises on purpose."""


class Refused(KompasError):
    """The platform refused a record, a post or a name the user chose (exit code 1)."""


class SourceError(KompasError):
    """An export could not be read: names the file, the member, the record or line, and
    what was expected, so the user knows what to fix."""

    def __init__(
        self,
        path: str,
        problem: str,
        *,
        member: str | None = None,
        location: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.path = path
        self.member = member
        self.location = location
        self.problem = problem
        self.expected = expected
        where = path if member is None else f"{path}: {member}"
        if location:
            where = f"{where}, {location}"
        message = f"{where}: {problem}"
        if expected:
            message = f"{message} (expected {expected})"
        # One line, whatever the export put in a name or a cell.
        super().__init__(" ".join(message.splitlines()))

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable with all it says, so a parse worker's error reaches the importing
        # process as it was raised (Exception's own pickling would call __init__ with the
        # message alone).
        return (_rebuilt, (type(self), self.args, self.__dict__))


def _rebuilt(kind: type[SourceError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = Exception.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error


class StoreError(KompasError):
    """The database could not be opened or written."""


class UsageError(KompasError):
    """A flag's value, or a combination of flags, that the user must fix: the CLI's exit
    code 2, the same as for an unknown option or a missing argument."""


class Busy(KompasError):
    """Another kompas process is writing to the same database and did not finish in time."""
