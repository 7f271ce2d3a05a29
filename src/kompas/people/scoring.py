"""Scoring many profiles: streaming JSON Lines in, one JSON line out per profile.

Lines are parsed with orjson one by one; a plain profile (no recent posts) goes straight
to a row of signal inputs, anything else through :func:`normalise`. Signals, the model,
the reasons and the output lines are then made per batch of rows in NumPy and byte joins
(:func:`render`), with no Python object per result, and pieces of the file are scored in
worker processes; memory stays flat however long the file is. A malformed line is
reported with its number and skipped; the run goes on.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import orjson
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from kompas.errors import KompasError
from kompas.people import authenticity
from kompas.people.authenticity import Fragments
from kompas.people.datasets import Labelled, read_gilani
from kompas.people.metrics import figures
from kompas.people.profiles import Profile, ProfileError, flat, normalise
from kompas.people.signals import (
    SIGNALS,
    Columns,
    columns_from_rows,
    flat_row,
    profile_row,
)

BATCH = 4096
FORMATS = ("jsonl", "gilani")


class FormatError(KompasError):
    """A ``--format`` kompas does not read."""


def check_format(name: str) -> str:
    """``name`` if kompas reads it; otherwise a clear refusal listing what it reads."""
    if name not in FORMATS:
        raise FormatError(f"unknown format {name!r}: use one of {', '.join(FORMATS)}")
    return name


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that could not be scored, and why."""

    number: int
    problem: str


def results(model: authenticity.Model, columns: Columns) -> list[dict[str, Any]]:
    """One result per account: ``{"id", "platform", "model", "authenticity",
    "uncertainty", "likely_automated", "reasons", "signals"}`` as Python objects: the
    reference :func:`render` writes, byte for byte, as JSON Lines without making them."""
    scores = authenticity.score(model, columns)
    table = np.column_stack([scores.signals[name] for name in SIGNALS]).round(6).tolist()
    auth = scores.authenticity.round(4).tolist()
    low = scores.low.round(4).tolist()
    high = scores.high.round(4).tolist()
    ids, platforms = columns.ids, columns.platforms
    found = []
    for row, values in enumerate(table):
        known = scores.used[row] != authenticity.UNKNOWN
        found.append(
            {
                "id": ids[row],
                "platform": platforms[row],
                "model": authenticity.USED[int(scores.used[row])],
                "authenticity": auth[row] if known else None,
                "uncertainty": [low[row], high[row]] if known else None,
                "likely_automated": bool(scores.flagged[row]) if known else None,
                "reasons": authenticity.codes(scores, row),
                # orjson writes NaN as null: unknown signals stay unknown.
                "signals": dict(zip(SIGNALS, values, strict=True)),
            }
        )
    return found


def _json_strings(texts: list[str]) -> Fragments:
    """Each string's JSON inside its quotes, in one orjson call when none needs escaping."""
    if not texts:
        return []
    written = orjson.dumps(texts)
    if b"\\" not in written:  # no escaped quote: '","' only separates strings
        return written[2:-2].split(b'","')
    return [orjson.dumps(text)[1:-1] for text in texts]


def _join(pieces: list[Fragments], count: int) -> bytes:
    """The rows of ``count`` accounts, each the concatenation of its entry of every piece
    (a constant fragment, or a list with one fragment per account): one join per batch."""
    template: list[bytes] = []
    slots: list[tuple[int, list[bytes]]] = []
    for piece in pieces:
        if isinstance(piece, bytes):
            if template and not (slots and slots[-1][0] == len(template) - 1):
                template[-1] += piece
            else:
                template.append(piece)
        else:
            slots.append((len(template), piece))
            template.append(b"")
    parts = template * count
    stride = len(template)
    for position, column in slots:
        parts[position::stride] = column
    return b"".join(parts)


_PLATFORM_JSON = {name: orjson.dumps(name) for name in ("mastodon", "bluesky", "x")}


_MODEL_JSON = [b"null", b'"profile"', b'"posts"', b'"declared"']
_FLAGS = [b"false", b"true", b"null"]


