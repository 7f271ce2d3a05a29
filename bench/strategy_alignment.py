"""Pillar alignment measured on held-out posts, per labelled set and per language.

    .venv/bin/python bench/strategy_alignment.py [--set NAME] [--speed-only] [--tune]

Each labelled set (tests/data/alignment/<set>/) is split into 5 folds by *group*: a post
and its translations always fall in the same fold, so no test post has its translation
in training. Every setting is chosen on the four training folds, never on the test fold
(nested: the model's settings by an inner 4-fold split of the training folds). Printed
per language, macro-F1 mean ± spread over the 5 test folds:

- ``keywords``: the pillar keywords alone, its threshold chosen on the training folds;
- ``default``: kompas's default (character n-grams + keywords) with its shipped settings,
  which were chosen on the whole "mixed" set before this split existed (optimistic there,
  held out on any other set);
- ``default, tuned``: the same with its threshold and keyword weight chosen on the
  training folds;
- ``learnt k``: the default plus the model learnt from k corrections per pillar (and k
  posts that serve none) drawn at random from the training folds in the test fold's
  language, 3 draws averaged; the model's settings are chosen by an inner cross-
  validation inside the training folds (corrections drawn from the inner training folds,
  scored on the inner test folds), and a line says which settings won;
- ``learnt k, shipped``: the same corrections with the settings kompas ships, which were
  chosen by ``--tune`` on the whole "mixed" set (optimistic there, held out elsewhere).

``--tune`` picks the model settings kompas ships with (kompas.strategy.learning.Settings)
by cross-validation over the whole first set. The speed line aligns 10,000 posts (the
set's texts repeated) and prints CPU seconds, best of 3.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kompas.strategy import language
from kompas.strategy.alignment import SECOND_RATIO, Aligner, Scores, decide, macro_f1
from kompas.strategy.learning import Correction, Settings
from kompas.strategy.parse import load_strategy

ROOT = Path(__file__).resolve().parent.parent / "tests" / "data" / "alignment"
SETS = ("mixed", "dealingwith", "ducamp")
FOLDS = 5
#: A language with fewer labelled posts in a set is listed, not scored.
MIN_POSTS = 40
INNER_FOLDS = 4
DRAWS = 3
SHOTS = (5, 10, 20)
#: The grid the inner cross-validation chooses the model's settings from.
GRID: dict[str, tuple[float, ...]] = {
    "regularisation": (0.3, 1.0),
    "threshold": (0.4, 0.5),
    "prior": (3.0, 6.0),
}
#: The rule-based aligner's settings, chosen on the training folds.
RULE_THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45)
KEYWORD_WEIGHTS = (0.08, 0.12, 0.16, 0.2, 0.25)

Record = dict[str, Any]
#: The model's settings as kompas ships them.
SHIPPED = Settings()


def load(name: str) -> tuple[list[Record], Any]:
    """The labelled posts and the strategy of one set."""
    folder = ROOT / name
    with (folder / "labelled.jsonl").open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    return records, load_strategy(folder / "strategy.yaml")


def group(record: Record) -> str:
    """A post and its translations share a group (and so a fold)."""
    return str(record.get("translation_of") or record["id"])


def folds(records: Sequence[Record], count: int = FOLDS, seed: int = 7) -> list[int]:
    """The fold of each record, drawn by group."""
    groups = sorted({group(r) for r in records})
    random.Random(seed).shuffle(groups)
    fold_of = {g: i % count for i, g in enumerate(groups)}
    return [fold_of[group(r)] for r in records]


def draw(
    pool: Sequence[Record], pillars: Sequence[str], shots: int, rng: random.Random
) -> list[Correction]:
    """``shots`` posts per pillar and ``shots`` that serve none, as corrections."""
    chosen: dict[str, Record] = {}
    for pillar in [*pillars, None]:
        fitting = [
            r
            for r in pool
            if r["id"] not in chosen and (pillar in r["labels"] if pillar else not r["labels"])
        ]
        for record in rng.sample(fitting, min(shots, len(fitting))):
            chosen[record["id"]] = record
    return [Correction(r["text"], tuple(r["labels"]), r["id"]) for r in chosen.values()]


class Evaluation:
    """One labelled set with everything that does not depend on the split computed once:
    its posts' features and rule-based scores."""

    def __init__(self, records: Sequence[Record], strategy: Any) -> None:
        self.records = list(records)
        self.labels = [p.id for p in strategy.pillars]
        corpus = [r["text"] for r in self.records]
        self.aligner = Aligner(strategy.pillars, corpus=corpus)
        self.keywords = Aligner(strategy.pillars, method="keywords", corpus=corpus)
        self.scores = self.aligner.scores(corpus)
        self.keyword_scores = self.keywords.scores(corpus)
        self.index = {r["id"]: i for i, r in enumerate(self.records)}
        self.hits = np.array(
            [[min(len(h), 3) for h in row] for row in self.scores.hits], dtype=np.float64
        ).reshape(self.scores.score.shape)

    def f1(self, test: Sequence[Record], predicted: Sequence[set[str]]) -> float:
        """Macro-F1 of ``predicted`` against the labels of ``test``."""
        gold = [set(r["labels"]) for r in test]
        return macro_f1(gold, list(predicted), self.labels)["macro"]["f1"]

    def rules(
        self, test: Sequence[Record], threshold: float, keyword_weight: float | None
    ) -> list[set[str]]:
        """The rule-based pillars of ``test`` (``keyword_weight`` None: keywords only)."""
        rows = [self.index[r["id"]] for r in test]
        if keyword_weight is None:
            score = self.keyword_scores.score[rows]
        else:
            score = (
                self.scores.similarity[rows]
                + self.scores.centroid[rows]
                + keyword_weight * self.hits[rows]
            )
        mask = decide(score, threshold, SECOND_RATIO)
        return [{self.labels[n] for n in np.flatnonzero(row)} for row in mask]

    def best_rules(
        self, train: Sequence[Record], keywords_only: bool
    ) -> tuple[float, float | None]:
        """The rule settings with the best macro-F1 on ``train``."""
        weights: Sequence[float | None] = (None,) if keywords_only else KEYWORD_WEIGHTS
        grid = list(itertools.product(RULE_THRESHOLDS, weights))
        return max(grid, key=lambda s: self.f1(train, self.rules(train, s[0], s[1])))

    def learnt(
        self, corrections: Sequence[Correction], test: Sequence[Record], settings: Settings
    ) -> list[set[str]]:
        """The pillars of ``test`` by the model learnt from ``corrections``."""
        taught = self.aligner.learn(corrections, **_as_dict(settings))
        assert taught.model is not None
        rows = [self.index[r["id"]] for r in test]
        plain = [self.aligner.corpus[i] for i in rows]
        scores = Scores(
            self.scores.score[rows],
            self.scores.similarity[rows],
            self.scores.centroid[rows],
            self.scores.nearest[rows],
            [self.scores.hits[i] for i in rows],
        )
        return taught.model.predict(plain, scores, self.aligner.hash_posts(plain)).labels

    def best_settings(self, train: Sequence[Record], shots: int, seed: int) -> Settings:
        """The model settings with the best mean macro-F1 over an inner split of
        ``train`` (the same corrections for every setting)."""
        inner = folds(train, INNER_FOLDS, seed)
        splits = []
        for fold in range(INNER_FOLDS):
            inner_train = [r for r, f in zip(train, inner, strict=True) if f != fold]
            inner_test = [r for r, f in zip(train, inner, strict=True) if f == fold]
            corrections = draw(inner_train, self.labels, shots, random.Random(seed * 31 + fold))
            splits.append((corrections, inner_test))
        names = list(GRID)
        best, best_score = Settings(), -1.0
        for values in itertools.product(*(GRID[n] for n in names)):
            settings = Settings(**dict(zip(names, values, strict=True)))
            score = statistics.fmean(
                self.f1(test, self.learnt(corrections, test, settings))
                for corrections, test in splits
            )
            if score > best_score:
                best, best_score = settings, score
        return best


