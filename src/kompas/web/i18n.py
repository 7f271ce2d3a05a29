"""Interface text in English and French, from one message catalogue per language
(``messages/<lang>.json``), and the choice of language for a request."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from kompas.i18n import DEFAULT, LANGUAGES, Message, format_number, render_marked

__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "catalogue",
    "choose",
    "format_number",
    "marked",
    "translate",
]
_MESSAGES = Path(__file__).with_name("messages")


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every message of ``lang``, keyed by message id."""
    data: dict[str, str] = json.loads((_MESSAGES / f"{lang}.json").read_text("utf-8"))
    return data


def translate(lang: str, key: str, **values: Any) -> str:
    """The message ``key`` in ``lang`` (English if ``lang`` lacks it), filled with ``values``.

    A key missing from every catalogue comes back as itself, so a gap shows on the page
    instead of breaking it (a test keeps the catalogues complete).
    """
    text = catalogue(lang).get(key) or catalogue(DEFAULT).get(key) or key
    return text.format(**values) if values else text


def choose(query_lang: str | None, accept_language: str | None) -> str:
    """``?lang=`` when it names a known language, else the browser's best match, else English."""
    if query_lang in LANGUAGES:
        return query_lang
    best, best_q = DEFAULT, 0.0
    for order, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        # Earlier entries win ties, as browsers list them by preference.
        if primary in LANGUAGES and q > best_q and q > 0:
            best, best_q = primary, q - order * 1e-6
    return best


def marked(lang: str, value: Message | str | None) -> Markup:
    """A pillar's message as HTML in ``lang``: kompas's words escaped, the user's and
    platforms' words in it (names, keywords, quotes) escaped and marked
    ``translate="no"``; a plain string is the user's own, escaped."""
    if value is None:
        return Markup("")
    if isinstance(value, str):
        return escape(value)
    return Markup(
        render_marked(
            value,
            lang,
            lambda text: str(escape(text)),
            lambda text: f'<span translate="no">{escape(text)}</span>',
        )
    )
