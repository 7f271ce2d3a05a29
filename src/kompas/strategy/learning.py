"""Alignment that learns from the user's corrections (``kompas strategy teach``).

One logistic regression per pillar ("does this post serve it?"), trained in NumPy on the
posts the user corrected plus the pillar's own description, keywords and examples. Its
inputs are the post's character n-gram TF-IDF and the rule-based aligner's figures for
every pillar (score, best similarity, keyword hits). It starts from the rule-based
verdict: the aligner's score, less its threshold, is a fixed offset (scaled by
``prior``), and what is learnt is how the corrections move away from it, so one
correction changes the posts like it, not every post.

There are far fewer corrected posts than features, so the model is fitted in its dual
form (kernel logistic regression with a linear kernel, Newton steps on an n × n system):
exact and a few milliseconds. Its weights are then folded back onto the features, so
scoring 10,000 posts is one sparse product per pillar. A post the user corrected gets
exactly the pillars they gave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from kompas.strategy import features
from kompas.strategy.features import normalise

if TYPE_CHECKING:
    from kompas.strategy.alignment import Aligner, Scores

Matrix = npt.NDArray[np.float64]

#: Constant feature standing for the intercept.
BIAS = 1.0
NEWTON_STEPS = 25


@dataclass(frozen=True, slots=True)
class Settings:
    """The model's settings. The defaults were chosen by cross-validation on the "mixed"
    labelled set (bench/strategy_alignment.py --tune); the figures in docs/strategy.md
    choose them again inside each training split, never on the posts they are tested on."""

    #: L2 strength (the inverse of scikit-learn's C).
    regularisation: float = 0.3
    #: Probability at or above which a post serves a pillar.
    threshold: float = 0.4
    #: How much the pillar's own texts weigh next to one corrected post (0: not used;
    #: the rule-based verdict, which comes from them, already counts).
    pillar_text_weight: float = 0.0
    #: How much the words of a post count next to the rule-based figures: the higher,
    #: the more a correction moves the posts written like it rather than all posts.
    text_scale: float = 3.0
    #: How much the rule-based verdict counts before any correction (0: not at all).
    prior: float = 3.0
    #: How many of the user's other posts stand for "the rules were right" (their
    #: rule-based pillars as targets), so that a few corrections, all alike, move the
    #: posts like them and not every post.
    anchors: float = 60.0
    #: How much each of those posts weighs next to one corrected post.
    anchor_weight: float = 0.2

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The names of the settings."""
        return tuple(f.name for f in fields(cls))


DEFAULT = Settings()


@dataclass(frozen=True, slots=True)
class Correction:
    """What the user said about one post: the pillars it serves (none: empty)."""

    text: str
    pillars: tuple[str, ...]
    post: str = ""


@dataclass(frozen=True, slots=True)
class Prediction:
    """The model's verdict on some posts."""

    probability: Matrix  # posts × pillars
    labels: list[set[str]]
    taught: list[bool]


def _rule_features(scores: Scores) -> Matrix:
    hits = np.array([[min(len(h), 3) / 3 for h in row] for row in scores.hits], dtype=np.float64)
    hits = hits.reshape(scores.score.shape)
    return np.hstack((scores.score, scores.similarity, hits))


class Model:
    """One kernel logistic regression per pillar over corrected posts and pillar texts,
    kept as its weights on the features."""

    def __init__(
        self,
        aligner: Aligner,
        texts: list[str],
        targets: Matrix,
        weights: Matrix,
        taught: dict[str, set[str]],
        settings: Settings,
    ) -> None:
        self.aligner = aligner
        self.ids = [p.id for p in aligner.pillars]
        self.settings = settings
        self.taught = taught
        rows = aligner.hash_posts(texts)
        self.vocabulary = features.Vocabulary(rows, aligner.corpus_frequency())
        doc, column, weight = self.vocabulary.weigh(rows)
        scores = aligner.scores(texts, normalised=True, rows=rows)
        rules = _rule_features(scores)
        scale = settings.text_scale
        kernel = scale * features.gram(doc, column, weight, len(texts)) + rules @ rules.T + BIAS**2
        offset = self._offset(scores)
        alpha = np.column_stack(
            [
                _fit(kernel, targets[:, n], weights[:, n], settings.regularisation, offset[:, n])
                for n in range(len(self.ids))
            ]
        ).reshape(len(texts), len(self.ids))
        # The decision is linear in the features: fold the dual weights back onto them.
        self.words = np.zeros((self.vocabulary.size, len(self.ids)))
        for n in range(len(self.ids)):
            self.words[:, n] = np.bincount(
                column, weights=scale * weight * alpha[doc, n], minlength=self.vocabulary.size
            )
        self.rules = rules.T @ alpha
        self.bias = BIAS**2 * alpha.sum(axis=0)

    def _offset(self, scores: Scores) -> Matrix:
        """The rule-based verdict as a starting point: positive exactly where the rules
        give the pillar (reaching the threshold, and within reach of the best one), so a
        model that learnt nothing decides as the rules do."""
        if not self.settings.prior:
            return np.zeros_like(scores.score)
        aligner = self.aligner
        top = scores.score.max(axis=1, keepdims=True) if scores.score.size else scores.score
        margin = scores.score - np.maximum(aligner.threshold, aligner.second_ratio * top)
        at = self.settings.threshold
        offset: Matrix = self.settings.prior * margin + np.log(at / (1.0 - at))
        return offset

    def predict(
        self, plain: Sequence[str], scores: Scores, rows: features.Hashed | None = None
    ) -> Prediction:
        """Probabilities and chosen pillars for normalised texts ``plain`` (``rows``:
        their hashed features, when already computed)."""
        if rows is None:
            rows = self.aligner.hash_posts(plain)
        doc, column, weight = self.vocabulary.weigh(rows)
        decision = (
            features.sparse_dot(doc, column, weight, len(plain), self.words)
            + _rule_features(scores) @ self.rules
            + self.bias
            + self._offset(scores)
        )
        probability = _sigmoid(decision)
        chosen = probability >= self.settings.threshold
        labels: list[set[str]] = []
        taught: list[bool] = []
        for i, text in enumerate(plain):
            told = self.taught.get(text)
            taught.append(told is not None)
            if told is not None:
                labels.append(set(told))
            else:
                labels.append({self.ids[n] for n in np.flatnonzero(chosen[i])})
        return Prediction(probability, labels, taught)


