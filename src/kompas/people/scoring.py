"""Scoring many profiles: streaming JSON Lines in, one JSON line out per profile.

Lines are parsed with orjson and normalised one by one; signals, the model and the
reasons run in NumPy over batches, so memory stays flat however long the file is.
A malformed line is reported with its number and skipped; the run goes on.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import orjson

from kompas.errors import KompasError
from kompas.people import authenticity
from kompas.people.datasets import Labelled, read_gilani
from kompas.people.metrics import figures
from kompas.people.profiles import Profile, ProfileError, normalise
from kompas.people.signals import SIGNALS, Columns, columns_from_profiles

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
    """One result per account: ``{"id", "platform", "authenticity", "uncertainty",
    "reasons", "signals"}``."""
    scores = authenticity.score(model, columns)
    table = np.column_stack([scores.signals[name] for name in SIGNALS]).round(6).tolist()
    auth = scores.authenticity.round(4).tolist()
    low = scores.low.round(4).tolist()
    high = scores.high.round(4).tolist()
    why = authenticity.batch_reasons(model, scores)
    ids, platforms = columns.ids, columns.platforms
    return [
        {
            "id": ids[row],
            "platform": platforms[row],
            "authenticity": auth[row],
            "uncertainty": [low[row], high[row]],
            "reasons": why[row],
            # orjson writes NaN as null: unknown signals stay unknown.
            "signals": dict(zip(SIGNALS, values, strict=True)),
        }
        for row, values in enumerate(table)
    ]


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


def batches(profiles: Iterable[Profile], size: int = BATCH) -> Iterator[list[Profile]]:
    """``profiles`` in lists of ``size``."""
    batch: list[Profile] = []
    for profile in profiles:
        batch.append(profile)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


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
    """Scores the lines of ``piece``: the output lines, the bad lines, how many scored."""
    bad: list[BadLine] = []

    def numbered(found: BadLine) -> None:
        bad.append(BadLine(found.number + first_line - 1, found.problem))

    output: list[bytes] = []
    done = 0
    for batch in batches(read_profiles(piece.split(b"\n"), numbered)):
        scored = results(model, columns_from_profiles(batch))
        output.extend(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in scored)
        done += len(batch)
    return b"".join(output), bad, done


_WORKER_MODEL: list[authenticity.Model] = []


def _start_worker(document: dict[str, Any]) -> None:
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
    output = results(model, data.columns)
    sink.write(b"".join(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in output))
    return len(output)


def evaluate(data: Labelled, model: authenticity.Model) -> dict[str, Any]:
    """``{"auc", "f1", "fpr_humans", "n"}`` of ``model`` on labelled accounts, at the
    model's own threshold (no training on them)."""
    automated = 1.0 - authenticity.score(model, data.columns).authenticity
    return figures(data.automated, automated, model.threshold)
