"""Which content pillars a post serves, with a confidence and the reason.

Offline and in any language the pillars are written in: TF-IDF over character n-grams
(3 to 5 letters inside words; single characters and pairs for Chinese, Japanese and
Korean, which have no spaces) compares a post with each pillar's description, keywords
and examples, and keyword matches add to the score (whole words, or anywhere inside
unsegmented CJK text). Posts are scored all at once (:mod:`kompas.strategy.features`),
so 10,000 posts take well under two seconds.

When the user has taught kompas (``kompas strategy teach``), a small model learnt from
their corrections decides instead (:mod:`kompas.strategy.learning`); the keywords and
similarities are among its inputs. A post in a language none of the pillars is written
in is marked ``supported=False``: it is not "unaligned", kompas cannot read it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import ahocorasick_rs
import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from kompas.i18n import Message, message
from kompas.strategy import features
from kompas.strategy.features import has_cjk, normalise, words
from kompas.strategy.language import by_script, detect_remembered
from kompas.strategy.model import Pillar

if TYPE_CHECKING:
    from kompas.strategy.learning import Correction, Model

__all__ = [
    "METHODS",
    "Aligner",
    "Alignment",
    "PillarMatch",
    "Scores",
    "decide",
    "macro_f1",
    "normalise",
    "words",
]

Vector = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

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
#: The languages alignment was measured in; pillars written in others add theirs.
MEASURED_LANGUAGES = frozenset({"en", "fr"})


class PillarMatch(NamedTuple):
    """How well a post fits one pillar, and why (a tuple: tens of thousands are made
    per review, and frozen dataclasses are slow to build)."""

    pillar: str
    score: float
    confidence: float
    keywords: tuple[str, ...] = ()
    nearest: str | None = None
    similarity: float = 0.0
    learned: bool = False

    def explain(self) -> list[Message]:
        """The match in words: matched keywords and the nearest text of the pillar."""
        parts = []
        if self.learned:
            parts.append(message("strategy.align.learnt", probability=self.confidence))
        if self.keywords:
            parts.append(message("strategy.align.keywords", keywords=self.keywords))
        if self.nearest:
            shown = self.nearest if len(self.nearest) <= 80 else self.nearest[:77] + "…"
            parts.append(message("strategy.align.nearest", text=shown, similarity=self.similarity))
        return parts or [message("strategy.align.nothing")]

    def reason(self, lang: str = "en") -> str:
        """:meth:`explain` in ``lang``."""
        return "; ".join(part.render(lang) for part in self.explain())


@dataclass(frozen=True, slots=True)
class Alignment:
    """A post's pillars (empty: unaligned), its language, whether the aligner can read
    that language, and every candidate's score."""

    post_id: str
    language: str | None
    language_source: str
    pillars: tuple[PillarMatch, ...]
    candidates: tuple[PillarMatch, ...] = field(default=())
    supported: bool = True
    taught: bool = False
    languages: tuple[str, ...] = ()

    @property
    def aligned(self) -> bool:
        """Whether the post serves at least one pillar."""
        return bool(self.pillars)

    @property
    def labels(self) -> list[str]:
        """The ids of the pillars the post serves."""
        return [m.pillar for m in self.pillars]

    @property
    def status(self) -> str:
        """``aligned``, ``unaligned`` or ``unsupported language``."""
        if self.pillars:
            return "aligned"
        return "unaligned" if self.supported else "unsupported language"

    def explain(self) -> list[tuple[str | None, list[Message]]]:
        """Why the post got its pillars (or none): per pillar served, its id and the
        reasons; else one reason for the whole post (id ``None``)."""
        if self.taught:
            if not self.labels:
                return [(None, [message("strategy.align.taught_none")])]
            return [(None, [message("strategy.align.taught", pillars=self.labels)])]
        if self.pillars:
            return [(m.pillar, m.explain()) for m in self.pillars]
        if not self.supported:
            found = message(
                "strategy.align.unsupported", language=self.language, languages=self.languages
            )
        elif self.candidates:
            best = self.candidates[0]
            found = message("strategy.align.below", pillar=best.pillar, score=best.score)
        else:
            found = message("strategy.align.no_pillars")
        return [(None, [found])]

    def reason(self, lang: str = "en") -> str:
        """:meth:`explain` in ``lang``: ``pillar: reason; reason | pillar: …``."""
        return " | ".join(
            (f"{pillar}: " if pillar else "") + "; ".join(p.render(lang) for p in parts)
            for pillar, parts in self.explain()
        )


