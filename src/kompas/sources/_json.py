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

A batch is first decoded by a twin of the record type without its regex patterns
(:func:`loosened`: msgspec runs each pattern through Python's ``re``, which cost more than
the rest of the decode), whose values are then checked by plain string tests; a batch that
fails them is decoded again by the real type, which raises exactly the error it always
raised, or accepts what the plain test could not tell.
"""

from __future__ import annotations

import functools
import operator
import re
import types
import typing
from collections.abc import Callable, Iterator
from itertools import chain
from typing import IO, Annotated, Any, TypeVar

import msgspec

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


#: Whether every string of a list (its Nones aside) meets a pattern.
Check = Callable[[list[str | None]], bool]
#: How to reach a patterned field from a record: attribute names (``?name``: one that may
#: be None), and ``_EACH`` for every element of a list.
Path = tuple[str, ...]
_EACH = "[]"
_DIGITS = re.compile(r"^\^\[0-9\]\{1,(\d+)\}\$$")
_NOT_NONE = functools.partial(operator.is_not, None)


def _pattern_check(pattern: str) -> Check:
    """Whether strings (and Nones, which pass) all match ``pattern`` as msgspec tests it
    (``re.search``); the digit strings of the exports (``^[0-9]{1,20}$``) by a few C-level
    passes over all of them at once. The plain test may say no where the pattern says yes
    (``"12\\n"``): the batch is then decoded by the real type."""
    digits = _DIGITS.match(pattern)
    if digits is not None:
        most = int(digits.group(1))

        def all_digits(values: list[str | None]) -> bool:
            strings = list(filter(None, values))  # an empty string fails the pattern:
            if len(strings) + values.count(None) != len(values):
                return False
            joined = "".join(strings)
            return not strings or (
                joined.isascii() and joined.isdigit() and max(map(len, strings)) <= most
            )

        return all_digits
    search = re.compile(pattern).search
    return lambda values: all(v is None or search(v) for v in values)


def _loosen(annotation: Any) -> tuple[Any, list[tuple[Path, Check]]]:
    """An annotation without regex patterns, and the patterned strings under it: where
    each is (relative to a value of the annotation) and its check."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *extras = typing.get_args(annotation)
        patterns = [m.pattern for m in extras if isinstance(m, msgspec.Meta) and m.pattern]
        if not patterns or base is not str:
            return annotation, []
        kept = [
            msgspec.Meta(min_length=m.min_length, max_length=m.max_length)
            for m in extras
            if isinstance(m, msgspec.Meta) and (m.min_length, m.max_length) != (None, None)
        ]
        loose = Annotated[(str, *kept)] if kept else str
        return loose, [((), _pattern_check(p)) for p in patterns]
    if origin in (typing.Union, types.UnionType):
        members = [_loosen(member) for member in typing.get_args(annotation)]
        checked = [paths for _, paths in members if paths]
        if not checked:
            return annotation, []
        if len(checked) > 1 or len(members) > 2 or type(None) not in typing.get_args(annotation):
            raise TypeError(f"cannot loosen {annotation}")  # only X | None is supported
        loose = typing.Union[tuple(m for m, _ in members)]  # noqa: UP007 (built from a list)
        return loose, checked[0]  # a None is left out before any check
    if origin is list:
        (item,) = typing.get_args(annotation)
        loose_item, paths = _loosen(item)
        if not paths:
            return annotation, []
        return list[loose_item], [((_EACH, *path), check) for path, check in paths]  # type: ignore[valid-type]
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        twin, paths = _loosened(annotation)
        return twin, paths
    return annotation, []


def _gather(values: list[Any], path: Path) -> list[Any]:
    """What lies at ``path`` under each value (the Nones on the way left out, those at the
    end kept), by C-level passes."""
    for step in path:
        if step == _EACH:
            values = list(filter(_NOT_NONE, chain.from_iterable(values)))
        elif step.startswith("?"):  # an optional field: its Nones go no further
            values = list(filter(_NOT_NONE, map(operator.attrgetter(step[1:]), values)))
        else:
            values = list(map(operator.attrgetter(step), values))
    return values


@functools.cache
def _loosened(kind: type) -> tuple[type, list[tuple[Path, Check]]]:
    hints = typing.get_type_hints(kind, include_extras=True)
    fields: list[Any] = []
    paths: list[tuple[Path, Check]] = []
    for info in msgspec.structs.fields(kind):
        annotation, inner = _loosen(hints[info.name])
        optional = type(None) in typing.get_args(hints[info.name])
        for path, check in inner:
            # A None at the end is the check's to pass; one on the way stops the path there.
            step = f"?{info.name}" if optional and path else info.name
            paths.append(((step, *path), check))
        if info.default is not msgspec.NODEFAULT:
            fields.append((info.name, annotation, info.default))
        elif info.default_factory is not msgspec.NODEFAULT:
            factory = info.default_factory
            if isinstance(factory, type) and issubclass(factory, msgspec.Struct):
                factory = _loosened(factory)[0]
            fields.append((info.name, annotation, msgspec.field(default_factory=factory)))
        else:
            fields.append((info.name, annotation))
    if not paths:
        return kind, []
    # Not tracked by the garbage collector (a decoded record holds no cycle): a batch of
    # them would otherwise set off collections that each walk every live object.
    twin = msgspec.defstruct(kind.__name__, fields, module=kind.__module__, gc=False)
    return twin, paths


def loosened(kind: type) -> tuple[type, Callable[[list[Any]], bool] | None]:
    """A twin of the struct ``kind`` that decodes the same documents without its regex
    patterns, and the check that tells whether a batch of decoded twins meets them (each
    patterned field gathered over the whole batch, then tested at once); ``kind`` itself
    (and ``None``) when it has none."""
    twin, paths = _loosened(kind)
    if not paths:
        return kind, None

    def check(records: list[Any]) -> bool:
        for path, test in paths:
            values = _gather(records, path)
            if values and not test(values):
                return False
        return True

    return twin, check


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
    twin, check = loosened(typing.cast(type, kind))
    loose_type = list[twin]  # type: ignore[valid-type]
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
                try:
                    records = msgspec.json.decode(text, type=loose_type)
                    if check is not None and not check(records):
                        raise msgspec.ValidationError  # the real type says what and where
                except msgspec.ValidationError:
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


@functools.cache
def _classes() -> Any:
    """Per byte: 1 a quote, 2 an opening bracket, 3 a closing one, 0 anything else. NumPy is
    imported here, by the streaming fallback only: the batch reader never needs it."""
    import numpy as np

    classes = np.zeros(256, dtype=np.uint8)
    classes[ord('"')] = 1
    classes[ord("[")] = classes[ord("{")] = 2
    classes[ord("]")] = classes[ord("}")] = 3
    return classes


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
        import numpy as np

        classes = _classes()[np.frombuffer(text, dtype=np.uint8)]
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
