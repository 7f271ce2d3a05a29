"""The message catalogue every pillar speaks through: complete in both languages, numbers
and plurals written each language's way, and a wrong code caught where it is made."""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kompas import i18n
from kompas.i18n import Message, message, render, say

MESSAGES = Path(i18n.__file__).with_name("messages")


def _fields(text: i18n.Text) -> set[str]:
    texts = text.values() if isinstance(text, dict) else [text]
    return {name for t in texts for _, name, _, _ in string.Formatter().parse(t) if name}


def test_every_code_exists_in_both_languages_with_the_same_fields() -> None:
    english, french = i18n.catalogue("en"), i18n.catalogue("fr")
    assert english, "the catalogue is empty"
    assert set(english) == set(french)
    for code, text in english.items():
        assert _fields(text) == _fields(french[code]), code
        # A plural pair has both forms in both languages.
        assert isinstance(text, dict) == isinstance(french[code], dict), code
        if isinstance(text, dict):
            assert set(text) == {"one", "other"} == set(french[code]), code


def test_each_file_holds_only_its_own_namespace() -> None:
    for lang in i18n.LANGUAGES:
        names = sorted(p.name for p in (MESSAGES / lang).glob("*.json"))
        assert names == sorted(p.name for p in (MESSAGES / "en").glob("*.json"))
        for path in (MESSAGES / lang).glob("*.json"):
            for code in json.loads(path.read_text("utf-8")):
                assert code.startswith(path.stem + "."), (path, code)


def test_numbers_are_written_the_readers_way() -> None:
    assert i18n.format_number(12345, "en") == "12,345"
    assert i18n.format_number(12345, "fr") == "12\u202f345"
    assert i18n.format_number(0.25, "en", ".0%") == "25%"
    assert i18n.format_number(0.25, "fr", ".0%") == "25\u202f%"
    assert i18n.format_number(2.5, "fr") == "2,5"
    assert i18n.format_number(1234.5, "en") == "1,234.5"


def test_plurals_follow_each_language() -> None:
    assert render("common.posts", "en", count=1) == "1 post"
    assert render("common.posts", "en", count=0) == "0 posts"
    assert render("common.posts", "en", count=1200) == "1,200 posts"
    # French counts 0 and 1 as singular.
    assert render("common.posts", "fr", count=0) == "0 publication"
    assert render("common.posts", "fr", count=1) == "1 publication"
    assert render("common.posts", "fr", count=2) == "2 publications"


def test_a_message_renders_nested_messages_and_dates_in_one_language() -> None:
    kind = message("common.kind.sharing")
    assert kind.render("fr") == "partage"
    assert str(kind) == "sharing"
    formatter = i18n._Formatter("fr")
    assert formatter.format("{k} {d}", k=kind, d=datetime(2023, 5, 13, tzinfo=UTC)) == (
        "partage 2023-05-13"
    )
    assert formatter.format("{x}", x=[kind, message("common.kind.broadcast")]) == (
        "partage, diffusion"
    )
    assert say(kind, "fr") == "partage"
    assert say("Ada's pillar", "fr") == "Ada's pillar"
    assert say(None, "fr") == ""


def test_an_unknown_code_fails_where_the_message_is_made() -> None:
    with pytest.raises(KeyError, match=r"common\.nope"):
        Message("common.nope")


def test_an_unknown_language_falls_back_to_english() -> None:
    assert render("common.kind.sharing", "de") == "sharing"


def test_an_error_raised_with_a_message_reads_in_english_and_renders_in_french() -> None:
    from kompas.errors import KompasError

    error = KompasError(message("errors.two_accounts_to_link"))
    assert str(error) == "name two different accounts to link"
    assert say(i18n.said(error), "fr") == "nommez deux comptes différents à relier"
    plain = KompasError("a plain English error")
    assert i18n.said(plain) == "a plain English error"
