"""Pillar alignment measured on held-out posts, per labelled set and per language.

    .venv/bin/python bench/strategy_alignment.py [--set NAME] [--speed-only]

Each labelled set (tests/data/alignment/<set>/) is split into 5 folds by *group*: a post
and its translations always fall in the same fold, so no test post has its translation
in training. For each fold, kompas is trained only on the other folds; the test fold is
never used to choose anything. Printed per language:

- ``keywords``: the pillar keywords alone (no corrections);
- ``default``: character n-grams + keywords, kompas's default (no corrections);
- ``learnt k``: the default plus the model learnt from k corrections per pillar (and k
  posts that serve none), drawn at random from the training folds in that language,
  averaged over 3 draws.

The model's three settings (kompas.strategy.learning) were chosen on the "mixed" set's
English folds, so its figures are optimistic (a second, independently labelled set is
still to come; see tests/data/alignment/LABELLING.md). The speed line aligns 10,000
posts (the set's texts repeated) and prints CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kompas.strategy.alignment import Aligner, macro_f1
from kompas.strategy.learning import Correction
from kompas.strategy.parse import load_strategy

ROOT = Path(__file__).resolve().parent.parent / "tests" / "data" / "alignment"
SETS = ("mixed",)
FOLDS = 5
DRAWS = 3
SHOTS = (5, 10, 20)

Record = dict[str, Any]


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


def score(aligner: Aligner, test: Sequence[Record], labels: Sequence[str]) -> float:
    """Macro-F1 of ``aligner`` on ``test``."""
    found = aligner.align_many([r["text"] for r in test], None, [r["lang"] for r in test])
    table = macro_f1([set(r["labels"]) for r in test], [set(a.labels) for a in found], labels)
    return table["macro"]["f1"]


def evaluate(
    records: Sequence[Record],
    strategy: Any,
    languages: Sequence[str],
    shots: Sequence[int] = SHOTS,
    options: dict[str, float] | None = None,
) -> dict[str, dict[str, list[float]]]:
    """Per language, per method, the macro-F1 of each test fold."""
    labels = [p.id for p in strategy.pillars]
    fold_of = folds(records)
    corpus = [r["text"] for r in records]
    figures: dict[str, dict[str, list[float]]] = {}
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
            keywords = Aligner(strategy.pillars, method="keywords", corpus=corpus)
            rows.setdefault("keywords", []).append(score(keywords, test, labels))
            default = Aligner(strategy.pillars, corpus=corpus)
            rows.setdefault("default", []).append(score(default, test, labels))
            for k in shots:
                results = []
                for seed in range(DRAWS):
                    corrections = draw(train, labels, k, random.Random(1000 * fold + seed))
                    learnt = Aligner(strategy.pillars, corpus=corpus, corrections=corrections)
                    if options and learnt.model is not None:
                        from kompas.strategy import learning

                        learnt.model = learning.fit(learnt, corrections, **options)
                    results.append(score(learnt, test, labels))
                rows.setdefault(f"learnt {k}", []).append(statistics.fmean(results))
        figures[lang] = rows
    return figures


def speed(records: Sequence[Record], strategy: Any) -> dict[str, float]:
    """CPU seconds to build an aligner over 10,000 posts and align them all, as the
    review does (languages detected only where they change the answer)."""
    texts = ([r["text"] for r in records] * (10_000 // len(records) + 1))[:10_000]
    labels = [p.id for p in strategy.pillars]
    corrections = draw(records, labels, 10, random.Random(1))
    found = {}
    for name, options in (
        ("keywords", {"method": "keywords"}),
        ("default", {}),
        ("learnt 10", {"corrections": corrections}),
    ):
        start = time.process_time()
        aligner = Aligner(strategy.pillars, corpus=texts, **options)  # type: ignore[arg-type]
        aligner.align_many(texts, detect_all=False)
        found[name] = round(time.process_time() - start, 2)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", choices=SETS, action="append", help="only these sets")
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument(
        "--tune", action="store_true", help="tune on the first set's training folds"
    )
    args = parser.parse_args()
    for name in args.set or SETS:
        records, strategy = load(name)
        languages = sorted({r["lang"] for r in records})
        counts = {lang: sum(r["lang"] == lang for r in records) for lang in languages}
        print(f"== {name}: {len(records)} labelled posts {counts}")
        print("speed, CPU s for 10,000 posts:", json.dumps(speed(records, strategy)))
        if args.speed_only:
            continue
        for lang, rows in evaluate(records, strategy, languages).items():
            for method, values in rows.items():
                mean = statistics.fmean(values)
                spread = statistics.pstdev(values)
                print(f"{name} {lang} {method:<10} macro-F1 {mean:.3f} ± {spread:.3f} (5 folds)")


if __name__ == "__main__":
    main()
