"""Two cores for :meth:`~kompas.rules.engine.RuleSet.decide_all`: a forked worker judges
batches of a list of items beside this process.

The worker is a ``fork`` of this process, so it inherits the items, the compiled rules,
the ranking and the regex time budget as they are: nothing is pickled on the way there
(pickling a batch of items costs more than judging it). The two processes take batches
in turn from a pipe of batch numbers (whichever is free takes the next, so a core slowed
by other load does less), and the worker sends back, per batch, only what the decisions
are made of (one 8-byte key per item, the rules that fired for the keys it has not sent
before, the points of ranking rules, the items that ran out of time: ~35 KB). This
process judges its own batches (a few ahead while the worker's answer is not in), builds
the :class:`~kompas.rules.engine.Decision` objects of both and yields them in order: the
decisions of the one-process path, in the same order. If the worker fails (an exception,
a signal, a message cut short), this process judges the batches it did not answer, so
the outcome is the same or the error is raised here.

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
import select
import signal
import struct
import sys
import warnings
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

from kompas.rules.engine import collection_paused

if TYPE_CHECKING:
    from kompas.rules.engine import Decision, Judged, RuleSet
    from kompas.rules.item import Item
    from kompas.rules.ranking import Ranking
    from kompas.rules.regexes import Budget

log = logging.getLogger(__name__)

#: Batches one worker is given at most (their numbers must fit in a pipe's buffer before
#: it starts: 4 bytes each); a longer list has one worker per part.
WORKER_BATCHES = 1024
#: Batches this process judges ahead of the one it yields next while the worker's
#: answer for that one is not in; then it waits up to PATIENCE seconds for that answer
#: before judging that batch itself as well.
AHEAD = 3
PATIENCE = 0.01

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
    """The decisions about ``items`` in batches of ``size``, judged by this process and a
    forked worker; the same decisions, in the same order, as one process makes."""
    rows: dict[Any, Any] = {}
    part = size * WORKER_BATCHES
    for start in range(0, len(items), part):
        yield from _decide_part(
            rules, items[start : start + part], now, budget, ranking, size, rows
        )


def _decide_part(
    rules: RuleSet,
    items: Sequence[Item],
    now: datetime,
    budget: Budget,
    ranking: Ranking,
    size: int,
    rows: dict[Any, Any],
) -> Iterator[Decision]:
    global forked, worker
    batches = -(-len(items) // size)
    numbers_out, numbers_in = os.pipe()  # the batches not yet taken, in order
    os.write(numbers_in, struct.pack(f"<{batches}I", *range(batches)))
    os.close(numbers_in)
    read, write = os.pipe()  # the worker's answers
    with warnings.catch_warnings():  # Python 3.12+ warns of forking with threads: see above
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the worker
        os.close(read)
        _work(rules, items, now, budget, ranking, size, numbers_out, write)
    forked, worker = forked + 1, pid
    os.close(write)
    answers = _Answers(read)

    def judge(number: int) -> list[Decision]:
        return rules._batch(items[number * size : (number + 1) * size], now, rows, budget, ranking)

    mine: dict[int, list[Decision]] = {}  # judged or answered ahead of their turn
    taken = -1  # the last number this process took: every number up to it is taken
    helped = True  # the worker has not failed
    try:
        for number in range(batches):
            while number not in mine:
                if not helped:
                    mine[number] = judge(number)
                elif answers.ready():
                    answer = _receive(rules, answers, rows)
                    if answer is None:
                        helped = False
                        _end(pid)
                        continue
                    answered, judged = answer
                    if answered >= number and answered not in mine:  # not judged here too
                        with collection_paused():
                            mine[answered] = rules._decisions(
                                items[answered * size : (answered + 1) * size], judged, rows
                            )
                elif taken < number or (len(mine) < AHEAD and taken < batches):
                    got = _take(numbers_out)
                    if got is None:
                        taken = batches  # all taken: the worker has this one
                    else:
                        taken = got
                        mine[got] = judge(got)
                elif not answers.ready(PATIENCE):
                    # The worker is slow (other load has its core): rather than wait,
                    # judge its batch here too (its answer is then only read for its rows).
                    mine[number] = judge(number)
            yield from mine.pop(number)
    finally:
        os.close(numbers_out)
        answers.close()
        if helped:
            _end(pid)


def _take(numbers: int) -> int | None:
    """The next batch number from the pipe both processes take them from (``None``: none
    left). A pipe's reads of 4 bytes are whole: the kernel hands each number to one."""
    data = os.read(numbers, 4)
    return struct.unpack("<I", data)[0] if data else None