@dataclass(frozen=True, slots=True)
class Scores:
    """Every post against every pillar: what the rules and the learnt model start from."""

    score: Vector  # posts × pillars
    similarity: Vector  # posts × pillars: the best similarity to one of the pillar's texts
    centroid: Vector  # posts × pillars: the mean similarity to the pillar's texts
    nearest: npt.NDArray[np.int64]  # posts × pillars: index of the nearest pillar text
    hits: list[list[tuple[str, ...]]]  # posts × pillars: the keywords found


class _Keywords:
    """Every pillar keyword found across all posts in one Aho-Corasick pass: as whole
    words (a plural s/es/x allowed), or anywhere for keywords in CJK scripts."""

    def __init__(self, pillars: Sequence[Pillar]) -> None:
        self.pillars = len(pillars)
        owners: dict[str, list[tuple[int, str]]] = {}
        for number, pillar in enumerate(pillars):
            for keyword in pillar.keywords:
                plain = normalise(keyword)
                if plain:
                    owners.setdefault(plain, []).append((number, keyword))
        self.patterns: list[str] = []
        self.owner: list[list[tuple[int, str]]] = []
        anywhere: list[bool] = []
        for plain, owned in owners.items():
            cjk = has_cjk(plain)
            for suffix in ("",) if cjk else ("", "s", "es", "x"):
                self.patterns.append(plain + suffix)
                self.owner.append(owned)
                anywhere.append(cjk)
        self.anywhere = np.array(anywhere, dtype=bool)
        self.automaton = ahocorasick_rs.AhoCorasick(self.patterns) if self.patterns else None

    def find(self, plain: Sequence[str]) -> list[list[tuple[str, ...]]]:
        """Per post, per pillar, the keywords found (each once, in order of appearance)."""
        found: list[list[list[str]]] = [[[] for _ in range(self.pillars)] for _ in plain]
        if self.automaton is None or not plain:
            return [[tuple(h) for h in row] for row in found]
        joined = "\n".join(plain)
        starts = np.cumsum([0] + [len(t) + 1 for t in plain[:-1]])
        raw = self.automaton.find_matches_as_indexes(joined, overlapping=True)
        if not raw:
            return [[tuple(h) for h in row] for row in found]
        pattern, begin, end = np.array(raw, dtype=np.int64).reshape(-1, 3).T
        size = len(joined)
        before = [b > 0 and _is_word(joined[b - 1]) for b in begin.tolist()]
        after = [e < size and _is_word(joined[e]) for e in end.tolist()]
        whole = ~(np.array(before, dtype=bool) | np.array(after, dtype=bool))
        keep = self.anywhere[pattern] | whole
        pattern, begin = pattern[keep], begin[keep]
        doc = np.searchsorted(starts, begin, side="right") - 1
        # Each pattern once per post, in the order the automaton met them.
        _, first = np.unique(doc * len(self.patterns) + pattern, return_index=True)
        first.sort()
        for number, found_pattern in zip(doc[first].tolist(), pattern[first].tolist(), strict=True):
            row = found[number]
            for owner, keyword in self.owner[found_pattern]:
                if keyword not in row[owner]:
                    row[owner].append(keyword)
        return [[tuple(h) for h in row] for row in found]


def _is_word(character: str) -> bool:
    return character.isalnum() or character == "_"


