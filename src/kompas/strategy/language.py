"""Which language a post is in, offline: the platform's own tag when it has one, else
the writing system for scripts that name their language well enough (Chinese, Japanese,
Korean), else py3langid (a small naive-Bayes model shipped inside its package, no
network). Latin-script text is read among the languages kompas's samples hold, so short
posts are not taken for Catalan or Latvian; other scripts among all of py3langid's."""

from __future__ import annotations

from functools import cache
from typing import Any

import regex

#: The languages detection chooses among for Latin-script text.
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt")
#: Below this many letters a guess is not worth making.
MIN_LETTERS = 12
#: Detection reads at most this many characters.
DETECT_CHARS = 160
_LATIN = regex.compile(r"\p{Latin}")
_LETTER = regex.compile(r"\p{L}")
_HAN = regex.compile(r"\p{Han}")
_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}]")
_HANGUL = regex.compile(r"\p{Hangul}")


@cache
def _identifier(restricted: bool) -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if restricted:
        identifier.set_languages(list(LANGUAGES))
    return identifier


def by_script(text: str) -> str | None:
    """``ja``, ``ko`` or ``zh`` when most letters of ``text`` are in those scripts."""
    letters = len(_LETTER.findall(text))
    han, kana, hangul = (len(p.findall(text)) for p in (_HAN, _KANA, _HANGUL))
    if not letters or (han + kana + hangul) * 2 < letters:
        return None
    if kana:
        return "ja"
    return "ko" if hangul > han else "zh"


def detect(text: str, declared: str | None = None) -> tuple[str | None, str]:
    """``(language, how)``: the declared tag (``how`` = "platform") when there is one,
    else the script's language or the detector's guess ("detected"), or ``None`` ("too
    short") for tiny texts."""
    if declared and declared not in ("und", "qam", "qme", "zxx"):
        return declared.split("-")[0].lower(), "platform"
    script = by_script(text)
    if script is not None:
        return script, "detected"
    letters = len(_LETTER.findall(text))
    if letters < MIN_LETTERS:
        return None, "too short"
    latin = len(_LATIN.findall(text))
    # The opening of a post names its language as well as all of it, for less work.
    language, _probability = _identifier(latin * 2 >= letters).classify(text[:DETECT_CHARS])
    return str(language), "detected"