def _sigmoid(values: Matrix) -> Matrix:
    result: Matrix = 0.5 * (1.0 + np.tanh(0.5 * values))
    return result


def _fit(
    kernel: Matrix, target: Matrix, weight: Matrix, regularisation: float, offset: Matrix
) -> Matrix:
    """Dual coefficients of a weighted, L2-regularised logistic regression whose
    decision values are ``offset + kernel @ alpha``, by Newton's method."""
    count = len(target)
    alpha = np.zeros(count)
    for _step in range(NEWTON_STEPS):
        probability = _sigmoid(offset + kernel @ alpha)
        gradient = weight * (probability - target) + regularisation * alpha
        curvature = weight * probability * (1.0 - probability)
        system = curvature[:, None] * kernel + regularisation * np.eye(count)
        step = np.linalg.solve(system, gradient)
        alpha -= step
        if float(np.max(np.abs(step))) < 1e-6:
            break
    return alpha


def _anchors(
    aligner: Aligner, taught: dict[str, set[str]], count: int
) -> list[tuple[str, list[bool]]]:
    """``count`` posts of the corpus that were not corrected, spread evenly over it, with
    the pillars the rules give them."""
    from kompas.strategy.alignment import decide

    others = [text for text in dict.fromkeys(aligner.corpus) if text and text not in taught]
    if not count or not others:
        return []
    step = max(1, len(others) // count)
    chosen = others[::step][:count]
    scores = aligner.scores(chosen, normalised=True).score
    served = decide(scores, aligner.threshold, aligner.second_ratio)
    return [(text, row.tolist()) for text, row in zip(chosen, served, strict=True)]


def fit(aligner: Aligner, corrections: Sequence[Correction], **settings: float) -> Model:
    """The model for ``aligner``'s pillars learnt from ``corrections`` (labels naming a
    pillar the strategy no longer has are ignored; a later correction of the same text
    replaces an earlier one). ``settings``: any of :class:`Settings`."""
    chosen = Settings(**{**{n: getattr(DEFAULT, n) for n in Settings.names()}, **settings})
    ids = [p.id for p in aligner.pillars]
    known = set(ids)
    taught: dict[str, set[str]] = {}
    for correction in corrections:
        plain = normalise(correction.text)
        wanted = {p for p in correction.pillars if p in known}
        if plain and (wanted or not correction.pillars):
            taught[plain] = wanted
    texts = list(taught)
    targets = [[1.0 if i in taught[text] else 0.0 for i in ids] for text in texts]
    row_weight = [1.0] * len(texts)
    for text, served in _anchors(aligner, taught, int(chosen.anchors)):
        texts.append(text)
        targets.append([float(flag) for flag in served])
        row_weight.append(chosen.anchor_weight)
    for number, pillar in enumerate(aligner.pillars):
        for text in (pillar.description, " ".join(pillar.keywords), *pillar.examples):
            plain = normalise(text)
            if plain and chosen.pillar_text_weight > 0:
                texts.append(plain)
                targets.append([1.0 if n == number else 0.0 for n in range(len(ids))])
                row_weight.append(chosen.pillar_text_weight)
    target = np.array(targets, dtype=np.float64).reshape(len(texts), len(ids))
    base = np.array(row_weight, dtype=np.float64)
    weights = np.empty_like(target)
    for n in range(len(ids)):  # balance each pillar's positives against its negatives
        positive = target[:, n] > 0
        total_positive = float(base[positive].sum()) or 1.0
        total_negative = float(base[~positive].sum()) or 1.0
        half = 0.5 * float(base.sum())
        weights[:, n] = np.where(
            positive, base * half / total_positive, base * half / total_negative
        )
    # Small matrices: OpenBLAS threads spinning cost far more CPU than they save.
    with threadpool_limits(1, "blas"):
        return Model(aligner, texts, target, weights, taught, chosen)
