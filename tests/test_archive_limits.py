"""What one import may cost, and what a damaged archive does: the budgets (bytes inflated in
all, members, compression ratio) refuse with the name of the limit to raise; a stream that
breaks mid-import changes nothing; JSON nesting is bounded before a parser allocates; the
fast batch reader and the streaming fallback read the same records."""

from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path

import pytest

from conftest import MASTODON_ARCHIVE, X_ARCHIVE, Kompas
from kompas.errors import SourceError
from kompas.sources import x_archive
from kompas.sources._json import MAX_DEPTH, DepthGuard


def _x_members() -> dict[str, bytes]:
    with zipfile.ZipFile(X_ARCHIVE) as z:
        return {name: z.read(name) for name in z.namelist() if not name.endswith("/")}


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _fails(kompas: Kompas, *args: str | Path) -> str:
    result = kompas(*args)
    assert result.exit_code == 1, result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_the_import_budget_names_its_variable(
    kompas: Kompas, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOMPAS_MAX_IMPORT_BYTES", str(1 << 20))
    message = _fails(kompas, "import", "x-archive", X_ARCHIVE)
    assert "inflates past 1,048,576 bytes in all" in message
    assert "KOMPAS_MAX_IMPORT_BYTES" in message
    monkeypatch.setenv("KOMPAS_MAX_IMPORT_BYTES", str(64 << 20))
    assert kompas("import", "x-archive", X_ARCHIVE).exit_code == 0


def test_the_member_count_names_its_variable(
    kompas: Kompas, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOMPAS_MAX_MEMBERS", "5")
    message = _fails(kompas, "import", "x-archive", X_ARCHIVE)  # 7 files
    assert "more than 5 members" in message and "KOMPAS_MAX_MEMBERS" in message
    monkeypatch.setenv("KOMPAS_MAX_MEMBERS", "3")
    message = _fails(kompas, "import", "mastodon-archive", MASTODON_ARCHIVE)  # 4 files
    assert "more than 3 members" in message


def test_a_bad_limit_value_is_a_clear_error(
    kompas: Kompas, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOMPAS_MAX_RATIO", "lots")
    assert "KOMPAS_MAX_RATIO='lots' is not a whole number" in _fails(
        kompas, "import", "x-archive", X_ARCHIVE
    )


def test_a_highly_compressed_member_is_refused_before_it_is_read(
    kompas: Kompas, tmp_path: Path
) -> None:
    members = _x_members()
    head = members["data/like.js"].split(b"=", 1)[0]
    members["data/like.js"] = head + b"= [" + b" " * (20 << 20) + b"]"  # 20 MiB, ~1000:1
    message = _fails(kompas, "import", "x-archive", _zip(tmp_path / "a.zip", members))
    assert "data/like.js: member inflates" in message and "KOMPAS_MAX_RATIO" in message


def _corrupt_member(archive: Path, member: str, target: Path) -> Path:
    """A copy of ``archive`` with bytes in the middle of ``member``'s deflate stream
    flipped: the central directory stays intact, so only reading the member finds it."""
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as z:
        info = z.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size * 3 // 4
    for offset in range(middle, middle + 64):
        data[offset] ^= 0x5A
    target.write_bytes(bytes(data))
    return target


def test_a_stream_that_breaks_mid_import_changes_nothing(kompas: Kompas, tmp_path: Path) -> None:
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    before = kompas("status", "--json").stdout
    broken = _corrupt_member(X_ARCHIVE, "data/like.js", tmp_path / "broken.zip")
    message = _fails(kompas, "import", "x-archive", broken)
    assert "damaged archive: data/like.js is corrupt" in message
    assert kompas("status", "--json").stdout == before


# --------------------------------------------------------------------------- JSON nesting


def _depth(data: bytes) -> int:
    """An independent reader: the deepest bracket outside strings, byte by byte."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    return deepest


def _nested(rnd: random.Random, depth: int) -> bytes:
    text = ""
    for _ in range(depth):
        key = json.dumps(rnd.choice(["[", "]{", '\\"[', "\\\\", "a", "}}"]))
        text += rnd.choice(["[", "{" + key + ":"]) if False else ("[" + key + ",")
    text += "1" + "]" * depth
    return text.encode()


@pytest.mark.parametrize("block", [1, 2, 3, 7, 4096])
def test_the_depth_guard_counts_as_an_independent_reader(block: int) -> None:
    rnd = random.Random(block)
    for _ in range(60):
        data = _nested(rnd, rnd.randint(1, MAX_DEPTH + 20))
        guard = DepthGuard(io.BytesIO(data), "f.json", "m")
        try:
            while guard.read(block):
                pass
            refused = False
        except SourceError:
            refused = True
        assert refused == (_depth(data) > MAX_DEPTH), data[:80]


def test_deep_nesting_is_refused_in_a_streamed_file(kompas: Kompas, tmp_path: Path) -> None:
    """A minified like.js (the streaming fallback) holding 100,000 nested arrays."""
    members = _x_members()
    head = members["data/like.js"].split(b"=", 1)[0]
    members["data/like.js"] = head + b"= [" + b"[" * 100_000 + b"]" * 100_000 + b"]"
    message = _fails(kompas, "import", "x-archive", _zip(tmp_path / "a.zip", members))
    assert "data/like.js" in message
    assert "nested more than 64 levels" in message or "Expected object, got array" in message


# ------------------------------------------------------------------ batch reader = fallback


def test_the_batch_reader_and_the_streaming_fallback_agree(tmp_path: Path) -> None:
    """The sample as the platform lays it out (read in batches) and minified (read by the
    streaming fallback) give the same records."""
    members = _x_members()
    minified = dict(members)
    for name in ("data/tweets.js", "data/like.js", "data/follower.js"):
        head, body = members[name].split(b"=", 1)
        minified[name] = head + b"= " + json.dumps(json.loads(body)).encode()
    pretty = list(x_archive.parse(str(_zip(tmp_path / "pretty.zip", members))))
    flat = list(x_archive.parse(str(_zip(tmp_path / "flat.zip", minified))))
    assert len(pretty) > 10_000
    assert pretty == flat


def test_a_cut_inside_an_element_falls_back_to_the_streaming_reader(tmp_path: Path) -> None:
    """An element that itself holds the archive's element separator (nested objects laid
    out at the top level's indentation) is still read whole and right."""
    tweet = {"tweet": {"id_str": "1", "full_text": "hi", "created_at": "2024-01-01T00:00:00Z"}}
    tweet["tweet"]["extra"] = [{"a": 1}, {"b": 2}]
    weird = json.dumps([tweet, tweet | {"tweet": tweet["tweet"] | {"id_str": "2"}}], indent=2)
    weird = weird.replace('{\n          "a": 1\n        },\n        {', '{"a": 1\n  },\n  {')
    assert "\n  },\n  {\n" in weird
    members = _x_members()
    members["data/tweets.js"] = b"window.YTD.tweets.part0 = " + weird.encode()
    records = list(x_archive.parse(str(_zip(tmp_path / "weird.zip", members))))
    posts = [r for r in records if type(r).__name__ == "Post"]
    assert [p.id for p in posts] == ["1", "2"]