def render(model: authenticity.Model, columns: Columns) -> bytes:
    """:func:`results` as JSON Lines, byte for byte ``orjson.dumps`` of each result, built
    column by column: each column of numbers is written by one orjson call (once when it
    is one value), reasons are fixed codes picked by index, and the lines are one join of
    fragments, so no Python object is made per result."""
    count = len(columns)
    if not count:
        return b""
    scores = authenticity.score(model, columns)
    platforms = [_PLATFORM_JSON.get(p) or orjson.dumps(p) for p in columns.platforms]
    first = platforms[0]
    unknown = scores.used == authenticity.UNKNOWN
    known = ~unknown
    flags = np.where(unknown, 2, scores.flagged.astype(np.intp))
    pieces: list[Fragments] = [
        b'{"id":"',
        _json_strings(columns.ids),
        b'","platform":',
        first if all(p is first for p in platforms) else platforms,
        b',"model":',
        authenticity.pick(_MODEL_JSON, scores.used),
        b',"authenticity":',
        authenticity.json_floats(scores.authenticity.round(4)),
        b',"uncertainty":',
        authenticity.pick([b"null", b"["], known.astype(np.intp)),
        _where(authenticity.json_floats(scores.low.round(4)), known),
        authenticity.pick([b"", b","], known.astype(np.intp)),
        _where(authenticity.json_floats(scores.high.round(4)), known),
        authenticity.pick([b"", b"]"], known.astype(np.intp)),
        b',"likely_automated":',
        authenticity.pick(_FLAGS, flags),
        b',"reasons":',
        *authenticity.reason_parts(scores),
        b',"signals":{',
    ]
    for number, name in enumerate(SIGNALS):
        pieces.append((b"," if number else b"") + orjson.dumps(name) + b":")
        pieces.append(authenticity.json_floats(scores.signals[name].round(6)))
    pieces.append(b"}}\n")
    return _join(pieces, count)


def _where(column: Fragments, here: np.ndarray[Any, np.dtype[np.bool_]]) -> Fragments:
    """``column`` where ``here``, an empty fragment elsewhere."""
    if here.all():
        return column
    if isinstance(column, bytes):
        column = [column] * len(here)
    return [c if h else b"" for c, h in zip(column, here.tolist(), strict=True)]


