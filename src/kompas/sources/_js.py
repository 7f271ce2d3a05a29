"""Streaming JSON helpers shared by the importers: the X ``window.YTD.*`` wrapper and
plain JSON arrays, read with ijson so memory stays flat however large the file is."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from kompas.errors import SourceError

_WRAPPER = re.compile(rb"^\s*window\.(YTD\.[A-Za-z0-9_-]+\.part\d+|__THAR_CONFIG)\s*=\s*")
_HEAD_BYTES = 512


class _Prefixed:
    """A stream that first returns ``head`` and then the rest of ``raw``."""

    def __init__(self, head: bytes, raw: IO[bytes]) -> None:
        self._head = head
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                data, self._head = self._head + self._raw.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._raw.read(size)

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> _Prefixed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def strip_ytd_wrapper(stream: IO[bytes], path: str, member: str) -> _Prefixed:
    """Consume the ``window.YTD.<name>.partN =`` assignment and return the JSON after it."""
    head = stream.read(_HEAD_BYTES)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    match = _WRAPPER.match(head)
    if match is None:
        shown = head[:40].decode("utf-8", "replace")
        raise SourceError(
            path,
            f"does not start with the archive's JavaScript wrapper (found {shown!r})",
            member=member,
            location="line 1",
            expected="'window.YTD.<name>.part0 = [' followed by JSON",
        )
    return _Prefixed(head[match.end() :], stream)


def json_problem(error: BaseException) -> str:
    """A parser's complaint as one line of text: the yajl backend hands it over as bytes
    (shown as ``\\xd0\\x9d…``) and spreads it over three lines with a caret."""
    detail = error.args[0] if error.args else error
    text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) >= 2 and "(right here)" in lines[-1]:
        return f"{lines[0].rstrip('.')} near {lines[1][:80]!r}"
    return " ".join(lines)[:300]


def iter_json_array(
    stream: Any, path: str, member: str, prefix: str = "item"
) -> Iterator[tuple[int, Any]]:
    """Yield ``(record_number, value)`` for each element of a JSON array, streaming.

    Malformed JSON or bytes that are not UTF-8 raise a :class:`SourceError` naming the
    record being read when it broke.
    """
    import ijson  # here: the batch reader of the large files never needs it

    from kompas.sources._json import DepthGuard

    number = 0
    guarded = DepthGuard(stream, path, member)
    try:
        for number, value in enumerate(ijson.items(guarded, prefix, use_float=True), start=1):
            yield number, value
    except SourceError:
        raise
    except (ijson.JSONError, UnicodeDecodeError, ValueError) as exc:
        raise SourceError(
            path,
            f"invalid JSON ({json_problem(exc)})",
            member=member,
            location=f"record {number + 1}",
            expected="a UTF-8 JSON array of records",
        ) from exc
