"""Two cores for :meth:`~kompas.rules.engine.RuleSet.decide_all`: a forked worker judges
every other batch of a list of items.

The worker is a ``fork`` of this process, so it inherits the items, the compiled rules,
the ranking and the regex time budget as they are: nothing is pickled on the way there
(pickling a batch of items costs more than judging it). It judges batches 1, 3, 5, … and
sends back, per batch, only what the decisions are made of (one 8-byte key per item, the
rules that fired for the keys it has not sent before, the points of ranking rules, the
items that ran out of time: ~35 KB); this process judges batches 0, 2, 4, …, builds the
:class:`~kompas.rules.engine.Decision` objects of both and yields them in order. The
decisions are those of the one-process path, in the same order. If the worker fails (an
exception, a signal, a message cut short), this process judges the rest of its batches
itself, so the outcome is the same or the error is raised here.

Forking while other threads run (Rich's progress refresh, a native library's pool) is
safe here because the worker touches nothing they may hold a lock on: it runs the rules
over data in memory, writes only to its own pipe, ignores
warnings (they would write to stderr) and leaves with :func:`os._exit` (no ``atexit``,
no flushing of buffers it inherited).
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import signal
import sys
import warnings
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn

from kompas.rules.engine import collection_paused

if TYPE_CHECKING:
    from kompas.rules.engine import Decision, Judged, RuleSet
    from kompas.rules.item import Item
    from kompas.rules.ranking import Ranking
    from kompas.rules.regexes import Budget

log = logging.getLogger(__name__)

#: Workers forked so far by this process, and the last one's process id (for the tests).
forked = 0
worker: int | None = None


def cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether a worker can be forked here: ``os.fork`` exists and is safe (not on macOS,
    where system libraries may not survive a fork)."""
    return hasattr(os, "fork") and sys.platform != "darwin"


def available(forced: bool) -> bool:
    """Whether to judge on two cores: the platform can fork, and (unless ``forced``) this
    process may run on at least two CPUs."""
    return can_fork() and (forced or cores() >= 2)


def decide(
    rules: RuleSet,
    items: Sequence[Item],
    now: datetime,
    budget: Budget,
    ranking: Ranking,
    size: int,
) -> Iterator[Decision]:
    """The decisions about ``items`` in batches of ``size``, every other batch judged by a
    forked worker; the same decisions, in the same order, as one process makes."""
    global forked, worker
    starts = range(0, len(items), size)
    read, write = os.pipe()
    with warnings.catch_warnings():  # Python 3.12+ warns of forking with threads: see above
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the worker
        os.close(read)
        _work(rules, items, now, budget, ranking, size, starts[1::2], write)
    forked, worker = forked + 1, pid
    os.close(write)
    stream = os.fdopen(read, "rb")
    rows: dict[Any, Any] = {}
    helped = True  # the worker has not failed
    done = False
    try:
        for number, start in enumerate(starts):
            batch = items[start : start + size]
            if helped and number % 2:
                judged = _receive(rules, stream, rows)
                if judged is not None:
                    with collection_paused():
                        decisions = rules._decisions(batch, judged, rows)
                    yield from decisions
                    continue
                helped = False
            yield from rules._batch(batch, now, rows, budget, ranking)
        done = True
    finally:
        stream.close()
        _reap(pid, finished=done and helped)


def _receive(rules: RuleSet, stream: BinaryIO, rows: dict[Any, Any]) -> Judged | None:
    """The worker's next batch (its new rows added to ``rows``), or ``None`` if it failed."""
    try:
        message = pickle.load(stream)
    except Exception as error:  # cut short (EOFError, UnpicklingError, …): it died
        log.warning("the rules worker stopped (%s); judging its batches here", error)
        return None
    if message[0] != "judged":
        log.warning("the rules worker failed (%s); judging its batches here", message[1])
        return None
    _, judged, new = message
    for key, fired in new.items():
        if key not in rows:
            rows[key] = rules._row(fired)
    return judged  # type: ignore[no-any-return]


def _work(
    rules: RuleSet,
    items: Sequence[Item],
    now: datetime,
    budget: Budget,
    ranking: Ranking,
    size: int,
    starts: range,
    write: int,
) -> NoReturn:
    """The worker: judge the batches at ``starts``, send each one's parts down ``write``
    in order, and exit (code 0 when every batch was sent)."""
    code = 1
    try:
        gc.freeze()  # its collections leave the inherited objects (and their pages) alone
        warnings.simplefilter("ignore")
        with os.fdopen(write, "wb") as out:
            sent: set[Any] = set()
            try:
                for start in starts:
                    with collection_paused():
                        judged = rules._judge(items[start : start + size], now, budget, ranking)
                        new = rules._new_rows(judged, sent)
                    sent.update(new)
                    pickle.dump(("judged", judged, new), out, pickle.HIGHEST_PROTOCOL)
                    out.flush()
                code = 0
            except Exception as error:  # told to the parent, which judges the batch itself
                pickle.dump(("failed", f"{type(error).__name__}: {error}"), out)
    finally:
        os._exit(code)


def _reap(pid: int, finished: bool) -> None:
    """Wait for the worker to exit, killing it first if its batches are not all in."""
    try:
        if not finished:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ChildProcessError, ProcessLookupError):  # pragma: no cover (reaped elsewhere)
        pass
