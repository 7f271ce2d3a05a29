"""Importing an export: pick the platform's parser, stream its records into the store."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa

from kompas.model import Record
from kompas.store.writer import write_import

#: The export kinds ``kompas import`` understands (CLI name → module, parser). Parsers are
#: imported when used, so the CLI starts fast (the atproto SDK alone takes half a second).
PARSERS: dict[str, tuple[str, str]] = {
    "x-archive": ("kompas.sources.x_archive", "parse"),
    "mastodon-archive": ("kompas.sources.mastodon", "parse_archive"),
    "bluesky-car": ("kompas.sources.bluesky", "parse_car"),
    "linkedin": ("kompas.sources.linkedin", "parse"),
    "opml": ("kompas.sources.feeds", "parse_opml"),
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
    """Import one export in one transaction; return the rows added per table.

    Raises :class:`kompas.errors.SourceError` (and changes nothing) on bad input.
    """
    return write_import(
        engine, parser_for(kind)(str(path)), source=kind, path=str(path), progress=progress
    )
