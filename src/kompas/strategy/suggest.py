"""``kompas strategy suggest``: content pillars proposed from the user's own posts.

The posts' words (pairs of characters for Chinese, Japanese and Korean, which have no
spaces) are weighed by TF-IDF and clustered by spherical k-means (cosine similarity,
k-means++ start, several restarts), all in NumPy. The most frequent terms of the user's
whole history (function words in any language) are left out, so clusters form around
subjects. Each cluster becomes a pillar: its heaviest terms are the keywords and name,
the three posts nearest its centre are the examples, and its share of the posts is
reported. Without ``--pillars`` the number (3 to 6) with the best silhouette is chosen.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kompas.errors import KompasError
from kompas.strategy.features import has_cjk, normalise, words

Matrix = npt.NDArray[np.float64]
Labels = npt.NDArray[np.int64]

MIN_PILLARS, MAX_PILLARS = 3, 6
#: The history's most widespread terms are function words in any language: the first
#: COMMON of them go, and any term in more than WIDESPREAD of the posts.
COMMON = 10
WIDESPREAD = 0.12
VOCABULARY = 2500
KEYWORDS = 8
EXAMPLES = 3
#: Posts used to choose the number of pillars (silhouette needs all pairs).
SAMPLE = 600
RESTARTS = 3
ITERATIONS = 40
MIN_POSTS = 20


class SuggestError(KompasError):
    """Too few posts with words to propose pillars from."""


@dataclass(frozen=True, slots=True)
class Example:
    """One of the user's posts that shows a pillar."""

    post: str
    text: str


@dataclass(frozen=True, slots=True)
class Suggested:
    """A proposed pillar: a name to edit, keywords, examples, and its share of posts."""

    id: str
    name: str
    keywords: tuple[str, ...]
    examples: tuple[Example, ...]
    posts: int
    share: float

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "name": self.name,
            "keywords": list(self.keywords),
            "examples": [{"post": e.post, "text": e.text} for e in self.examples],
            "posts": self.posts,
            "share": round(self.share, 4),
        }


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The pillars proposed from ``posts`` posts."""

    posts: int
    pillars: tuple[Suggested, ...]

    @property
    def covered(self) -> float:
        """The share of posts that fall in one of the pillars."""
        return sum(p.share for p in self.pillars)

    def to_json(self) -> dict[str, object]:
        """The ``kompas strategy suggest --json`` shape."""
        return {
            "posts": self.posts,
            "covered": round(self.covered, 4),
            "pillars": [p.to_json() for p in self.pillars],
        }


#: stop-words' list names for the language codes kompas sees.
_STOP_LISTS = {
    "ar": "arabic",
    "bg": "bulgarian",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "he": "hebrew",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sk": "slovak",
    "es": "spanish",
    "sv": "swedish",
    "tr": "turkish",
    "uk": "ukrainian",
    "vi": "vietnamese",
    "fa": "persian",
    "el": "greek",
    "zh": "chinese",
    "ja": "japanese",
    "ko": "korean",
}


def stop_words(languages: Sequence[str]) -> frozenset[str]:
    """The function words of ``languages`` (and English and French), normalised like
    posts, from the ``stop-words`` package's lists."""
    from stop_words import get_stop_words  # type: ignore[import-untyped]

    found: set[str] = set()
    for code in {"en", "fr", *languages}:
        if code in _STOP_LISTS:
            found.update(normalise(w) for w in get_stop_words(_STOP_LISTS[code]))
    return frozenset(found)


def terms(text: str, stop: frozenset[str] = frozenset()) -> list[str]:
    """The terms of a post: its words of 3+ letters that are not function words, and
    character pairs of CJK runs."""
    found: list[str] = []
    for word in words(normalise(text)):
        if has_cjk(word):
            found.extend(word[i : i + 2] for i in range(max(1, len(word) - 1)))
        elif len(word) >= 3 and word not in stop:
            found.append(word)
    return [t for t in found if t not in stop]


def _matrix(documents: Sequence[list[str]]) -> tuple[Matrix, list[str]]:
    """Unit TF-IDF rows over the vocabulary left once the most widespread terms go."""
    frequency = Counter(t for terms_ in documents for t in set(terms_))
    ranked = [t for t, n in frequency.most_common() if n >= 2]
    widespread = max(2, int(WIDESPREAD * len(documents)))
    vocabulary = [t for i, t in enumerate(ranked) if i >= COMMON and frequency[t] <= widespread][
        :VOCABULARY
    ]
    column = {t: i for i, t in enumerate(vocabulary)}
    matrix = np.zeros((len(documents), len(vocabulary)), dtype=np.float64)
    idf = np.log((1 + len(documents)) / (1 + np.array([frequency[t] for t in vocabulary]))) + 1
    for row, document in enumerate(documents):
        counts = Counter(column[t] for t in document if t in column)
        if counts:
            ids = np.fromiter(counts.keys(), dtype=np.int64)
            matrix[row, ids] = (1 + np.log(np.fromiter(counts.values(), float))) * idf[ids]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms, vocabulary


