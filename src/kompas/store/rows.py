"""Rows of records, as a parser or a parse worker hands them to the writer (issue #18), and
the values SQLite stores for them. Apart from :mod:`kompas.store.writer` so that a parse
worker imports no database library.

A row is a record's values in the order of :func:`kompas.store.writer.columns`. It is in one
of two forms: as the records hold them (datetimes, tuples, enums), or *stored*: what the
SQLite driver receives (the text of a time or a JSON list, 0/1, plain strings), which the
writer hands to ``executemany`` untouched. The converters below make the second form; each
gives exactly what the column's SQLAlchemy type gives on SQLite
(``tests/test_parse_worker.py`` compares them), one C-level call or two per value where
SQLAlchemy's take a dozen.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from json.encoder import encode_basestring_ascii
from typing import Any


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows of one record type, read off its records in the order of
    :func:`kompas.store.writer.columns`: what a parse worker sends instead of the records
    (plain tuples pickle five times faster), and what a parser may yield without building
    the records at all."""

    kind: type
    rows: list[tuple[Any, ...]]
    #: The values are SQLite's stored form (:func:`stored`): written as they are.
    stored: bool = False


def sqlite_time(value: datetime | None) -> str | None:
    """A ``UTCDateTime`` as SQLite stores it: the UTC time, naive, as
    ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    if value is None:
        return None
    if type(value) is datetime and value.tzinfo is UTC:  # nearly always: one call
        return value.isoformat(" ", "microseconds")[:26]
    if value.tzinfo is None:
        raise ValueError("kompas stores only timezone-aware datetimes")
    moment = value.astimezone(UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}"
    )


def sqlite_json(value: Any) -> str:
    """A ``JSON`` value as SQLAlchemy writes it (``json.dumps``): a list of strings (nearly
    every one: mentions, links, tags) joined directly, anything else through ``json``."""
    if value == ():
        return "[]"
    if type(value) in (tuple, list):
        try:  # each item a string (the quoting refuses anything else)
            return "[" + ", ".join(map(encode_basestring_ascii, value)) + "]"
        except TypeError:
            pass
    return json.dumps(value)


def sqlite_bool(value: bool | None) -> int | None:
    """A ``Boolean`` on SQLite: 1, 0 or NULL; anything else is refused, as SQLAlchemy does."""
    if value is None:
        return None
    if value is True or value is False or value in (0, 1):
        return int(value)
    raise ValueError(f"Value {value!r} is not None, True, or False")


def enum_value(value: Any) -> Any:
    """An enum field (a platform, a kind) as its plain value: the driver binds a plain
    ``str`` directly, where a ``str`` subclass costs it a failed adapter lookup."""
    return value.value if isinstance(value, Enum) else value


#: The converters by name, as the writer names them for a parse worker.
CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "time": sqlite_time,
    "json": sqlite_json,
    "bool": sqlite_bool,
    "enum": enum_value,
}

_UTC_TEXT = operator.methodcaller("isoformat", " ", "microseconds")
_NAIVE_PART = operator.itemgetter(slice(26))
_TZINFO = operator.attrgetter("tzinfo")


#: The text of the UTC times converted last: a post's interactions carry its very time.
_RECENT_TIMES: dict[datetime, str] = {}
_RECENT_MOST = 20_000


def _times(column: Sequence[Any]) -> Sequence[Any]:
    # Nearly always every value is a UTC datetime, or none is a datetime: C-level passes.
    types = set(map(type, column))
    if types == {datetime} and set(map(_TZINFO, column)) == {UTC}:
        known = list(map(_RECENT_TIMES.get, column))
        if None not in known:
            return tuple(known)
        texts = tuple(map(_NAIVE_PART, map(_UTC_TEXT, column)))
        if len(_RECENT_TIMES) + len(texts) > _RECENT_MOST:
            _RECENT_TIMES.clear()
        _RECENT_TIMES.update(zip(column, texts, strict=True))
        return texts
    if types == {type(None)}:
        return column
    return tuple(map(sqlite_time, column))


def _lists(column: Sequence[Any]) -> Sequence[Any]:
    return tuple(["[]" if value == () else sqlite_json(value) for value in column])


def _enums(column: Sequence[Any]) -> Sequence[Any]:
    if set(map(type, column)) <= {str}:  # a parser that wrote the plain values already
        return column
    return tuple(map(enum_value, column))


_COLUMNS: dict[str, Callable[[Sequence[Any]], Sequence[Any]]] = {
    "time": _times,
    "json": _lists,
    "bool": lambda column: tuple(map(sqlite_bool, column)),
    "enum": _enums,
}


class BadValue(ValueError):
    """A value its converter refused: the row, and what the converter raised."""

    def __init__(self, row: tuple[Any, ...], error: Exception) -> None:
        super().__init__(str(error))
        self.row = row
        self.error = error


def stored(
    rows: list[tuple[Any, ...]], convert: Sequence[tuple[int, str]]
) -> list[tuple[Any, ...]]:
    """``rows`` with each column ``convert`` names (index, converter) in the stored form,
    column by column (one ``map`` each). Raises :class:`BadValue` naming the first row
    that holds a value its converter refuses."""
    if not convert or not rows:
        return rows
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    try:
        for index, name in convert:
            columns[index] = _COLUMNS[name](columns[index])
    except Exception:
        for row in rows:
            for index, name in convert:
                try:
                    CONVERTERS[name](row[index])
                except Exception as exc:
                    raise BadValue(row, exc) from exc
        raise
    return list(zip(*columns, strict=True))
