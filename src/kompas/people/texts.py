"""The people pillar's words, in English and French: reasons are kept as compact codes with
their numbers, and turned into a sentence only when shown (:func:`say`, :func:`reason`).

The texts are the ``people.*`` codes of kompas's message catalogue
(``kompas/messages/<lang>/people.json``, read by :mod:`kompas.i18n`); the codes here
leave out the ``people.`` prefix.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from kompas import i18n

LANGUAGES = i18n.LANGUAGES
DEFAULT = i18n.DEFAULT
_PREFIX = "people."


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every people text of ``lang``, keyed by code (without the ``people.`` prefix)."""
    return {
        code[len(_PREFIX) :]: text
        for code, text in i18n.catalogue(lang).items()
        if code.startswith(_PREFIX) and isinstance(text, str)
    }


def number(value: float | int, lang: str = DEFAULT, digits: int = 2) -> str:
    """A number as people read it: ``1,234`` and ``0.42`` in English, ``1 234`` and
    ``0,42`` in French; fractions keep ``digits`` significant digits."""
    whole = isinstance(value, int) or float(value).is_integer() or abs(value) >= 100
    return i18n.format_number(
        round(value) if whole else value, lang, "," if whole else f".{digits}g"
    )


def share(value: float, lang: str = DEFAULT) -> str:
    """A share as a percentage: ``42%`` / ``42 %``."""
    return f"{value:.0%}" if lang != "fr" else f"{round(value * 100):d}\u00a0%"


def say(code: str, lang: str = DEFAULT, **params: Any) -> str:
    """The text of ``code`` in ``lang`` (English when missing), filled with ``params``:
    numbers are written the language's way (a ``share`` as a percentage); a
    ``reference`` is translated; other strings are used as they are."""
    template = catalogue(lang).get(code) or catalogue(DEFAULT).get(code) or code
    shown = {k: _shown(k, v, lang) for k, v in params.items()}
    return template.format(**shown)


def _shown(key: str, value: Any, lang: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        if key == "reference" and isinstance(value, str):
            return say(f"reference.{value}", lang)
        return value
    return share(value, lang) if key == "share" else number(value, lang)


def duration(days: float, lang: str = DEFAULT) -> str:
    """An age in the unit people use: days under two months, months under two years."""
    if days < 1.5:
        return say("unit.day", lang)
    if days < 60:
        return say("unit.days", lang, n=round(days))
    if days < 730:
        return say("unit.months", lang, n=round(days / 30.44))
    return say("unit.years", lang, n=round(days / 365.25))


_SHARES = frozenset(("original_share", "repost_share", "reply_share", "handle_digits"))
_FLAGS = frozenset(("default_profile", "empty_bio"))


def reason(code: str, value: float | None = None, lang: str = DEFAULT) -> str:
    """A model reason (``posts_per_day:automated``, ``declared_bot`` ...) in words, with
    its input's value written for people."""
    special = catalogue(DEFAULT).get(f"reason.{code}")
    if special is not None:
        return say(f"reason.{code}", lang)
    name, _, effect = code.partition(":")
    if value is None or value != value:
        what = say(f"input.{name}", lang, value="?")
    elif name in _FLAGS:
        what = say(f"input.{name}.{'yes' if value else 'no'}", lang)
    elif name == "age_days":
        what = say("input.age_days", lang, value=duration(value, lang))
    elif name in _SHARES or name == "name_handle_similarity":
        what = say(f"input.{name}", lang, value=share(value, lang))
    else:
        what = say(f"input.{name}", lang, value=value)
    return say(f"looks.{effect}", lang, what=what)
