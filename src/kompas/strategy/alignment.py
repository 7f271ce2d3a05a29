"""Which content pillars a post serves, with a confidence and the reason.

Offline and for English and French alike: TF-IDF over character n-grams (3 to 5 letters
inside words) compares a post with each pillar's description, keywords and examples, and
whole-word keyword matches add to the score. Character n-grams share evidence across
languages and spellings (visualisation/visualization, données/data do not, but keywords
in both languages do), need no model download, and were measured against word TF-IDF and
keywords alone on the labelled set in ``tests/data/alignment/`` (see docs/strategy.md).
A multilingual sentence-embedding model was not used: none that ships its weights on
PyPI is small enough (see the docs for the comparison).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kompas.strategy.language import detect
from kompas.strategy.model import Pillar

Vector = npt.NDArray[np.float64]

METHODS = ("combined", "char", "word", "keywords", "embedding", "embedding+keywords")
#: Defaults measured on the labelled set (docs/strategy.md, bench/strategy_alignment.py).
THRESHOLD = 0.30
KEYWORD_WEIGHT = 0.16
#: (threshold, keyword weight) per method, each the best of a grid on the labelled set.
DEFAULTS: dict[str, tuple[float, float]] = {
    "combined": (THRESHOLD, KEYWORD_WEIGHT),
    "char": (0.20, 0.0),
    "word": (0.30, 0.20),
    "keywords": (0.30, 0.0),
    "embedding": (0.25, 0.0),
    "embedding+keywords": (0.35, 0.12),
}
SECOND_RATIO = 0.80
NGRAMS = (3, 5)

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"(?<!\w)@[\w.@-]+")
_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]", re.UNICODE)


def normalise(text: str) -> str:
    """Lower case, compatibility forms folded (𝗯𝗼𝗹𝗱 → bold), accents dropped, links and
    handles removed: what both methods compare."""
    text = unicodedata.normalize("NFKC", text)
    text = _HANDLE.sub(" ", _URL.sub(" ", text))
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.split())


def words(text: str) -> list[str]:
    """The words of normalised text."""
    return _WORD.findall(text)


def char_ngrams(text: str, low: int = NGRAMS[0], high: int = NGRAMS[1]) -> list[str]:
    """Character n-grams inside word boundaries (each word padded with spaces)."""
    grams: list[str] = []
    for word in words(text):
        padded = f" {word} "
        for n in range(low, high + 1):
            if len(padded) < n:
                break
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


@dataclass(frozen=True, slots=True)
class PillarMatch:
    """How well a post fits one pillar, and why."""

    pillar: str
    score: float
    confidence: float
    keywords: tuple[str, ...] = ()
    nearest: str | None = None
    similarity: float = 0.0

    def reason(self) -> str:
        """The match in words: matched keywords and the nearest text of the pillar."""
        parts = []
        if self.keywords:
            parts.append("keywords " + ", ".join(self.keywords))
        if self.nearest:
            shown = self.nearest if len(self.nearest) <= 80 else self.nearest[:77] + "…"
            parts.append(f"nearest example “{shown}” (similarity {self.similarity:.2f})")
        return "; ".join(parts) or "no keyword, no similar example"


@dataclass(frozen=True, slots=True)
class Alignment:
    """A post's pillars (empty: unaligned), its language, and every candidate's score."""

    post_id: str
    language: str | None
    language_source: str
    pillars: tuple[PillarMatch, ...]
    candidates: tuple[PillarMatch, ...] = field(default=())

    @property
    def aligned(self) -> bool:
        """Whether the post serves at least one pillar."""
        return bool(self.pillars)

    @property
    def labels(self) -> list[str]:
        """The ids of the pillars the post serves."""
        return [m.pillar for m in self.pillars]

    def reason(self) -> str:
        """Why the post got its pillars (or none)."""
        if self.pillars:
            return " | ".join(f"{m.pillar}: {m.reason()}" for m in self.pillars)
        if self.candidates:
            best = self.candidates[0]
            return (
                f"no pillar reached the threshold (closest: {best.pillar}, score {best.score:.2f})"
            )
        return "no pillars defined"


class _Space:
    """A TF-IDF space over one kind of feature, fitted on the pillars' texts (and the
    posts being aligned, for the document frequencies)."""

    def __init__(self, documents: Sequence[list[str]], corpus: Iterable[list[str]]) -> None:
        self.index: dict[str, int] = {}
        for features in documents:
            for feature in features:
                self.index.setdefault(feature, len(self.index))
        frequency = np.zeros(len(self.index))
        count = 0
        for features in [*documents, *corpus]:
            count += 1
            seen = {self.index[f] for f in features if f in self.index}
            if seen:
                frequency[list(seen)] += 1
        self.idf = np.log((1 + count) / (1 + frequency)) + 1.0
        self.matrix = (
            np.vstack([self.vector(d) for d in documents])
            if documents
            else np.zeros((0, len(self.index)))
        )

    def vector(self, features: list[str]) -> Vector:
        """The unit TF-IDF vector (sublinear term frequency) of ``features``."""
        ids = [self.index[f] for f in features if f in self.index]
        vector = np.zeros(len(self.index))
        if ids:
            counts = np.bincount(ids, minlength=len(self.index)).astype(np.float64)
            present = counts > 0
            vector[present] = (1.0 + np.log(counts[present])) * self.idf[present]
            norm = float(np.linalg.norm(vector))
            if norm:
                vector /= norm
        return vector


class Aligner:
    """Aligns posts to pillars. ``method``: ``combined`` (character n-grams plus keywords,
    the default), ``char``, ``word`` (word TF-IDF plus keywords) or ``keywords``."""

    def __init__(
        self,
        pillars: Sequence[Pillar],
        method: str = "combined",
        threshold: float | None = None,
        keyword_weight: float | None = None,
        second_ratio: float = SECOND_RATIO,
        corpus: Iterable[str] = (),
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
        self.pillars = list(pillars)
        self.method = method
        self.threshold = DEFAULTS[method][0] if threshold is None else threshold
        self.keyword_weight = DEFAULTS[method][1] if keyword_weight is None else keyword_weight
        self.second_ratio = second_ratio
        self._texts: list[str] = []
        self._owner: list[int] = []
        for number, pillar in enumerate(self.pillars):
            for text in (pillar.description, " ".join(pillar.keywords), *pillar.examples):
                if text.strip():
                    self._texts.append(text)
                    self._owner.append(number)
        self._owners = np.array(self._owner, dtype=int)
        self._keywords = [self._keyword_patterns(p) for p in self.pillars]
        featurise = words if method == "word" else char_ngrams
        self._featurise = featurise
        documents = [featurise(normalise(t)) for t in self._texts]
        self._space = _Space(documents, (featurise(normalise(t)) for t in corpus))
        self._embedded: Vector | None = None
        if method.startswith("embedding"):
            from kompas.strategy import embedding

            self._embedded = embedding.encode(self._texts)

    @staticmethod
    def _keyword_patterns(pillar: Pillar) -> list[tuple[str, re.Pattern[str]]]:
        found = []
        for keyword in pillar.keywords:
            plain = normalise(keyword)
            if plain:
                body = r"\s+".join(re.escape(part) for part in plain.split())
                found.append((keyword, re.compile(rf"(?<!\w){body}(?:s|es|x)?(?!\w)")))
        return found

    def _match(
        self, number: int, text: str, vector: Vector, dense: Vector | None = None
    ) -> PillarMatch:
        pillar = self.pillars[number]
        hits = tuple(k for k, pattern in self._keywords[number] if pattern.search(text))
        similarity, centroid, nearest = 0.0, 0.0, None
        if self.method != "keywords" and len(self._owners):
            rows = np.flatnonzero(self._owners == number)
            if len(rows):
                if dense is not None and self._embedded is not None:
                    sims = self._embedded[rows] @ dense
                else:
                    sims = self._space.matrix[rows] @ vector
                best = int(np.argmax(sims))
                similarity = float(sims[best])
                centroid = float(np.mean(sims))
                nearest = self._texts[rows[best]]
        if self.method == "keywords":
            score = 0.15 * min(len(hits), 3) + (0.15 if hits else 0.0)
        elif self.method in ("char", "embedding"):
            score = 0.5 * (similarity + centroid) * 2.0
        else:
            score = 0.5 * (similarity + centroid) * 2.0 + self.keyword_weight * min(len(hits), 3)
        confidence = score / (score + self.threshold) if score > 0 else 0.0
        return PillarMatch(
            pillar=pillar.id,
            score=round(score, 4),
            confidence=round(confidence, 3),
            keywords=hits,
            nearest=nearest if similarity > 0 else None,
            similarity=round(similarity, 4),
        )

    def align_many(
        self,
        texts: Sequence[str],
        post_ids: Sequence[str] | None = None,
        languages: Sequence[str | None] | None = None,
    ) -> list[Alignment]:
        """:meth:`align` for many texts at once (the sentence encoder runs in batches)."""
        dense: Sequence[Vector | None] = [None] * len(texts)
        if self._embedded is not None:
            from kompas.strategy import embedding

            dense = list(embedding.encode([normalise(t) or t for t in texts]))
        return [
            self.align(
                text,
                post_ids[i] if post_ids else "",
                languages[i] if languages else None,
                dense[i],
            )
            for i, text in enumerate(texts)
        ]

    def align(
        self,
        text: str,
        post_id: str = "",
        language: str | None = None,
        dense: Vector | None = None,
    ) -> Alignment:
        """The pillars ``text`` serves: the best one when its score reaches the threshold,
        and any other within ``second_ratio`` of it."""
        lang, how = detect(text, language)
        plain = normalise(text)
        vector = self._space.vector(self._featurise(plain))
        if dense is None and self._embedded is not None:
            from kompas.strategy import embedding

            dense = embedding.encode([plain or text])[0]
        matches = sorted(
            (self._match(n, plain, vector, dense) for n in range(len(self.pillars))),
            key=lambda m: -m.score,
        )
        chosen: list[PillarMatch] = []
        if matches and matches[0].score >= self.threshold:
            top = matches[0].score
            chosen = [
                m
                for m in matches
                if m.score >= self.threshold and m.score >= self.second_ratio * top
            ]
        return Alignment(post_id, lang, how, tuple(chosen), tuple(matches))


def macro_f1(
    gold: Sequence[set[str]], predicted: Sequence[set[str]], labels: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Precision, recall and F1 per label, plus their macro average (``macro``)."""
    table: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if label in g and label in p)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if label not in g and label in p)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if label in g and label not in p)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": float(tp + fn),
        }
    n = len(labels) or 1
    table["macro"] = {
        key: sum(table[label][key] for label in labels) / n for key in ("precision", "recall", "f1")
    }
    table["macro"]["support"] = float(sum(1 for g in gold if g))
    return table
