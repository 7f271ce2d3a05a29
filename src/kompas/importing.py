"""Importing an export: pick the platform's parser, stream its records into the store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa

from kompas.model import Record
from kompas.sources import bluesky, feeds, linkedin, mastodon, x_archive
from kompas.store.writer import write_import

#: The export kinds ``kompas import`` understands, by their CLI name.
PARSERS: dict[str, Callable[[str], Iterator[Record]]] = {
    "x-archive": x_archive.parse,
    "mastodon-archive": mastodon.parse_archive,
    "bluesky-car": bluesky.parse_car,
    "linkedin": linkedin.parse,
    "opml": feeds.parse_opml,
}


def import_export(
    engine: sa.Engine,
    kind: str,
    path: str | Path,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Import one export in one transaction; return the rows added per table.

    Raises :class:`kompas.errors.SourceError` (and changes nothing) on bad input.
    """
    parser = PARSERS[kind]
    return write_import(engine, parser(str(path)), source=kind, path=str(path), progress=progress)
