"""JSON read safely and fast: records decoded and validated in one pass by msgspec
structs, nesting bounded before any parser allocates, and every failure turned into a
:class:`SourceError` naming the record, the field, what was found and what was expected.

Two readers:

- :func:`iter_records` reads a large JSON array of records (``tweets.js``) in batches.
  Exports pretty-print their arrays with one element per block (``\\n  },\\n  {\\n`` between
  elements); a raw newline cannot occur inside a JSON string, so cutting there and decoding
  each batch as an array is exact whenever every batch decodes (a cut inside an element would
  leave a batch unbalanced). Any other layout falls back to a streaming parse (ijson) of the
  same member behind a depth guard, with each record converted by the same structs.
- :func:`decode_small` decodes a small document (``account.js``) read with a size cap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import IO, TypeVar

import msgspec
import numpy as np

from kompas.errors import SourceError

T = TypeVar("T")

#: Deeper than any export nests (X's deepest is 6, ActivityPub's about 8).
MAX_DEPTH = 64
#: A batch is cut at the last element boundary in this many bytes.
_BATCH_BYTES = 1 << 20
#: An element of a pretty-printed array larger than this is not a record of any export.
_MAX_RECORD_BYTES = 64 << 20
_BOUNDARY = b"\n  },\n  {\n"
_AT = re.compile(r"^(?P<problem>.*?)(?: - at `\$(?:\[(?P<index>\d+)\])?(?P<field>[^`]*)`)?$", re.S)


def describe(error: msgspec.MsgspecError) -> tuple[str, int | None, str]:
    """``(problem, index, field)`` of a msgspec error (index of the record in the array)."""
    match = _AT.match(str(error))
    assert match is not None  # the pattern matches any text
    index = match.group("index")
    field = (match.group("field") or "").lstrip(".")
    problem = match.group("problem").replace("`", "")
    return problem, int(index) if index is not None else None, field


def _refusal(
    path: str, member: str, error: Exception, first: int, expected: str, line: int | None = None
) -> SourceError:
    if isinstance(error, RecursionError):
        return SourceError(
            path,
            "nesting too deep",
            member=member,
            location=f"record {first + 1}" if line is None else f"line {line}",
            expected=f"records nested at most {MAX_DEPTH} levels",
        )
    if isinstance(error, msgspec.ValidationError):
        problem, index, field = describe(error)
        number = first + (index or 0) + 1
        where = f"record {number}" + (f", field {field}" if field else "")
        return SourceError(path, problem, member=member, location=where, expected=expected)
    problem = str(error).replace("`", "")
    return SourceError(
        path,
        f"invalid JSON ({problem})",
        member=member,
        location=f"record {first + 1}" if line is None else f"line {line}",
        expected="a UTF-8 JSON array of records",
    )


def decode_small(data: bytes, kind: type[T], path: str, member: str, expected: str) -> T:
    """Decode and validate one small JSON document."""
    try:
        return msgspec.json.decode(data, type=kind)
    except (msgspec.MsgspecError, RecursionError) as exc:
        error = _refusal(path, member, exc, 0, expected)
        if isinstance(exc, msgspec.ValidationError):
            problem, _, field = describe(exc)
            error = SourceError(
                path,
                problem,
                member=member,
                location=f"field {field}" if field else None,
                expected=expected,
            )
        raise error from None


def iter_records(
    open_body: Callable[[], IO[bytes]],
    kind: type[T],
    path: str,
    member: str,
    expected: str,
) -> Iterator[tuple[int, T]]:
    """Yield ``(record_number, record)`` for each element of the JSON array ``open_body()``
    returns (a stream positioned at the array), each validated as ``kind``."""
    batch_type = list[kind]  # type: ignore[valid-type]
    number = 0
    with open_body() as stream:
        buffer = stream.read(_BATCH_BYTES).lstrip()
        if not buffer.startswith(b"["):
            yield from _fallback(open_body, kind, path, member, expected, 0)
            return
        buffer = buffer[1:]
        done = False
        while not done:
            cut = buffer.rfind(_BOUNDARY)
            if cut < 0:
                more = stream.read(_BATCH_BYTES)
                if more:
                    buffer += more
                    if len(buffer) > _MAX_RECORD_BYTES:
                        break
                    continue
                done = True
                text = b"[" + buffer
            else:
                text = b"[" + buffer[: cut + 4] + b"]"
                buffer = buffer[cut + 6 :]
            try:
                records = msgspec.json.decode(text, type=batch_type)
            except msgspec.ValidationError as exc:
                raise _refusal(path, member, exc, number, expected) from None
            except (msgspec.DecodeError, RecursionError):
                break  # not the layout it looked like: read it again, the slow way
            for record in records:
                number += 1
                yield number, record
        else:
            return
    yield from _fallback(open_body, kind, path, member, expected, number)


def _fallback(
    open_body: Callable[[], IO[bytes]],
    kind: type[T],
    path: str,
    member: str,
    expected: str,
    skip: int,
) -> Iterator[tuple[int, T]]:
    """Stream the array with ijson behind a depth guard; records ``1..skip`` were already
    yielded by the fast reader."""
    from kompas.sources._js import iter_json_array

    with open_body() as stream:
        for number, value in iter_json_array(stream, path, member):
            if number <= skip:
                continue
            try:
                yield number, msgspec.convert(value, kind)
            except msgspec.ValidationError as exc:
                raise _refusal(path, member, exc, number - 1, expected) from None


_CLASS = np.zeros(256, dtype=np.uint8)
_CLASS[ord('"')] = 1
_CLASS[ord("[")] = _CLASS[ord("{")] = 2
_CLASS[ord("]")] = _CLASS[ord("}")] = 3


class DepthGuard:
    """A byte stream that refuses JSON nested deeper than :data:`MAX_DEPTH`, checked on each
    block before a parser sees it (a streaming parser's memory grows with the square of the
    depth). Brackets inside strings do not count. Escapes are blanked first (``\\\\`` then
    ``\\"``, left to right, as JSON pairs them), so every quote left is real; the rest is
    vectorised with NumPy."""

    def __init__(self, raw: IO[bytes], path: str, member: str, limit: int = MAX_DEPTH) -> None:
        self._raw = raw
        self._path = path
        self._member = member
        self._limit = limit
        self._depth = 0
        self._in_string = False
        self._carry = b""  # a backslash that ended the last block, escaping this one's first
        self._seen = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data:
            self._scan(data)
        return data

    def _scan(self, data: bytes) -> None:
        text = (self._carry + data).replace(b"\\\\", b"__").replace(b'\\"', b"__")
        self._carry = b"\\" if text.endswith(b"\\") else b""
        classes = _CLASS[np.frombuffer(text, dtype=np.uint8)]
        quotes = np.flatnonzero(classes == 1)
        brackets = np.flatnonzero(classes >= 2)
        if brackets.size:
            quotes_before = np.searchsorted(quotes, brackets) + int(self._in_string)
            outside = brackets[quotes_before % 2 == 0]
            steps = np.where(classes[outside] == 2, 1, -1)
            if steps.size:
                depth = self._depth + np.cumsum(steps)
                if int(depth.max()) > self._limit:
                    at = self._seen + int(outside[np.argmax(depth > self._limit)])
                    raise SourceError(
                        self._path,
                        f"JSON nested more than {self._limit} levels deep (at byte {at:,})",
                        member=self._member,
                        expected=f"records nested at most {self._limit} levels",
                    )
                self._depth = int(depth[-1])
        self._in_string = (int(self._in_string) + quotes.size) % 2 == 1
        self._seen += len(data)

    def close(self) -> None:
        self._raw.close()
