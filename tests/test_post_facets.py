"""Bluesky facets (``kompas.post.facets``) against Bluesky's own published detection tests
(``tests/data/bluesky-richtext/detection.json``, from ``@atproto/api``), against the
atproto SDK's ``TextBuilder`` (which writes byte offsets from the pieces it is given), and
the images a post can carry (``kompas.post.image``) against files whose type and size
``file`` read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from atproto import client_utils

from kompas.post.facets import facet_text, facets, handles
from kompas.post.image import (
    BLUESKY_IMAGE_LIMIT,
    NotAnImage,
    TooLarge,
    check_size,
    read_image,
)

DATA = Path(__file__).parent / "data"
VECTORS = json.loads((DATA / "bluesky-richtext" / "detection.json").read_text(encoding="utf-8"))


def fake_did(handle: str) -> str:
    """The resolver of Bluesky's test: every handle resolves."""
    return f"did:fake:{handle}"


def segments(text: str, found: list[dict[str, Any]]) -> list[list[str]]:
    """``text`` cut at the facets' byte ranges, as the test's ``segmentToOutput`` shows it:
    ``[text]`` outside a facet, ``[text, DID or URI]`` inside one."""
    raw = text.encode("utf-8")
    out: list[list[str]] = []
    position = 0
    for facet in found:
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        if start > position:
            out.append([raw[position:start].decode("utf-8")])
        feature = facet["features"][0]
        out.append([raw[start:end].decode("utf-8"), feature.get("did") or feature.get("uri", "")])
        position = end
    if position < len(raw):
        out.append([raw[position:].decode("utf-8")])
    return out


@pytest.mark.parametrize("case", VECTORS["segments"], ids=lambda c: c["input"][:40])
def test_links_and_mentions_as_bluesky_detects_them(case: dict[str, Any]) -> None:
    assert segments(case["input"], facets(case["input"], fake_did)) == case["output"]


@pytest.mark.parametrize(
    "case", VECTORS["tags"] + VECTORS["cashtags"], ids=lambda c: c["input"][:40]
)
def test_hashtags_and_cashtags_as_bluesky_detects_them(case: dict[str, Any]) -> None:
    found = [
        f
        for f in facets(case["input"], fake_did)
        if f["features"][0]["$type"] == "app.bsky.richtext.facet#tag"
    ]
    if case in VECTORS["cashtags"]:
        found = [f for f in found if f["features"][0]["tag"].startswith("$")]
    assert [f["features"][0]["tag"] for f in found] == case["tags"]
    assert [f["index"] for f in found] == case["indices"]


def test_byte_offsets_match_the_sdk_text_builder() -> None:
    """The SDK's TextBuilder places each facet at the bytes it wrote: the same text must
    give the same facets, through flags, skin tones and accents (multi-byte UTF-8)."""
    built = (
        client_utils.TextBuilder()
        .text("Salut 🇫🇷 👍🏽 ")
        .mention("@bob.test", "did:plc:bob")
        .text(", lisez ça : ")
        .link("example.org/été", "https://example.org/été")
        .text(" et ")
        .tag("#kompas", "kompas")
        .text(" 👨‍👩‍👧‍👧")
    )
    text = built.build_text()
    expected = [
        f.model_dump(by_alias=True, exclude_none=True, exclude={"py_type"})
        for f in built.build_facets()
    ]
    for facet in expected:
        facet["index"].pop("$type", None)
        facet.pop("$type", None)
    got = facets(text, {"bob.test": "did:plc:bob"}.get)
    assert got == expected
    assert [facet_text(text, f) for f in got] == ["@bob.test", "example.org/été", "#kompas"]


def test_a_mention_that_does_not_resolve_stays_plain_text() -> None:
    asked: list[str] = []

    def resolve(handle: str) -> str | None:
        asked.append(handle)
        return "did:plc:alice" if handle == "alice.bsky.social" else None

    text = "@Alice.bsky.social and @nobody.example.com and @alice.bsky.social again"
    found = facets(text, resolve)
    assert [facet_text(text, f) for f in found] == ["@Alice.bsky.social", "@alice.bsky.social"]
    assert {f["features"][0]["did"] for f in found} == {"did:plc:alice"}
    # Asked once per handle, in lower case (handles are case-insensitive).
    assert asked == ["alice.bsky.social", "nobody.example.com"]
    assert handles(text) == asked


def test_not_a_mention_without_a_real_tld() -> None:
    assert facets("mail me at @alice.notatld or @bob", fake_did) == []


# ----------------------------------------------------------------------------- images


@pytest.mark.parametrize(
    ("name", "mime_type", "size"),
    [
        ("python.png", "image/png", (16, 16)),
        ("python.jpg", "image/jpeg", (16, 16)),
        ("python.gif", "image/gif", (16, 16)),
        ("python.webp", "image/webp", (None, None)),  # no size read: aspect ratio left out
    ],
)
def test_an_image_is_known_by_its_bytes(
    name: str, mime_type: str, size: tuple[int | None, int | None], tmp_path: Path
) -> None:
    # Renamed: the type comes from the content, not the name.
    renamed = tmp_path / "upload.bin"
    renamed.write_bytes((DATA / "images" / name).read_bytes())
    image = read_image(renamed)
    assert image.mime_type == mime_type
    assert (image.width, image.height) == size
    assert image.size == renamed.stat().st_size


def test_files_that_are_no_image_are_named(tmp_path: Path) -> None:
    with pytest.raises(NotAnImage, match=r"python\.bmp: not a PNG, JPEG, GIF or WebP image"):
        read_image(DATA / "images" / "python.bmp")
    with pytest.raises(NotAnImage, match=r"missing\.png: cannot read the image"):
        read_image(tmp_path / "missing.png")


def test_an_image_over_the_limit_is_refused_naming_both_sizes(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    big.write_bytes((DATA / "images" / "python.png").read_bytes() + b"\0" * BLUESKY_IMAGE_LIMIT)
    image = read_image(big)
    check_size(read_image(DATA / "images" / "python.png"), BLUESKY_IMAGE_LIMIT, "Bluesky")
    with pytest.raises(TooLarge) as raised:
        check_size(image, BLUESKY_IMAGE_LIMIT, "Bluesky")
    message = str(raised.value)
    assert f"{image.size:,} bytes" in message and "Bluesky takes at most 1,000,000" in message
    assert "nothing was uploaded" in message