def _short(settings: Settings) -> str:
    """The settings the grid chooses among, as ``name=value``."""
    return " ".join(f"{name}={getattr(settings, name):g}" for name in GRID)


def _as_dict(settings: Settings) -> dict[str, float]:
    return {name: getattr(settings, name) for name in Settings.names()}


def evaluate(
    evaluation: Evaluation, languages: Sequence[str], shots: Sequence[int] = SHOTS
) -> tuple[dict[str, dict[str, list[float]]], dict[str, Counter[Settings]]]:
    """Per language, per method, the macro-F1 of each test fold; and the settings the
    inner cross-validation chose, per language and number of corrections."""
    records = evaluation.records
    fold_of = folds(records)
    figures: dict[str, dict[str, list[float]]] = {}
    chosen: dict[str, Counter[Settings]] = {}
    for lang in languages:
        rows: dict[str, list[float]] = {}
        for fold in range(FOLDS):
            test = [
                r for r, f in zip(records, fold_of, strict=True) if f == fold and r["lang"] == lang
            ]
            train = [
                r for r, f in zip(records, fold_of, strict=True) if f != fold and r["lang"] == lang
            ]
            if not test:
                continue
            threshold, _ = evaluation.best_rules(train, keywords_only=True)
            found = evaluation.rules(test, threshold, None)
            rows.setdefault("keywords", []).append(evaluation.f1(test, found))
            found = evaluation.rules(test, evaluation.aligner.threshold, 0.16)
            rows.setdefault("default", []).append(evaluation.f1(test, found))
            threshold, weight = evaluation.best_rules(train, keywords_only=False)
            found = evaluation.rules(test, threshold, weight)
            rows.setdefault("default, tuned", []).append(evaluation.f1(test, found))
            for k in shots:
                settings = evaluation.best_settings(train, k, 1000 * fold + k)
                chosen.setdefault(f"{lang} learnt {k}", Counter())[settings] += 1
                draws = [
                    draw(train, evaluation.labels, k, random.Random(1000 * fold + seed))
                    for seed in range(DRAWS)
                ]
                for label, used in ((f"learnt {k}", settings), (f"learnt {k}, shipped", SHIPPED)):
                    results = [
                        evaluation.f1(test, evaluation.learnt(corrections, test, used))
                        for corrections in draws
                    ]
                    rows.setdefault(label, []).append(statistics.fmean(results))
        figures[lang] = rows
    return figures, chosen


