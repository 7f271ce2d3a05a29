"""Splitting a draft too long for a network into a thread whose parts each fit.

Cuts go between paragraphs first, then lines, then sentences, then words, and only as a
last resort between grapheme clusters; never inside a URL or a mention (each is kept
whole in one part) nor inside a grapheme cluster (an emoji with its skin tone, a flag, a
letter with its accent). Each part ends with its number, `` 1/3``.
"""

from __future__ import annotations

from collections.abc import Callable

import regex

from kompas.post.length import entities, graphemes

Fits = Callable[[str], bool]

#: Where a cut may go, coarsest first: after a blank line, a line, a sentence, a word.
_BOUNDARIES = (
    regex.compile(r"\n[ \t]*\n\s*"),
    regex.compile(r"\n\s*"),
    regex.compile(r"(?<=[.!?…])[\"'”’»)\]]*\s+|(?<=[。！？])\s*"),
    regex.compile(r"\s+"),
)


def numbered(part: str, number: int, total: int) -> str:
    """A part with its place in the thread."""
    return f"{part} {number}/{total}"


def _pieces(text: str, level: int) -> list[str]:
    """``text`` cut after each boundary of ``level`` (the separator stays with the piece
    before it); boundaries inside a URL or a mention are skipped."""
    protected = [(e.start, e.end) for e in entities(text)]
    pieces, last = [], 0
    for match in _BOUNDARIES[level].finditer(text):
        cut = match.end()
        if cut >= len(text) or any(start < match.start() < end for start, end in protected):
            continue
        pieces.append(text[last:cut])
        last = cut
    pieces.append(text[last:])
    return [p for p in pieces if p]


def _atoms(text: str) -> list[str]:
    """The smallest pieces: grapheme clusters, with each URL and mention as one piece."""
    atoms, last = [], 0
    for entity in entities(text):
        atoms += graphemes(text[last : entity.start])
        atoms.append(text[entity.start : entity.end])
        last = entity.end
    return atoms + graphemes(text[last:])


def _pack(text: str, fits: Fits, level: int) -> list[str]:
    """``text`` as consecutive chunks that each fit (a chunk that cannot, such as a URL
    longer than the limit, stays whole and alone)."""
    if fits(text.strip()):
        return [text]
    pieces = _pieces(text, level) if level < len(_BOUNDARIES) else _atoms(text)
    if len(pieces) == 1 and level < len(_BOUNDARIES):
        return _pack(text, fits, level + 1)
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if fits((current + piece).strip()):
            current += piece
            continue
        if current:
            chunks.append(current)
            current = ""
        if fits(piece.strip()) or level >= len(_BOUNDARIES):
            current = piece
        else:
            smaller = _pack(piece, fits, level + 1)
            chunks += smaller[:-1]
            current = smaller[-1]
    if current:
        chunks.append(current)
    return chunks


def _with(fits: Fits, room: str) -> Fits:
    """``fits`` for a part that will carry ``room`` more characters (its number)."""
    return lambda part: fits(part + room)


def split(text: str, fits: Fits) -> list[str]:
    """``text`` as one part when it fits, else as a numbered thread whose parts each fit
    when that is possible (a part that cannot, such as one URL longer than the limit, is
    kept whole: check each part with ``fits``)."""
    text = text.strip()
    if fits(text):
        return [text]
    total = 2
    while True:
        width = len(str(total))
        # Room for the widest number this thread can carry (" 10/12" for 10 to 99 parts).
        room = " " + "9" * width + "/" + "9" * width
        parts = [p.strip() for p in _pack(text, _with(fits, room), 0) if p.strip()]
        if len(parts) == 1:
            return parts  # one piece that cannot be cut (a URL longer than the limit)
        if len(str(len(parts))) <= width or total > len(text):
            return [numbered(p, n, len(parts)) for n, p in enumerate(parts, 1)]
        total = len(parts)
