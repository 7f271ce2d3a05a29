"""Relevance: how much an account's recent topics overlap the user's own.

Topics are the words and hashtags of the posts (lower-cased, four letters or more, common
words dropped); overlap is the cosine similarity of the two term-frequency vectors, and
the shared terms that weigh most are the reasons.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kompas.people.texts import say

_WORD = re.compile(r"#?[^\W\d_][\w'-]{3,}", re.UNICODE)
_URL = re.compile(r"https?://\S+")
_STOP = frozenset(
    [
        "this",
        "that",
        "with",
        "from",
        "have",
        "will",
        "your",
        "about",
        "what",
        "when",
        "there",
        "their",
        "they",
        "them",
        "then",
        "than",
        "just",
        "like",
        "been",
        "were",
        "would",
        "could",
        "should",
        "into",
        "more",
        "some",
        "only",
        "also",
        "very",
        "over",
        "much",
        "such",
        "which",
        "while",
        "where",
        "here",
        "after",
        "before",
        "because",
        "being",
        "does",
        "doing",
        "dont",
        "cant",
        "these",
        "those",
        "http",
        "https",
        "www",
        "amp",
        "really",
        "today",
        "know",
        "think",
        "make",
        "made",
        "good",
        "great",
        "thanks",
        "thank",
        "people",
        "time",
        "year",
        "years",
        "still",
        "even",
        "back",
        "need",
        "want",
        "going",
        "other",
        "every",
        "many",
        "most",
        "first",
        "last",
        "dass",
        "nicht",
        "eine",
        "einer",
        "einem",
        "sind",
        "auch",
        "oder",
        "aber",
        "wenn",
        "noch",
        "nach",
        "über",
        "sich",
        "mehr",
    ]
)


def terms(texts: Iterable[str]) -> Counter[str]:
    """Term frequencies over ``texts`` (hashtags count as their word)."""
    counts: Counter[str] = Counter()
    for text in texts:
        for word in _WORD.findall(_URL.sub(" ", text).lower()):
            word = word.lstrip("#").strip("'-")
            if len(word) >= 4 and word not in _STOP:
                counts[word] += 1
    return counts


@dataclass(frozen=True, slots=True)
class Relevance:
    """Topic overlap with the user, and the shared terms behind it."""

    similarity: float | None
    shared: tuple[str, ...]
    account_terms: int
    user_terms: int
    reason: str
    #: The reason as a code and its numbers, for any language (:func:`texts.say`).
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)


def relevance(account_texts: Iterable[str], user_texts: Iterable[str]) -> Relevance:
    """Cosine similarity of the account's and the user's recent terms."""
    theirs, mine = terms(account_texts), terms(user_texts)
    if not theirs or not mine:
        code = "relevance.no_text_theirs" if not theirs else "relevance.no_text_yours"
        return Relevance(None, (), len(theirs), len(mine), say(code), code)
    dot = sum(n * mine[t] for t, n in theirs.items() if t in mine)
    norm = math.sqrt(sum(n * n for n in theirs.values())) * math.sqrt(
        sum(n * n for n in mine.values())
    )
    similarity = dot / norm
    shared = tuple(
        t
        for t, _ in sorted(
            ((t, theirs[t] * mine[t]) for t in theirs if t in mine), key=lambda x: (-x[1], x[0])
        )[:8]
    )
    code = "relevance.found" if shared else "relevance.no_shared"
    params: dict[str, Any] = {"similarity": round(similarity, 2), "shared": ", ".join(shared)}
    reason = say(code, **params)
    return Relevance(round(similarity, 4), shared, len(theirs), len(mine), reason, code, params)