def tune(evaluation: Evaluation, language_: str, shots: int = 10) -> Settings:
    """The settings kompas ships: the best by cross-validation over the whole set."""
    pool = [r for r in evaluation.records if r["lang"] == language_]
    return evaluation.best_settings(pool, shots, seed=99)


def speed(records: Sequence[Record], strategy: Any) -> dict[str, float]:
    """CPU seconds to build an aligner over 10,000 posts and align them all, as the
    review does (languages detected only where they change the answer), best of 3; the
    language detector's model is loaded before (once per process: ``model load``)."""
    texts = ([r["text"] for r in records] * (10_000 // len(records) + 1))[:10_000]
    labels = [p.id for p in strategy.pillars]
    corrections = draw(records, labels, 10, random.Random(1))
    start = time.process_time()
    language.detect("The model of the language detector is loaded once per process.")
    found = {"model load": round(time.process_time() - start, 2)}
    for name, options in (
        ("keywords", {"method": "keywords"}),
        ("default", {}),
        ("learnt 10", {"corrections": corrections}),
    ):
        best = float("inf")
        for _run in range(3):
            start = time.process_time()
            aligner = Aligner(strategy.pillars, corpus=texts, **options)  # type: ignore[arg-type]
            aligner.align_many(texts, detect_all=False)
            best = min(best, time.process_time() - start)
        found[name] = round(best, 2)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", choices=SETS, action="append", help="only these sets")
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--tune", action="store_true", help="choose the shipped settings")
    parser.add_argument("--shots", type=int, action="append", help="corrections per pillar")
    args = parser.parse_args()
    for name in args.set or SETS:
        records, strategy = load(name)
        counts = Counter(r["lang"] for r in records)
        languages = sorted(lang for lang, count in counts.items() if count >= MIN_POSTS)
        print(f"== {name}: {len(records)} labelled posts {dict(counts)}", flush=True)
        if name == (args.set or SETS)[0]:
            found = speed(records, strategy)
            print("speed, CPU s for 10,000 posts:", json.dumps(found), flush=True)
        if args.speed_only:
            continue
        evaluation = Evaluation(records, strategy)
        if args.tune:
            for lang in languages:
                best = _short(tune(evaluation, lang))
                print(f"{name} {lang} shipped settings by cross-validation: {best}")
            continue
        figures, chosen = evaluate(evaluation, languages, args.shots or SHOTS)
        for lang, rows in figures.items():
            for method, values in rows.items():
                mean = statistics.fmean(values)
                spread = statistics.pstdev(values)
                print(f"{name} {lang} {method:<17} macro-F1 {mean:.3f} ± {spread:.3f} (5 folds)")
        for key, counter in chosen.items():
            picks = ", ".join(f"{_short(s)} ×{n}" for s, n in counter.most_common())
            print(f"{name} {key}: settings chosen per fold: {picks}")


if __name__ == "__main__":
    main()