def read_profiles(lines: Iterable[bytes], on_bad: Callable[[BadLine], None]) -> Iterator[Profile]:
    """Profiles from JSON Lines; bad lines go to ``on_bad`` with their line number."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield normalise(orjson.loads(line))
        except orjson.JSONDecodeError as error:
            on_bad(BadLine(number, f"not JSON: {error}"))
        except ProfileError as error:
            on_bad(BadLine(number, str(error)))


CHUNK = 1 << 20  # bytes of input handed to a worker at a time


def chunks(source: BinaryIO, size: int = CHUNK) -> Iterator[tuple[bytes, int]]:
    """Whole lines of ``source`` in pieces of about ``size`` bytes, with the number of the
    first line of each piece."""
    line = 1
    while True:
        piece = source.read(size)
        if not piece:
            return
        if not piece.endswith(b"\n"):
            piece += source.readline()
        yield piece, line
        line += piece.count(b"\n")


def score_chunk(
    model: authenticity.Model, piece: bytes, first_line: int
) -> tuple[bytes, list[BadLine], int]:
    """Scores the lines of ``piece``: the output lines, the bad lines, how many scored.

    A plain profile without recent posts (most lines of a big file) goes straight from its
    parsed JSON to a row of signal inputs (:func:`~kompas.people.profiles.flat`); anything
    else is normalised to a :class:`Profile` first. Both give the same row."""
    bad: list[BadLine] = []
    output: list[bytes] = []
    done = 0
    now = datetime.now(UTC)
    rows: list[tuple[float, ...]] = []
    #: Per account: its platform, id, handle and display name.
    names: list[tuple[str, str, str, str]] = []
    loads, decode_error = orjson.loads, orjson.JSONDecodeError

    def flush() -> None:
        nonlocal rows, names, done
        platforms, ids, handles, shown = (list(c) for c in zip(*names, strict=True))
        output.append(render(model, columns_from_rows(rows, handles, ids, platforms, shown)))
        done += len(rows)
        rows, names = [], []

    for number, line in enumerate(piece.split(b"\n"), start=first_line):
        if not line or line.isspace():
            continue
        try:
            raw = loads(line)
        except decode_error as error:
            bad.append(BadLine(number, f"not JSON: {error}"))
            continue
        facts = flat(raw)
        if facts is not None:
            rows.append(flat_row(facts, now))
            names.append((facts[0], facts[1], facts[2], facts[12]))
        else:
            try:
                profile = normalise(raw)
            except ProfileError as error:
                bad.append(BadLine(number, str(error)))
                continue
            rows.append(profile_row(profile))
            names.append((profile.platform, profile.id, profile.handle, profile.display_name))
        if len(rows) == BATCH:
            flush()
    if rows:
        flush()
    return b"".join(output), bad, done


_WORKER_MODEL: list[authenticity.Model] = []


def _start_worker(document: dict[str, Any]) -> None:
    # One BLAS thread per worker: the workers are the parallelism, and OpenBLAS threads
    # spinning beside them cost more CPU than the small matrix products they speed up.
    threadpool_limits(1, "blas")
    _WORKER_MODEL.append(authenticity.Model.from_json(document))


def _work(piece: bytes, first_line: int) -> tuple[bytes, list[BadLine], int]:
    return score_chunk(_WORKER_MODEL[0], piece, first_line)


def score_jsonl(
    source: BinaryIO,
    sink: BinaryIO,
    model: authenticity.Model,
    on_bad: Callable[[BadLine], None],
    progress: Callable[[int, int], None] = lambda _read, _done: None,
    jobs: int = 1,
    chunk: int = CHUNK,
) -> int:
    """Scores every profile of ``source`` into ``sink``, in input order; returns how many
    were scored. With ``jobs`` > 1 pieces of the file are scored in worker processes, at
    most two pieces per worker in flight, so memory stays flat. ``progress`` gets the
    bytes read and the profiles scored so far."""
    done = 0
    read = 0

    def emit(result: tuple[bytes, list[BadLine], int], size: int) -> None:
        nonlocal done, read
        output, bad, count = result
        sink.write(output)
        for line in bad:
            on_bad(line)
        done += count
        read += size
        progress(read, done)

    if jobs <= 1:
        with threadpool_limits(1, "blas"):
            for piece, first in chunks(source, chunk):
                emit(score_chunk(model, piece, first), len(piece))
        return done
    pending: deque[tuple[Future[tuple[bytes, list[BadLine], int]], int]] = deque()
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_start_worker, initargs=(model.as_json(),)
    ) as pool:
        for piece, first in chunks(source, chunk):
            pending.append((pool.submit(_work, piece, first), len(piece)))
            if len(pending) >= 2 * jobs:
                future, size = pending.popleft()
                emit(future.result(), size)
        while pending:
            future, size = pending.popleft()
            emit(future.result(), size)
    return done


def score_gilani(folder: Path, sink: BinaryIO, model: authenticity.Model) -> int:
    """Scores every account of a Gilani folder (the label is not used)."""
    data = read_gilani(folder)
    sink.write(render(model, data.columns))
    return len(data.columns)


def evaluate(data: Labelled, model: authenticity.Model) -> dict[str, Any]:
    """``{"auc", "f1", "fpr_humans", "n", "unknown"}`` of ``model`` on labelled accounts
    (no training on them): AUC of P(automated), F1 and the share of humans flagged by
    the model's own rule, over the accounts it could score; ``unknown`` counts the rest."""
    scores = authenticity.score(model, data.columns)
    known = ~np.isnan(scores.automated)
    found = figures(data.automated[known], scores.automated[known], 0.5)
    flags = figures(data.automated[known], scores.flagged[known].astype(np.float64), 0.5)
    found.update(f1=flags["f1"], fpr_humans=flags["fpr_humans"], unknown=int((~known).sum()))
    return found
