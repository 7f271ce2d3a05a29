"""Hypothesis strategies for the fuzz harness (tests/test_fuzz.py): small, structurally
valid exports of each kind cut from the real samples in tests/data, then one defect
injected — a wrong type, an out-of-range value, deep nesting, a huge number, a lone
surrogate, a truncation or corrupted bytes."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from conftest import BLUESKY_CAR, LINKEDIN_EXPORT, MASTODON_ARCHIVE, OPML, X_ARCHIVE

#: Records kept from each real file: enough structure, small enough to import in a blink.
KEEP = 6

#: What replaces a value: JSON text, so that numbers beyond Python's and nesting beyond any
#: parser's can be written.
WRONG_VALUES = st.sampled_from(
    [
        "0",
        "-1",
        "1.5e308",
        "1e999",
        "true",
        "null",
        '""',
        "[]",
        "{}",
        '[{"a": 1}]',
        '"\\udc80"',
        '"\\u0000"',
        '"0001-01-01T00:00:00Z"',
        '"9999-12-31T23:59:59Z"',
        '"Mon Jan 01 00:00:00 +0000 0001"',
        '"[/] [bold]markup[/bold]"',
        '"Нет \u2028 text"',
        "1" + "0" * 5000,
        "[" * 5000 + "]" * 5000,
        '{"a":' * 2000 + "1" + "}" * 2000,
        '"' + "x" * 100_000 + '"',
    ]
)


def _x_js(name: str, data: Any) -> bytes:
    return f"window.YTD.{name}.part0 = ".encode() + json.dumps(data, indent=2).encode()


@cache
def x_sample() -> dict[str, Any]:
    """The X sample's JSON files, parsed, each cut to a few records."""
    parsed: dict[str, Any] = {}
    with zipfile.ZipFile(X_ARCHIVE) as archive:
        for name in ("account", "profile", "tweets", "like", "follower", "following"):
            body = archive.read(f"data/{name}.js")
            value = json.loads(body[body.index(b"=") + 1 :])
            parsed[name] = value[:KEEP]
    return parsed


@cache
def mastodon_sample() -> dict[str, Any]:
    """The Mastodon sample's JSON files, parsed, each cut to a few records."""
    parsed: dict[str, Any] = {}
    with tarfile.open(MASTODON_ARCHIVE) as archive:
        for name in ("actor", "outbox", "likes", "bookmarks"):
            member = archive.extractfile(f"{name}.json")
            assert member is not None
            value = json.loads(member.read())
            if "orderedItems" in value:
                value["orderedItems"] = value["orderedItems"][:KEEP]
            parsed[name] = value
    return parsed


@cache
def linkedin_sample() -> dict[str, bytes]:
    """The LinkedIn sample's CSV files, each cut to a few rows."""
    with zipfile.ZipFile(LINKEDIN_EXPORT) as archive:
        return {
            name: b"\n".join(archive.read(name).split(b"\n")[: KEEP * 3]) + b"\n"
            for name in archive.namelist()
        }


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``value``."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


_MARK = "\x00KOMPAS-FUZZ\x00"


def _replaced(document: Any, path: tuple[Any, ...], raw_json: str) -> bytes:
    """``document`` as JSON with the value at ``path`` replaced by ``raw_json``."""
    if not path:
        return raw_json.encode("utf-8", "surrogatepass")
    copy = json.loads(json.dumps(document))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = _MARK
    text = json.dumps(copy, indent=2)
    return text.replace(json.dumps(_MARK), raw_json).encode("utf-8", "surrogatepass")


@st.composite
def json_defect(draw: st.DrawFn, document: Any) -> bytes:
    """``document`` with one value somewhere replaced by a wrong one."""
    paths = _paths(document)
    path = draw(st.sampled_from(paths))
    return _replaced(document, path, draw(WRONG_VALUES))


