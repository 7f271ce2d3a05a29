"""Which language a post is in, offline: the platform's own tag when it has one, else
py3langid (a small naive-Bayes model shipped inside its package, no network), restricted to
the languages kompas's samples hold so short posts are not read as Catalan or Latvian."""

from __future__ import annotations

from functools import cache
from typing import Any

#: The languages detection chooses among (others keep the platform's tag when it has one).
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt")
#: Below this many letters a guess is not worth making.
MIN_LETTERS = 12


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect(text: str, declared: str | None = None) -> tuple[str | None, str]:
    """``(language, how)``: the declared tag (``how`` = "platform") when there is one,
    else the detector's guess ("detected"), or ``None`` ("too short") for tiny texts."""
    if declared and declared not in ("und", "qam", "qme", "zxx"):
        return declared.split("-")[0].lower(), "platform"
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None, "too short"
    language, _probability = _identifier().classify(text)
    return str(language), "detected"
