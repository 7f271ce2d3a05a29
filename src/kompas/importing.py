"""Importing an export: pick the platform's parser, stream its records into the store."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from kompas import parse_worker
from kompas.model import Record
from kompas.store.writer import columns, stored_forms, write_import

#: The export kinds ``kompas import`` understands (CLI name → module, parser). Parsers are
#: imported when used, so the CLI starts fast (the atproto SDK alone takes half a second).
PARSERS: dict[str, tuple[str, str]] = {
    "x-archive": ("kompas.sources.x_archive", "parse"),
    "mastodon-archive": ("kompas.sources.mastodon", "parse_archive"),
    "bluesky-car": ("kompas.sources.bluesky", "parse_car"),
    "linkedin": ("kompas.sources.linkedin", "parse"),
    "opml": ("kompas.sources.feeds", "parse_opml"),
}
#: Parsers that yield rows (:class:`~kompas.store.rows.Rows`) instead of records, for the
#: import: the same data without building a record per row (issue #18).
ROW_PARSERS: dict[str, tuple[str, str]] = {
    "x-archive": ("kompas.sources.x_archive", "parse_rows"),
}


def parser_for(kind: str) -> Callable[[str], Iterator[Record]]:
    """The streaming parser of one export kind."""
    module, name = PARSERS[kind]
    parser: Callable[[str], Iterator[Record]] = getattr(importlib.import_module(module), name)
    return parser


def import_export(
    engine: sa.Engine,
    kind: str,
    path: str | Path,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Import one export in one transaction; return the rows added per table. A large
    export is parsed in a second process while this one writes (:mod:`kompas.parse_worker`).

    Raises :class:`kompas.errors.SourceError` (and changes nothing) on bad input.
    """
    module, function = ROW_PARSERS.get(kind) or PARSERS[kind]
    records: Iterator[Any]
    if parse_worker.wanted(str(path)):
        forms = stored_forms(engine.dialect.name)
        records = parse_worker.parsed_in_worker(module, function, str(path), columns(), forms)
    else:
        records = getattr(importlib.import_module(module), function)(str(path))
    return write_import(engine, records, source=kind, path=str(path), progress=progress)
