"""A too-long draft becomes a thread whose parts each fit, cut between paragraphs, then
sentences, then words, and never inside a URL, a mention or a grapheme cluster."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kompas.post.length import Limits, bluesky_length, entities, graphemes, mastodon_length
from kompas.post.split import split

LIMITS = Limits()


def fits_mastodon(text: str) -> bool:
    return mastodon_length(text) <= LIMITS.mastodon_characters


def fits_bluesky(text: str) -> bool:
    count, size = bluesky_length(text)
    return count <= LIMITS.bluesky_graphemes and size <= LIMITS.bluesky_bytes


_NUMBER = re.compile(r" (\d+)/(\d+)$")


def unnumbered(parts: list[str]) -> list[str]:
    """The parts without their `` n/N`` (checking the numbering on the way)."""
    found = []
    for number, part in enumerate(parts, 1):
        match = _NUMBER.search(part)
        assert match, part
        assert (int(match.group(1)), int(match.group(2))) == (number, len(parts))
        found.append(part[: match.start()])
    return found


def non_space_graphemes(text: str) -> list[str]:
    return [g for g in graphemes(text) if not g.isspace()]


def assert_whole(text: str, parts: list[str]) -> None:
    """The parts hold the text's graphemes in order (none cut), and every URL and mention
    of the text whole inside one part."""
    pieces = unnumbered(parts)
    assert non_space_graphemes("".join(pieces)) == non_space_graphemes(text)
    for entity in entities(text):
        assert any(entity.text in piece for piece in pieces), entity


def test_a_draft_that_fits_is_one_unnumbered_part() -> None:
    assert split("Short and sweet 👍🏽", fits_bluesky) == ["Short and sweet 👍🏽"]


def test_paragraphs_are_kept_together_before_sentences_are_cut() -> None:
    first = "First paragraph. " + "It has words. " * 17  # 255 graphemes
    second = "Second paragraph with a link https://example.com/page and @alice@example.social."
    third = "Third one. " * 10
    text = f"{first.strip()}\n\n{second}\n\n{third.strip()}"
    parts = split(text, fits_bluesky)
    assert all(fits_bluesky(p) for p in parts)
    assert_whole(text, parts)
    pieces = [p.strip() for p in unnumbered(parts)]
    assert pieces[0] == first.strip()  # the whole first paragraph, cut at its end
    assert pieces[1].startswith(second)  # the next paragraph starts the next part


def test_a_long_sentence_is_cut_between_words() -> None:
    text = " ".join(f"word{n}" for n in range(200))
    parts = split(text, fits_bluesky)
    # 1,489 graphemes, at most 296 a part (room for " n/6"): 6 parts
    assert len(parts) == 6 and all(fits_bluesky(p) for p in parts)
    for piece in unnumbered(parts):
        assert all(re.fullmatch(r"word\d+", w) for w in piece.split())


def test_cjk_without_spaces_is_cut_after_full_stops() -> None:
    text = "日本語の文章です。" * 80  # 720 graphemes, no spaces
    parts = split(text, fits_bluesky)
    assert all(fits_bluesky(p) for p in parts)
    assert all(p.rsplit(" ", 1)[0].endswith("。") for p in parts)
    assert_whole(text, parts)


def test_emoji_are_never_cut() -> None:
    text = "🇫🇷👍🏽" * 225  # 450 graphemes (3,600 bytes), no boundary at all
    parts = split(text, fits_bluesky)
    assert len(parts) == 2 and all(fits_bluesky(p) for p in parts)
    assert_whole(text, parts)
    family = "👨‍👩‍👧‍👦" * 600  # 600 graphemes of 7 code points each
    parts = split(family, fits_mastodon)
    assert len(parts) == 2 and all(fits_mastodon(p) for p in parts)
    assert_whole(family, parts)


def test_mastodon_counts_the_urls_of_each_part_as_23() -> None:
    url = "https://example.com/" + "a" * 200
    text = " ".join(f"Look {n}: {url}" for n in range(30))  # 30 × 32 on Mastodon
    parts = split(text, fits_mastodon)
    assert len(parts) == 2 and all(fits_mastodon(p) for p in parts)
    assert_whole(text, parts)


def test_a_url_longer_than_the_limit_stays_whole_and_alone() -> None:
    url = "https://example.com/" + "a" * 400
    parts = split(f"Here: {url}", fits_bluesky)
    assert url in " ".join(parts)
    assert not all(fits_bluesky(p) for p in parts)  # cannot fit: reported, never cut


_WORD = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=12)
_GRAPHEME = st.sampled_from(["👍🏽", "🇫🇷", "👨‍👩‍👧‍👦", "e\u0301", "日", "é", "!", "."])
_URL = st.builds(
    lambda path: f"https://example.com/{path}", st.from_regex(r"[a-z0-9]{1,60}", fullmatch=True)
)
_MENTION = st.builds(
    lambda name: f"@{name}@example.social", st.from_regex(r"[a-z]{1,15}", fullmatch=True)
)
_TOKEN = st.one_of(_WORD, _GRAPHEME, _URL, _MENTION, st.just("\n\n"), st.just(". "))


@settings(max_examples=60, deadline=None)
@given(st.lists(_TOKEN, min_size=1, max_size=250))
def test_every_part_fits_and_nothing_is_cut(tokens: list[str]) -> None:
    text = " ".join(tokens).strip()
    if not text:
        return
    for fits in (fits_mastodon, fits_bluesky):
        parts = split(text, fits)
        assert all(fits(p) for p in parts)
        if len(parts) == 1:
            assert parts == [text]
        else:
            assert_whole(text, parts)
