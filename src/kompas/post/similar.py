"""Whether a draft repeats one of the user's recent posts, word for word or nearly.

Texts are compared after folding case and spacing, by the overlap (Jaccard) of their
character trigrams, which works the same in every language, spaced or not. A draft that
shares 80% of its trigrams with a post says the same thing with a word or two changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import regex

from kompas.store.strategy import OwnPost

#: From this overlap on, two texts are near-duplicates.
NEAR = 0.8
#: Below this many characters only the exact same text counts: short posts ("Thanks!")
#: are alike by nature.
SHORTEST = 20

_SPACE = regex.compile(r"\s+")


def normalised(text: str) -> str:
    """``text`` with case folded and runs of spaces made one."""
    return _SPACE.sub(" ", text.casefold()).strip()


def _trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(max(0, len(text) - 2))}


def similarity(first: str, second: str) -> float:
    """How alike two texts are, 0 to 1 (1: the same once normalised)."""
    a, b = normalised(first), normalised(second)
    if a == b:
        return 1.0
    x, y = _trigrams(a), _trigrams(b)
    return len(x & y) / len(x | y) if x and y else 0.0


@dataclass(frozen=True, slots=True)
class Repeat:
    """The recent post a draft repeats, and how closely."""

    post: OwnPost
    similarity: float

    @property
    def exact(self) -> bool:
        """Whether the texts are the same once normalised."""
        return self.similarity >= 1.0


def closest_repeat(text: str, posts: Iterable[OwnPost]) -> Repeat | None:
    """The post ``text`` repeats most closely, when one is a (near-)duplicate."""
    draft = normalised(text)
    if not draft:
        return None
    grams = _trigrams(draft)
    best: Repeat | None = None
    for post in posts:
        other = normalised(post.text)
        if not other:
            continue
        if other == draft:
            return Repeat(post, 1.0)
        if len(draft) < SHORTEST or len(other) < SHORTEST:
            continue
        theirs = _trigrams(other)
        # The overlap can reach NEAR only when the sizes are close enough.
        if min(len(grams), len(theirs)) < NEAR * max(len(grams), len(theirs)):
            continue
        score = len(grams & theirs) / len(grams | theirs)
        if score >= NEAR and (best is None or score > best.similarity):
            best = Repeat(post, score)
    return best