@st.composite
def byte_defect(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` truncated, or with a few bytes overwritten."""
    if draw(st.booleans()):
        return data[: draw(st.integers(0, max(0, len(data) - 1)))]
    mutable = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        mutable[draw(st.integers(0, len(mutable) - 1))] = draw(st.integers(0, 255))
    return bytes(mutable)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@st.composite
def x_archive(draw: st.DrawFn) -> bytes:
    """A small X archive with one defect in one file, or in the zip's own bytes."""
    sample = x_sample()
    members = {f"data/{name}.js": _x_js(name, value) for name, value in sample.items()}
    where = draw(st.sampled_from([*sorted(sample), "zip"]))
    if where == "zip":
        return draw(byte_defect(_zip(members)))
    name = f"data/{where}.js"
    if draw(st.integers(0, 4)) == 0:
        members[name] = draw(byte_defect(members[name]))
    else:
        head = f"window.YTD.{where}.part0 = ".encode()
        members[name] = head + draw(json_defect(sample[where]))
    return _zip(members)


@st.composite
def mastodon_archive(draw: st.DrawFn) -> bytes:
    """A small Mastodon archive with one defect in one file, or in the tar.gz's bytes."""
    sample = mastodon_sample()
    members = {f"{name}.json": json.dumps(value).encode() for name, value in sample.items()}
    where = draw(st.sampled_from([*sorted(sample), "tar.gz"]))
    if where == "tar.gz":
        return draw(byte_defect(_tar_gz(members)))
    if draw(st.integers(0, 4)) == 0:
        members[f"{where}.json"] = draw(byte_defect(members[f"{where}.json"]))
    else:
        members[f"{where}.json"] = draw(json_defect(sample[where]))
    return _tar_gz(members)


_CELLS = st.sampled_from(
    [
        "",
        "yesterday",
        "0001-01-01 00:00:00",
        "9999-12-31 23:59:59",
        '"unclosed',
        "x" * 200_000,
        "[/]",
        "\udc80",
        "\x00",
        "https://www.linkedin.com/feed/update/urn:li:activity:1",
    ]
)


@st.composite
def linkedin_export(draw: st.DrawFn) -> bytes:
    """A small LinkedIn export with one cell replaced, or damaged bytes."""
    members = dict(linkedin_sample())
    name = draw(st.sampled_from(sorted(members)))
    if draw(st.booleans()):
        members[name] = draw(byte_defect(members[name]))
    else:
        lines = members[name].decode().split("\n")
        row = draw(st.integers(0, len(lines) - 1))
        cells = lines[row].split(",")
        column = draw(st.integers(0, max(0, len(cells) - 1)))
        cells[column] = draw(_CELLS)
        lines[row] = ",".join(cells)
        members[name] = "\n".join(lines).encode("utf-8", "surrogateescape")
    return _zip(members)


@st.composite
def bluesky_car(draw: st.DrawFn) -> bytes:
    """The Bluesky sample repository, truncated or with bytes overwritten."""
    return draw(byte_defect(BLUESKY_CAR.read_bytes()))


_OPML_DEFECTS = st.sampled_from(
    [
        ('xmlUrl="', 'xmlUrl=" '),
        ('xmlUrl="https://', 'xmlUrl="javascript:'),
        ("<body>", "<body>" + "<outline>" * 200),
        ('encoding="UTF-8"', 'encoding="no-such"'),
        ("<opml", "<!DOCTYPE x [<!ENTITY a 'aaaa'>]><opml"),
        ("</body>", ""),
        ("<outline", "<outline title='[/]'"),
    ]
)


@st.composite
def opml_file(draw: st.DrawFn) -> bytes:
    """The OPML sample with one edit, or damaged bytes."""
    text = OPML.read_bytes()
    if draw(st.booleans()):
        return draw(byte_defect(text))
    old, new = draw(_OPML_DEFECTS)
    return text.replace(old.encode(), new.encode(), 1)


#: Kind → (strategy, file suffix).
EXPORTS: dict[str, tuple[Callable[[], st.SearchStrategy[bytes]], str]] = {
    "x-archive": (x_archive, ".zip"),
    "mastodon-archive": (mastodon_archive, ".tar.gz"),
    "linkedin": (linkedin_export, ".zip"),
    "bluesky-car": (bluesky_car, ".car"),
    "opml": (opml_file, ".opml"),
}


def write(data: bytes, folder: Path, suffix: str) -> Path:
    """The export as a file, named so the message can be checked."""
    path = folder / f"fuzzed-export{suffix}"
    path.write_bytes(data)
    return path