def pillar_languages(pillars: Sequence[Pillar]) -> frozenset[str]:
    """The languages alignment supports for these pillars: those it was measured in,
    those its descriptions and examples are written in, and the CJK languages whose
    scripts its keywords use."""
    found = set(MEASURED_LANGUAGES)
    texts = [text for pillar in pillars for text in (pillar.description, *pillar.examples)]
    for language, how in detect_remembered(texts):
        if language and how == "detected":
            found.add(language)
    for pillar in pillars:
        for keyword in pillar.keywords:
            script = by_script(keyword)
            if script in ("zh", "ja"):
                found.update(("zh", "ja"))
            elif script:
                found.add(script)
    return frozenset(found)


class Aligner:
    """Aligns posts to pillars. ``method``: ``combined`` (character n-grams plus keywords,
    the default), ``char``, ``word`` (word TF-IDF plus keywords), ``keywords``, or the
    sentence encoder's ``embedding`` / ``embedding+keywords``. ``corrections`` (from
    ``kompas strategy teach``) train a small model that then decides."""

    def __init__(
        self,
        pillars: Sequence[Pillar],
        method: str = "combined",
        threshold: float | None = None,
        keyword_weight: float | None = None,
        second_ratio: float = SECOND_RATIO,
        corpus: Sequence[str] = (),
        corrections: Sequence[Correction] = (),
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
        self.pillars = list(pillars)
        self.method = method
        self.threshold = DEFAULTS[method][0] if threshold is None else threshold
        self.keyword_weight = DEFAULTS[method][1] if keyword_weight is None else keyword_weight
        self.second_ratio = second_ratio
        self.languages = pillar_languages(self.pillars)
        self._texts: list[str] = []
        owner: list[int] = []
        for number, pillar in enumerate(self.pillars):
            for text in (pillar.description, " ".join(pillar.keywords), *pillar.examples):
                if text.strip():
                    self._texts.append(text)
                    owner.append(number)
        self._owners = np.array(owner, dtype=np.int64)
        self._keywords = _Keywords(self.pillars)
        self._corpus_source = list(corpus)
        self.corpus = [normalise(t) for t in self._corpus_source]
        self._position: dict[str, int] = {}
        for number, text in enumerate(self.corpus):
            self._position.setdefault(text, number)
        self._corpus_hashed: features.Hashed | None = None
        self._corpus_scores: Scores | None = None
        self._reference = self._featurise([normalise(t) for t in self._texts])
        self._frequency: features.Frequency | None = None
        self._vocabulary = features.Vocabulary(
            self._reference, self.corpus_frequency() if method != "keywords" else None
        )
        self._text_matrix = self._vocabulary.dense(self._reference)
        self._embedded: Vector | None = None
        if method.startswith("embedding"):
            from kompas.strategy import embedding

            self._embedded = embedding.encode(self._texts)
        self.model: Model | None = None
        if corrections:
            from kompas.strategy import learning

            self.model = learning.fit(self, corrections)

    def learn(self, corrections: Sequence[Correction], **settings: float) -> Aligner:
        """This aligner with a model learnt from ``corrections`` (none: without one),
        sharing the posts' features and scores already computed: what the bench and a
        correction's before/after use."""
        from kompas.strategy import learning

        taught = copy.copy(self)
        taught.model = learning.fit(taught, corrections, **settings) if corrections else None
        return taught

    def _featurise(self, plain: Sequence[str]) -> features.Hashed:
        if self.method == "word":
            return features.hashed_words(plain, normalised=True)
        return features.hashed(plain, normalised=True)

    def corpus_rows(self) -> features.Hashed:
        """Every feature of every post of the corpus, hashed once (rules and model)."""
        if self._corpus_hashed is None:
            self._corpus_hashed = self._featurise(self.corpus)
        return self._corpus_hashed

    def corpus_frequency(self) -> features.Frequency:
        """In how many posts of the corpus each feature occurs (counted once)."""
        if self._frequency is None:
            self._frequency = features.Frequency.of(self.corpus_rows())
        return self._frequency

    def _known(self, plain: Sequence[str]) -> npt.NDArray[np.int64] | None:
        """The corpus rows of ``plain`` when every text is in the corpus, else ``None``."""
        if plain is self.corpus or list(plain) == self.corpus:
            return np.arange(len(self.corpus), dtype=np.int64)
        found = [self._position.get(text, -1) for text in plain]
        if not found or min(found) < 0:
            return None
        return np.array(found, dtype=np.int64)

    def hash_posts(self, plain: Sequence[str]) -> features.Hashed:
        """The features of normalised posts (taken from the corpus when it holds them)."""
        known = self._known(plain)
        if known is None:
            return self._featurise(plain)
        if len(known) == len(self.corpus) and np.array_equal(known, np.arange(len(known))):
            return self.corpus_rows()
        return self.corpus_rows().select(known)

    def scores(
        self, texts: Sequence[str], normalised: bool = False, rows: features.Hashed | None = None
    ) -> Scores:
        """The rule-based scores of ``texts`` against every pillar (those of the corpus
        computed once)."""
        plain = list(texts) if normalised else [normalise(t) for t in texts]
        known = self._known(plain) if self._embedded is None else None
        if known is None:
            return self._score(plain, texts, rows)
        if self._corpus_scores is None:
            self._corpus_scores = self._score(self.corpus, self._corpus_source, None)
        whole = self._corpus_scores
        if len(known) == len(self.corpus) and np.array_equal(known, np.arange(len(known))):
            return whole
        return Scores(
            whole.score[known],
            whole.similarity[known],
            whole.centroid[known],
            whole.nearest[known],
            [whole.hits[i] for i in known.tolist()],
        )

    def _score(
        self, plain: Sequence[str], texts: Sequence[str], rows: features.Hashed | None
    ) -> Scores:
        count, pillars = len(plain), len(self.pillars)
        hits = self._keywords.find(plain)
        similarity = np.zeros((count, pillars))
        centroid = np.zeros((count, pillars))
        nearest = np.full((count, pillars), -1, dtype=np.int64)
        if self.method != "keywords" and len(self._owners) and count:
            if self._embedded is not None:
                from kompas.strategy import embedding

                sims = embedding.encode([p or t for p, t in zip(plain, texts, strict=True)])
                sims = sims @ self._embedded.T
            else:
                if rows is None:
                    rows = self.hash_posts(plain)
                doc, column, weight = self._vocabulary.weigh(rows)
                # Blocks of a few hundred rows: BLAS threads would spin more than work.
                with threadpool_limits(1, "blas"):
                    sims = features.sparse_dot(doc, column, weight, count, self._text_matrix.T)
            for number in range(pillars):
                own = np.flatnonzero(self._owners == number)
                if len(own):
                    block = sims[:, own]
                    best = np.argmax(block, axis=1)
                    similarity[:, number] = block[np.arange(count), best]
                    centroid[:, number] = block.mean(axis=1)
                    nearest[:, number] = own[best]
        capped = np.array(
            [[min(len(h), 3) for h in row] for row in hits], dtype=np.float64
        ).reshape(count, pillars)
        if self.method == "keywords":
            score = 0.15 * capped + 0.15 * (capped > 0)
        elif self.method in ("char", "embedding"):
            score = similarity + centroid
        else:
            score = similarity + centroid + self.keyword_weight * capped
        return Scores(score, similarity, centroid, nearest, hits)

    def align_many(
        self,
        texts: Sequence[str],
        post_ids: Sequence[str] | None = None,
        languages: Sequence[str | None] | None = None,
        detect_all: bool = True,
    ) -> list[Alignment]:
        """:meth:`align` for many texts at once. With ``detect_all=False`` the language
        of an aligned post without a platform tag is not detected (it changes nothing,
        and detection is most of the time spent on large batches)."""
        texts = list(texts)
        plain = self.corpus if texts == self._corpus_source else [normalise(t) for t in texts]
        needs_rows = self.method != "keywords" or self.model is not None
        rows = self.hash_posts(plain) if needs_rows else None
        scores = self.scores(plain, normalised=True, rows=rows)
        learned = self.model.predict(plain, scores, rows) if self.model is not None else None
        found = []
        shown_score = np.round(scores.score, 4)
        if learned is not None:
            confidence = np.round(learned.probability, 3)
            served = learned.labels
        else:
            positive = np.maximum(scores.score, 0.0)
            ratio: Vector = np.where(positive > 0, positive / (positive + self.threshold), 0.0)
            confidence = np.round(ratio, 3)
            mask = decide(scores.score, self.threshold, self.second_ratio)
            served = [{self.pillars[n].id for n in np.flatnonzero(row)} for row in mask]
        # Best first (ties in the strategy file's order): what a reason names first.
        order = np.argsort(
            -(confidence if learned is not None else shown_score), axis=1, kind="stable"
        )
        score_rows, confidence_rows = shown_score.tolist(), confidence.tolist()
        similarity_rows = np.round(scores.similarity, 4).tolist()
        nearest_rows = np.where(scores.similarity > 0, scores.nearest, -1).tolist()
        ids = [p.id for p in self.pillars]
        texts_of = [*self._texts, None]  # index -1: no nearest text
        is_learned = learned is not None
        known = tuple(sorted(self.languages))
        prepared: list[tuple[list[PillarMatch], list[PillarMatch], bool]] = []
        for i, ranked in enumerate(order.tolist()):
            scored, confident = score_rows[i], confidence_rows[i]
            near, similar, hits = nearest_rows[i], similarity_rows[i], scores.hits[i]
            matches = [
                PillarMatch(
                    ids[n],
                    scored[n],
                    confident[n],
                    hits[n],
                    texts_of[near[n]],
                    similar[n],
                    is_learned,
                )
                for n in ranked
            ]
            chosen = [m for m in matches if m.pillar in served[i]]
            prepared.append((matches, chosen, learned.taught[i] if learned is not None else False))
        # A keyword says it all: detecting the language (the slow part) changes nothing.
        needed = [
            i
            for i, (_, chosen, _) in enumerate(prepared)
            if (languages and languages[i]) or detect_all or not any(m.keywords for m in chosen)
        ]
        # The same posts come back run after run (a review's week): their detected
        # languages are remembered, so the detector's model (0.5 s to load) is not.
        detected = detect_remembered(
            [texts[i] for i in needed],
            [languages[i] for i in needed] if languages else None,
            name="post-languages",
        )
        language_of: dict[int, tuple[str | None, str]] = dict(zip(needed, detected, strict=True))
        for i, (matches, chosen, taught) in enumerate(prepared):
            language, how = language_of.get(i, (None, "not needed"))
            supported = language is None or language in self.languages
            if not supported and not taught:
                # Character n-grams of a language the pillars lack say nothing: only
                # the user's own keywords can align such a post.
                chosen = [m for m in chosen if m.keywords]
            found.append(
                Alignment(
                    post_id=post_ids[i] if post_ids else "",
                    language=language,
                    language_source=how,
                    pillars=tuple(chosen),
                    candidates=tuple(matches),
                    supported=supported,
                    taught=taught,
                    languages=known,
                )
            )
        return found

    def align(self, text: str, post_id: str = "", language: str | None = None) -> Alignment:
        """The pillars ``text`` serves: the best one when its score reaches the threshold,
        and any other within ``second_ratio`` of it (or what the learnt model says)."""
        return self.align_many([text], [post_id], [language])[0]


def decide(score: Vector, threshold: float, second_ratio: float = SECOND_RATIO) -> Mask:
    """Which pillars each post serves by its scores (posts × pillars): the best one when
    it reaches ``threshold``, and any other that does within ``second_ratio`` of it.
    Scores are compared as shown, to 4 decimals."""
    shown = np.round(score, 4)
    if not shown.size:
        return np.zeros(shown.shape, dtype=bool)
    top = shown.max(axis=1, keepdims=True)
    mask: Mask = (shown >= threshold) & (shown >= second_ratio * top) & (top >= threshold)
    return mask


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
