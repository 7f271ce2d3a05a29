"""CSV exports (LinkedIn, Mastodon): strict UTF-8, the header found wherever it is.

Recent LinkedIn exports put a few lines of notes before the header row, so the header is
the first row holding every required column, not necessarily line 1.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from typing import IO

from kompas.errors import SourceError

_PREAMBLE_ROWS = 20


#: Longer than any line of a real export (csv's own field limit is 128 KiB).
MAX_LINE_BYTES = 1 << 20


class LineTooLong(ValueError):
    """A physical line past :data:`MAX_LINE_BYTES`."""


def _decoded_lines(stream: IO[bytes], physical: list[int]) -> Iterator[str]:
    """Decode line by line, so a bad byte is reported on its own line; a line is never read
    past :data:`MAX_LINE_BYTES`."""
    number = 0
    while raw := stream.readline(MAX_LINE_BYTES + 1):
        number += 1
        physical[0] = number
        if len(raw) > MAX_LINE_BYTES:
            raise LineTooLong(number)
        yield (raw.removeprefix(b"\xef\xbb\xbf") if number == 1 else raw).decode("utf-8")


def iter_csv(
    stream: IO[bytes],
    path: str,
    member: str,
    required: Sequence[str],
    escapechar: str | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line, row)`` for each data row; ``line`` is where the row starts.

    ``escapechar``: LinkedIn writes quotes inside quoted fields as ``\\"`` in some files.
    """
    physical = [0]
    reader = csv.reader(_decoded_lines(stream, physical), escapechar=escapechar)
    header: list[str] | None = None
    first_row: list[str] | None = None
    try:
        for _ in range(_PREAMBLE_ROWS):
            row = next(reader, None)
            if row is None:
                break
            cells = [cell.strip() for cell in row]
            if first_row is None and any(cells):
                first_row = cells
            if all(column in cells for column in required):
                header = cells
                break
        if header is None:
            found = ", ".join(first_row or []) or "nothing"
            raise SourceError(
                path,
                f"missing columns (found: {found[:200]})",
                member=member,
                location="header row",
                expected="columns " + ", ".join(required),
            )
        start = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                if len(row) < len(header):
                    row = row + [""] * (len(header) - len(row))
                yield start, dict(zip(header, row, strict=False))
            start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise SourceError(
            path,
            "not UTF-8 text",
            member=member,
            location=f"line {physical[0]}",
            expected="a UTF-8 encoded CSV as the platform exports it",
        ) from exc
    except LineTooLong:
        raise SourceError(
            path,
            f"line longer than {MAX_LINE_BYTES:,} bytes",
            member=member,
            location=f"line {physical[0]}",
            expected="a CSV as the platform exports it",
        ) from None
    except csv.Error as exc:
        raise SourceError(
            path, f"malformed CSV ({exc})", member=member, location=f"line {reader.line_num}"
        ) from exc
