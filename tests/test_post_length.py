"""Draft lengths as the networks count them: Mastodon's own validator cases
(spec/validators/status_length_validator_spec.rb: URLs as 23 characters, remote mentions
as their username, grapheme clusters) and Bluesky's lexicon (300 graphemes, 3,000 UTF-8
bytes), with the expected counts worked out by hand from the code points."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from kompas.post.check import TooLong, check_draft, network_fit, require_fit
from kompas.post.length import (
    Limits,
    bluesky_length,
    entities,
    mastodon_length,
    mention_count,
    workspace_limits,
)

# --- Mastodon: the cases of its own StatusLengthValidator spec, at the 500 limit ---------


def test_a_url_counts_23_characters_when_mastodon_links_it() -> None:
    url = f"http://{'b' * 30}.com/example"  # 49 characters
    assert mastodon_length("a" * 476 + " " + url) == 476 + 1 + 23  # == 500: valid
    # Glued to a letter, Mastodon does not link it: it counts whole (the spec's error).
    assert mastodon_length("a" * 476 + url) == 476 + 49


def test_an_overly_long_url_counts_whole() -> None:
    text = "http://example.com/valid?" + "#foo?" * 1000  # over twitter-text's 4,096
    assert mastodon_length(text) == len(text)


def test_a_remote_mention_counts_only_its_username() -> None:
    assert mastodon_length("a" * 475 + f" @alice@{'b' * 30}.com") == 475 + 1 + len("@alice")
    # A mention whose domain is longer than 253 characters is not one: it counts whole.
    text = f"@alice@{'b' * 500}.com"
    assert mastodon_length(text) == len(text)


def test_mastodon_counts_emoji_and_zwj_sequences_once() -> None:
    assert mastodon_length("✨" * 500) == 500
    assert mastodon_length("🏳️‍⚧️" * 500) == 500  # 5 code points each
    assert mastodon_length("a" * 501) == 501


def test_what_mastodon_links_and_what_it_does_not() -> None:
    text = (
        "see https://example.com/a_(b)?x=1. and (https://fr.wikipedia.org/wiki/Été) "
        "https://localhost/x mail me@example.com, @bob@mastodon.social @carol.bsky.social!"
    )
    found = [(e.kind, e.text) for e in entities(text)]
    assert found == [
        ("url", "https://example.com/a_(b)?x=1"),  # the final dot is not part of it
        ("url", "https://fr.wikipedia.org/wiki/Été"),  # the closing parenthesis is not
        ("mention", "@bob@mastodon.social"),
        ("mention", "@carol.bsky.social"),
    ]  # no known top-level domain: localhost; an e-mail address is no mention
    assert mention_count(text) == 2


def test_the_instance_limit_comes_from_its_saved_configuration(tmp_path: Path) -> None:
    assert workspace_limits(tmp_path).mastodon_characters == 500
    saved = {
        "mastodon": {
            "instance": "https://example.social",
            "configuration": {
                "statuses": {"max_characters": 1000, "characters_reserved_per_url": 23}
            },
        }
    }
    (tmp_path / "credentials.json").write_text(json.dumps(saved), encoding="utf-8")
    limits = workspace_limits(tmp_path)
    assert limits.mastodon_characters == 1000
    fit = network_fit("a" * 900, "mastodon", limits)
    assert (fit.length, fit.limit, fit.fits) == (900, 1000, True)
    (tmp_path / "credentials.json").write_text('{"mastodon": {"max_characters": "lots"}}')
    assert workspace_limits(tmp_path).mastodon_characters == 500  # not a number: default


# --- Bluesky: grapheme clusters and bytes ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "graphemes", "size"),
    [
        ("👍🏽", 1, 8),  # U+1F44D + skin tone U+1F3FD: 4 + 4 bytes
        ("🇫🇷", 1, 8),  # two regional indicators, 4 bytes each
        ("👨‍👩‍👧‍👦", 1, 25),  # 4 emoji (4 bytes) joined by 3 ZWJ (3 bytes)
        ("日本語", 3, 9),  # 3 bytes each
        ("e\u0301", 1, 3),  # e + combining acute accent (2 bytes)
        ("ก\u0e33", 1, 6),  # Thai: a consonant and its sara am
        ("a👍🏽b🇫🇷c", 5, 19),
    ],
)
def test_bluesky_counts_grapheme_clusters_once(text: str, graphemes: int, size: int) -> None:
    assert bluesky_length(text) == (graphemes, size)
    assert mastodon_length(text) == graphemes


def test_a_french_text_with_accents_counts_the_same_composed_or_not() -> None:
    composed = "Ça y est : l’été arrive à Montréal, et déjà les crêpes au sirop d’érable !"
    decomposed = unicodedata.normalize("NFD", composed)
    assert len(decomposed) == len(composed) + 9  # Ç é é à é à ê é é: a combining mark each
    # Composed, every character is one code point and one grapheme.
    assert bluesky_length(composed) == (len(composed), len(composed.encode("utf-8")))
    assert bluesky_length(decomposed)[0] == len(composed)
    assert bluesky_length(decomposed)[1] == len(composed.encode("utf-8")) + 9
    assert mastodon_length(decomposed) == mastodon_length(composed) == len(composed)


def test_bluesky_limits_graphemes_and_bytes() -> None:
    assert network_fit("a" * 300, "bluesky", Limits()).fits
    over = network_fit("a" * 301, "bluesky", Limits())
    assert (over.length, over.limit, over.fits) == (301, 300, False)
    family = "👨‍👩‍👧‍👦" * 130  # 130 graphemes but 3,250 bytes
    by_bytes = network_fit(family, "bluesky", Limits())
    assert (by_bytes.length, by_bytes.bytes, by_bytes.fits) == (130, 3250, False)
    assert all(bluesky_length(p)[1] <= 3000 for p in by_bytes.parts)
    with pytest.raises(TooLong, match=r"too long for bluesky: 3,250 bytes \(limit 3,000\)"):
        require_fit(check_draft(family, ["bluesky"]))


def test_a_link_counts_in_full_on_bluesky_and_as_23_on_mastodon() -> None:
    text = "Read https://example.com/" + "x" * 300
    assert network_fit(text, "bluesky", Limits()).length == len(text)
    assert network_fit(text, "mastodon", Limits()).length == len("Read ") + 23
