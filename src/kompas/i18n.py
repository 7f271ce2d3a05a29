"""What kompas says to people, in English and French, from one message catalogue.

Pillars never build sentences for people: they return a :class:`Message` (a code and its
parameters) and each interface renders it in its reader's language with :func:`render` —
the CLI in English, the dashboard in the language of the page. So a reason, a gap or a
suggestion is written once per language, here, and never half-translated.

The catalogue lives in ``messages/<lang>/<namespace>.json``: one file per pillar
(``community.json``, ``people.json``, ``strategy.json`` …) whose codes all start with
``<namespace>.``. A text may be a plural pair ``{"one": …, "other": …}`` chosen by its
``count`` parameter (French counts 0 as singular, as French does).
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "fr")
DEFAULT = "en"
_MESSAGES = Path(__file__).with_name("messages")
#: How each language writes a number: thousands, decimal point, the space before ``%``.
_NUMBER_MARKS = {
    "en": str.maketrans({}),
    "fr": str.maketrans({",": "\u202f", ".": ",", "%": "\u202f%"}),
}

Text = str | dict[str, str]


#: How a ``to_json`` writes what kompas says: ``str`` (English) for ``--json``, or keeping
#: the :class:`Message` for an interface that renders it in its reader's language.
Render = Callable[["Message"], object]


@dataclass(frozen=True, slots=True)
class Message:
    """Something kompas says: a catalogue ``code`` and the values it is filled with.

    Parameters may be numbers (written the reader's way), dates, other messages (rendered
    in the same language: a translated term inside a sentence) or sequences of these.
    """

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A typo in a code fails where the message is made, not on someone's screen.
        if self.code not in catalogue(DEFAULT):
            raise KeyError(f"no message {self.code!r} in the {DEFAULT} catalogue")

    def render(self, lang: str = DEFAULT) -> str:
        """The message in ``lang`` (English where ``lang`` lacks it)."""
        return render(self.code, lang, **self.params)

    def __str__(self) -> str:
        return self.render(DEFAULT)


def message(code: str, /, **params: Any) -> Message:
    """``Message(code, params)``, written the way a sentence reads."""
    return Message(code, params)


@cache
def catalogue(lang: str) -> dict[str, Text]:
    """Every message of ``lang``, keyed by code."""
    found: dict[str, Text] = {}
    folder = _MESSAGES / lang
    for path in sorted(folder.glob("*.json")):
        data: dict[str, Text] = json.loads(path.read_text("utf-8"))
        for code, text in data.items():
            if not code.startswith(path.stem + "."):
                raise ValueError(f"{path}: code {code!r} must start with {path.stem + '.'!r}")
            found[code] = text
    return found


def render(code: str, lang: str = DEFAULT, /, **params: Any) -> str:
    """The message ``code`` in ``lang`` (English where ``lang`` lacks it), filled with
    ``params`` the way ``lang`` writes them."""
    texts = catalogue(lang if lang in LANGUAGES else DEFAULT)
    text = texts.get(code) or catalogue(DEFAULT)[code]
    if isinstance(text, dict):
        text = text[_plural(lang, params.get("count"))]
    return _Formatter(lang).vformat(text, (), params)


def render_marked(
    value: Message, lang: str, literal: Callable[[str], str], mark: Callable[[str], str]
) -> str:
    """``value`` in ``lang`` for a markup language: the catalogue's words passed through
    ``literal`` (e.g. HTML-escaped), each text parameter — words that are the user's or a
    platform's, not kompas's: names, keywords, quotes — through ``mark`` (e.g. escaped
    and marked ``translate="no"``); nested messages the same way."""
    texts = catalogue(lang if lang in LANGUAGES else DEFAULT)
    text = texts.get(value.code) or catalogue(DEFAULT)[value.code]
    if isinstance(text, dict):
        text = text[_plural(lang, value.params.get("count"))]
    formatter = _Formatter(lang, literal, mark)
    return formatter.vformat(literal(text), (), value.params)


def say(value: Message | str | None, lang: str = DEFAULT) -> str:
    """``value`` for a reader of ``lang``: a message rendered, a plain string as it is
    (text that is not kompas's own, such as a name from the user's strategy file)."""
    if value is None:
        return ""
    if isinstance(value, Message):
        return value.render(lang)
    return value


def said(error: BaseException) -> Message | str:
    """What ``error`` says: the message it was raised with (``KompasError(message(...))``,
    whose ``str()`` is its English), to render in any language; else its text."""
    first = error.args[0] if len(error.args) == 1 else None
    return first if isinstance(first, Message) else str(error)


def format_number(value: int | float, lang: str = DEFAULT, spec: str = "") -> str:
    """A number as ``lang`` writes it: ``12,345`` and ``0.5`` in English, ``12 345`` and
    ``0,5`` in French. ``spec`` is a Python format spec (default: thousands grouped,
    one decimal for fractions)."""
    if not spec:
        spec = ",.1f" if isinstance(value, float) and not value.is_integer() else ","
        value = value if "." in spec else int(value)
    return format(value, spec).translate(_NUMBER_MARKS.get(lang, _NUMBER_MARKS[DEFAULT]))


def _plural(lang: str, count: object) -> str:
    if not isinstance(count, int | float):
        return "other"
    one = abs(count) < 2 if lang == "fr" else count == 1
    return "one" if one else "other"


class _Formatter(string.Formatter):
    """``str.format`` that writes numbers, dates and nested messages for one language."""

    def __init__(
        self,
        lang: str,
        literal: Callable[[str], str] | None = None,
        mark: Callable[[str], str] | None = None,
    ) -> None:
        self.lang = lang
        self.literal = literal
        self.mark = mark

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Message):
            if self.literal is not None and self.mark is not None:
                return render_marked(value, self.lang, self.literal, self.mark)
            return format(value.render(self.lang), format_spec)
        if isinstance(value, str) and self.mark is not None:
            return self.mark(format(value, format_spec))
        if isinstance(value, Sequence) and not isinstance(value, str):
            return ", ".join(self.format_field(item, format_spec) for item in value)
        if isinstance(value, bool) or value is None:
            text = format(str(value) if value is not None else "—", format_spec)
        elif isinstance(value, int | float):
            text = format_number(value, self.lang, format_spec)
        elif isinstance(value, datetime | date):
            text = value.strftime(format_spec or "%Y-%m-%d")
        else:
            text = format(value, format_spec)
        return self.literal(text) if self.literal is not None else text
