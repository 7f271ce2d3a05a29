"""Parsing an export in a second process while this one writes (issue #18): the parse
(reading, validating, building records) takes the machine's other core, and the importing
process only stores what it receives.

The worker is ``python -m kompas.parse_worker``, started with the same interpreter: it runs
the export kind's own parser and sends its records down its standard output as
:class:`~kompas.store.rows.Rows` (plain tuples in the table's column order, which pickle
five times faster than the records) in length-prefixed pickles, then ``done``, or the
:class:`~kompas.errors.KompasError` that stopped the parse, which the importing process
raises as its own: the import's transaction then rolls back as if it had parsed in-process.
The worker ignores Ctrl-C (the importing process stops it), and stops by itself when the
importing process goes away (its output pipe closes).

This module imports no database library: the worker starts in a fraction of the parse.
"""

from __future__ import annotations

import gc
import importlib
import json
import marshal
import os
import pickle
import signal
import struct
import subprocess
import sys
import traceback
from collections.abc import Iterator
from operator import attrgetter
from typing import IO, Any

#: Rows per message: small enough to keep both processes' memory flat, large enough that
#: framing costs nothing.
CHUNK = 4000

#: Exports at least this large (bytes) parse in a worker; smaller ones parse in-process,
#: where starting a second interpreter would cost more than it saves.
MIN_BYTES = 4 << 20

#: The pipe from the worker, when the system lets it be this large (Linux's default
#: ``/proc/sys/fs/pipe-max-size``).
PIPE_BYTES = 1 << 20

_HEADER = struct.Struct("<Q")
_MARSHALED = "marshaled rows"


def wanted(path: str) -> bool:
    """Whether the export at ``path`` parses in a worker: ``KOMPAS_PARSE_WORKER=1`` or
    ``0`` decides; otherwise a file of :data:`MIN_BYTES` or more does."""
    setting = os.environ.get("KOMPAS_PARSE_WORKER", "")
    if setting in ("0", "1"):
        return setting == "1"
    try:
        return os.path.isfile(path) and os.path.getsize(path) >= MIN_BYTES
    except OSError:
        return False


def parsed_in_worker(
    module: str,
    function: str,
    path: str,
    columns: dict[str, list[str]],
    forms: dict[str, Any] | None = None,
) -> Iterator[Any]:
    """What ``module.function(path)`` yields, parsed in a worker process: records of the
    types ``columns`` names arrive as :class:`~kompas.store.rows.Rows` of those fields,
    others as themselves; with ``forms`` (per type, the converters of
    :func:`kompas.store.rows.stored`), the rows arrive in the stored form. Raises what
    stopped the parse."""
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kompas.parse_worker",
            module,
            function,
            path,
            json.dumps(columns),
            json.dumps(forms),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
    )
    stream = worker.stdout
    assert stream is not None
    _widen(stream)
    try:
        while True:
            message = _receive(stream)
            if message is None:
                code = worker.wait()
                raise RuntimeError(f"the parse worker stopped before the end (exit code {code})")
            tag, payload = message
            if tag == "items":
                yield from map(_unpacked, payload)
            elif tag == "done":
                return
            elif tag == "error":
                raise payload
            else:
                raise RuntimeError(f"the parse worker failed:\n{payload}")
    finally:
        stream.close()
        if worker.poll() is None:
            worker.kill()
        worker.wait()


def _widen(stream: IO[bytes]) -> None:
    """Let the worker run a few messages ahead (Linux: a 1 MiB pipe instead of 64 KiB), so
    that it parses while this process writes instead of waiting for each read."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # another system, or a lower limit
        pass


def _receive(stream: IO[bytes]) -> tuple[str, Any] | None:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    body = stream.read(size)
    if len(body) < size:
        return None
    message: tuple[str, Any] = pickle.loads(body)  # our own child's output
    return message


def _packed(item: Any) -> Any:
    """Rows of plain values (the stored form) as one ``marshal`` string: written and read
    back in two thirds of a pickle's time. Anything else is pickled as it is."""
    from kompas.store.rows import Rows

    if isinstance(item, Rows) and item.stored:
        try:
            return (_MARSHALED, item.kind.__name__, marshal.dumps(item.rows))
        except ValueError:  # a value marshal cannot write
            return item
    return item


def _unpacked(item: Any) -> Any:
    if type(item) is tuple and item[0] == _MARSHALED:
        from kompas import model
        from kompas.store.rows import Rows

        return Rows(getattr(model, item[1]), marshal.loads(item[2]), stored=True)
    return item


def _send(out: IO[bytes], tag: str, payload: Any) -> None:
    if tag == "items":
        payload = list(map(_packed, payload))
    body = pickle.dumps((tag, payload), protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_HEADER.pack(len(body)))
    out.write(body)


def serve(
    module: str,
    function: str,
    path: str,
    columns: dict[str, list[str]],
    out: IO[bytes],
    forms: dict[str, Any] | None = None,
) -> None:
    """The worker's side: parse, and send the records as rows (in the stored form when
    ``forms`` gives it), a chunk at a time. A parser may yield rows itself."""
    from kompas.errors import KompasError
    from kompas.store.rows import Rows, stored

    readers = {name: attrgetter(*fields) for name, fields in columns.items()}
    pending: dict[type, tuple[Any, list[tuple[Any, ...]]]] = {}  # reader, rows so far
    outbox: list[Any] = []
    size = 0

    def finished(kind: type, rows: list[tuple[Any, ...]]) -> Rows:
        if forms is None:
            return Rows(kind, rows)
        try:
            return Rows(kind, stored(rows, forms[kind.__name__]), stored=True)
        except Exception:  # a value the writer refuses: it names the row as it would anyway
            return Rows(kind, rows)

    def post(item: Any, rows: int) -> None:
        nonlocal outbox, size
        outbox.append(item)
        size += rows
        if size >= CHUNK:
            _send(out, "items", outbox)
            outbox, size = [], 0

    parse = getattr(importlib.import_module(module), function)
    try:
        for record in parse(path):
            if isinstance(record, Rows):
                _, rows = pending.pop(record.kind, (None, []))
                if rows:  # the rows of one type leave in the order they came
                    post(finished(record.kind, rows), len(rows))
                post(finished(record.kind, record.rows), len(record.rows))
                continue
            kind = type(record)
            known = pending.get(kind)
            if known is None:
                reader = readers.get(kind.__name__)
                if reader is None:
                    post(record, 1)
                    continue
                known = pending[kind] = (reader, [])
            reader, rows = known
            rows.append(reader(record))
            if len(rows) >= CHUNK:
                post(finished(kind, rows), len(rows))
                pending[kind] = (reader, [])
        for kind, (_, rows) in pending.items():
            if rows:
                outbox.append(finished(kind, rows))
        _send(out, "items", outbox)
        _send(out, "done", None)
    except KompasError as error:
        _send(out, "error", error)
    except Exception:
        _send(out, "crash", traceback.format_exc())
    out.flush()


def main() -> None:
    """``python -m kompas.parse_worker MODULE FUNCTION PATH COLUMNS_JSON FORMS_JSON``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the importing process stops us
    # A parse makes millions of short-lived objects and no cycle: collections would only
    # walk them again and again.
    gc.disable()
    module, function, path, columns, forms = sys.argv[1:6]
    out = sys.stdout.buffer
    try:
        serve(module, function, path, json.loads(columns), out, json.loads(forms))
    except BrokenPipeError:  # the importing process went away: nothing left to do
        os._exit(0)


if __name__ == "__main__":
    main()
