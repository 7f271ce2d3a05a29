"""Rows of records, as a parse worker sends them to the writer (issue #18). Apart from
:mod:`kompas.store.writer` so that the worker imports no database library."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows of one record type, read off its records in the order of
    :func:`kompas.store.writer.columns`: what a parse worker sends instead of the records
    (plain tuples pickle five times faster)."""

    kind: type
    rows: list[tuple[Any, ...]]