class _Answers:
    """The worker's answers: pickles, each after its length (8 bytes), read as they come."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()

    def _whole(self) -> int | None:
        """The length of the first answer if all of it is in the buffer."""
        if len(self.buffer) < 8:
            return None
        (length,) = struct.unpack_from("<Q", self.buffer)
        return length if len(self.buffer) >= 8 + length else None

    def ready(self, timeout: float = 0) -> bool:
        """Whether an answer (or part of one, or the end) is there to read, waiting up
        to ``timeout`` seconds for one."""
        return bool(self.buffer) or bool(select.select([self.fd], [], [], timeout)[0])

    def next(self) -> Any:
        """The next answer (waiting for it); :class:`EOFError` if the worker is gone."""
        while (length := self._whole()) is None:
            chunk = os.read(self.fd, 1 << 17)
            if not chunk:
                raise EOFError("the worker's pipe closed")
            self.buffer += chunk
        answer = pickle.loads(memoryview(self.buffer)[8 : 8 + length])
        del self.buffer[: 8 + length]
        return answer

    def close(self) -> None:
        os.close(self.fd)


def _send(fd: int, answer: Any) -> None:
    """``answer`` down the pipe, after its length."""
    data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
    view = memoryview(struct.pack("<Q", len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _receive(rules: RuleSet, answers: _Answers, rows: dict[Any, Any]) -> tuple[int, Judged] | None:
    """The worker's next batch: its number and what its decisions are made of (the new
    rows added to ``rows``); ``None`` if the worker failed."""
    try:
        answer = answers.next()
    except Exception as error:  # cut short (EOFError, UnpicklingError, …): it died
        log.warning("the rules worker stopped (%s); judging its batches here", error)
        return None
    if answer[0] != "judged":
        log.warning("the rules worker failed (%s); judging its batches here", answer[1])
        return None
    _, number, judged, new = answer
    for key, fired in new.items():
        if key not in rows:
            rows[key] = rules._row(fired)
    return number, judged


def _work(
    rules: RuleSet,
    items: Sequence[Item],
    now: datetime,
    budget: Budget,
    ranking: Ranking,
    size: int,
    numbers: int,
    write: int,
) -> NoReturn:
    """The worker: judge the batches it takes from ``numbers``, send each one's parts
    down ``write`` in turn, and exit (code 0 when there were no more to take)."""
    code = 1
    try:
        gc.freeze()  # its collections leave the inherited objects (and their pages) alone
        warnings.simplefilter("ignore")
        sent: set[Any] = set()
        try:
            while (number := _take(numbers)) is not None:
                with collection_paused():
                    batch = items[number * size : (number + 1) * size]
                    judged = rules._judge(batch, now, budget, ranking)
                    new = rules._new_rows(judged, sent)
                sent.update(new)
                _send(write, ("judged", number, judged, new))
            code = 0
        except Exception as error:  # told to the parent, which judges the batch itself
            _send(write, ("failed", f"{type(error).__name__}: {error}"))
    finally:
        os._exit(code)


def _end(pid: int) -> None:
    """End the worker (it has exited when its answers are all in, or is no longer of
    use) and wait for it, so that it leaves no zombie."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ChildProcessError, ProcessLookupError):  # pragma: no cover (reaped elsewhere)
        pass
