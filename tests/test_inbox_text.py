"""Inbox text is platform text made inert: every control, format and surrogate character
(escape sequences, bidi overrides, zero-width characters) is removed, newlines and tabs kept,
checked against the whole of Unicode."""

from __future__ import annotations

import sys
import unicodedata

from kompas.inbox.build import plain_text


def test_every_control_and_format_character_goes_and_nothing_else() -> None:
    dropped = [
        chr(c)
        for c in range(sys.maxunicode + 1)
        if chr(c) not in "\n\t" and unicodedata.category(chr(c)) in ("Cc", "Cf", "Cs")
    ]
    assert plain_text("a" + "".join(dropped) + "b") == "ab"
    kept = "".join(chr(c) for c in range(0x20, 0x3000) if chr(c) not in dropped)
    assert plain_text("x" + kept + "x") == "x" + kept + "x"


def test_a_hostile_post_reads_as_plain_text() -> None:
    hostile = "\x1b[2J\x1b]0;pwned\x07Hi\u202e gnp.exe\u200b\nline two\ttab"
    assert plain_text(hostile) == "[2J]0;pwnedHi gnp.exe\nline two\ttab"