def _kmeans(matrix: Matrix, k: int, rng: np.random.Generator) -> tuple[Matrix, Labels]:
    """``(centres, assignment)`` of spherical k-means, best of a few restarts."""
    best: tuple[float, Matrix, Labels] | None = None
    for _restart in range(RESTARTS):
        centres = matrix[[int(rng.integers(len(matrix)))]]
        for _ in range(1, k):  # k-means++: far from the centres chosen so far
            distance = np.clip(1.0 - np.max(matrix @ centres.T, axis=1), 0.0, None)
            total = float(distance.sum())
            pick = int(rng.choice(len(matrix), p=distance / total)) if total else 0
            centres = np.vstack((centres, matrix[pick]))
        assignment = np.zeros(len(matrix), dtype=np.int64)
        for _ in range(ITERATIONS):
            new = np.argmax(matrix @ centres.T, axis=1)
            if np.array_equal(new, assignment) and _ > 0:
                break
            assignment = new
            for c in range(k):
                members = matrix[assignment == c]
                if len(members):
                    centre = members.sum(axis=0)
                    centres[c] = centre / (np.linalg.norm(centre) or 1.0)
        fit = float(np.sum(np.max(matrix @ centres.T, axis=1)))
        if best is None or fit > best[0]:
            best = (fit, centres.copy(), assignment.copy())
    assert best is not None
    return best[1], best[2]


def _silhouette(matrix: Matrix, labels: Labels) -> float:
    distance = 1.0 - matrix @ matrix.T
    scores = []
    for i in range(len(matrix)):
        own = labels == labels[i]
        if own.sum() <= 1:
            continue
        inside = distance[i, own].sum() / (own.sum() - 1)
        outside = min(
            (distance[i, labels == c].mean() for c in set(labels.tolist()) if c != labels[i]),
            default=0.0,
        )
        scores.append((outside - inside) / max(inside, outside, 1e-9))
    return float(np.mean(scores)) if scores else -1.0


def _slug(name: str) -> str:
    return re.sub(r"[\W_]+", "-", name.lower()).strip("-") or "pillar"


def suggest(
    texts: Sequence[str],
    post_ids: Sequence[str],
    pillars: int | None = None,
    languages: Sequence[str] = (),
    seed: int = 7,
) -> Suggestion:
    """Pillars proposed from the user's posts ``texts`` (ids ``post_ids``; the languages
    they are tagged with, for the function words to leave out)."""
    if pillars is not None and not MIN_PILLARS <= pillars <= MAX_PILLARS:
        raise SuggestError(f"--pillars must be between {MIN_PILLARS} and {MAX_PILLARS}")
    stop = stop_words(languages)
    documents = [terms(t, stop) for t in texts]
    matrix, vocabulary = _matrix(documents)
    usable = np.flatnonzero(matrix.any(axis=1))
    if len(usable) < MIN_POSTS:
        raise SuggestError(
            f"only {len(usable)} of your posts have words to learn from; import more "
            f"(at least {MIN_POSTS}) or write your pillars by hand (`kompas strategy init`)"
        )
    rows = matrix[usable]
    rng = np.random.default_rng(seed)
    if pillars is None:
        sample = rows[rng.permutation(len(rows))[:SAMPLE]]
        scored = [
            (_silhouette(sample, _kmeans(sample, k, np.random.default_rng(seed))[1]), k)
            for k in range(MIN_PILLARS, MAX_PILLARS + 1)
        ]
        pillars = max(scored)[1]
    centres, assignment = _kmeans(rows, pillars, rng)
    similarity = rows @ centres.T
    found: list[Suggested] = []
    taken: set[str] = set()
    for c in np.argsort(-np.bincount(assignment, minlength=pillars)):
        members = np.flatnonzero(assignment == c)
        if not len(members):
            continue
        top = [vocabulary[i] for i in np.argsort(-centres[c])[:KEYWORDS] if centres[c, i] > 0]
        name = " & ".join(t.capitalize() for t in top[:2]) or f"Pillar {c + 1}"
        ident = _slug(name)
        while ident in taken:
            ident += "-2"
        taken.add(ident)
        nearest = members[np.argsort(-similarity[members, c])[:EXAMPLES]]
        found.append(
            Suggested(
                id=ident,
                name=name,
                keywords=tuple(top),
                examples=tuple(
                    Example(post_ids[usable[i]], " ".join(texts[usable[i]].split())[:280])
                    for i in nearest
                ),
                posts=len(members),
                share=len(members) / len(texts),
            )
        )
    return Suggestion(posts=len(texts), pillars=tuple(found))


def pillars_yaml(suggestion: Suggestion, language: str = "en") -> str:
    """The ``pillars:`` section of strategy.yaml for ``suggestion`` (strings quoted as
    JSON, which YAML reads as they are)."""
    lines = ["pillars:"]
    for pillar in suggestion.pillars:
        share = f"{pillar.share:.0%}"
        description = (
            f"Proposed from {pillar.posts} of your posts ({share}): "
            + ", ".join(pillar.keywords[:5])
            + ". Rename it and say what it is about."
            if language == "en"
            else f"Proposé d'après {pillar.posts} de vos posts ({share}) : "
            + ", ".join(pillar.keywords[:5])
            + ". Renommez-le et dites de quoi il parle."
        )
        lines += [
            f"  - id: {json.dumps(pillar.id, ensure_ascii=False)}",
            f"    name: {json.dumps(pillar.name, ensure_ascii=False)}",
            f"    description: {json.dumps(description, ensure_ascii=False)}",
            "    keywords: ["
            + ", ".join(json.dumps(k, ensure_ascii=False) for k in pillar.keywords)
            + "]",
            "    examples:",
        ]
        lines += [f"      - {json.dumps(e.text, ensure_ascii=False)}" for e in pillar.examples]
    return "\n".join(lines) + "\n"


def with_pillars(starter: str, pillars: str) -> str:
    """The starter file ``starter`` with its example pillars replaced by ``pillars``."""
    begin = starter.index("\npillars:\n") + 1
    end = starter.index("\n\n", begin) + 1
    return starter[:begin] + pillars + starter[end:]
