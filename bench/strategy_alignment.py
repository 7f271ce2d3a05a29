"""Measure pillar alignment on the hand-labelled set (tests/data/alignment/): precision,
recall and F1 per pillar and macro, per method and per language.

    .venv/bin/python bench/strategy_alignment.py [--grid]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from kompas.strategy import embedding
from kompas.strategy.alignment import METHODS, Aligner, macro_f1
from kompas.strategy.parse import load_strategy

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "alignment"


_encode = embedding.encode
_encoded: dict[tuple[str, ...], object] = {}


def _cached_encode(texts: list[str]) -> object:
    """The grid re-aligns the same texts many times: encode each batch once."""
    key = tuple(texts)
    if key not in _encoded:
        _encoded[key] = _encode(texts)
    return _encoded[key]


embedding.encode = _cached_encode  # type: ignore[assignment]


def load() -> list[dict[str, object]]:
    """The labelled posts."""
    with (DATA / "labelled.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def evaluate(method: str, records: list[dict[str, object]], **options: float) -> dict[str, object]:
    """Figures of one method over ``records`` (all, en, fr)."""
    strategy = load_strategy(DATA / "strategy.yaml")
    labels = [p.id for p in strategy.pillars]
    texts = [str(r["text"]) for r in records]
    aligner = Aligner(strategy.pillars, method=method, corpus=texts, **options)
    start = time.perf_counter()
    predicted = [
        set(a.labels) for a in aligner.align_many(texts, None, [str(r["lang"]) for r in records])
    ]
    seconds = time.perf_counter() - start
    gold = [set(r["labels"]) for r in records]  # type: ignore[arg-type]
    result: dict[str, object] = {"method": method, "seconds": round(seconds, 3)}
    for lang in ("all", "en", "fr"):
        keep = [i for i, r in enumerate(records) if lang == "all" or r["lang"] == lang]
        table = macro_f1([gold[i] for i in keep], [predicted[i] for i in keep], labels)
        result[lang] = {k: {m: round(v, 3) for m, v in row.items()} for k, row in table.items()}
    none_gold = [not g for g in gold]
    none_pred = [not p for p in predicted]
    tp = sum(1 for g, p in zip(none_gold, none_pred, strict=True) if g and p)
    result["unaligned"] = {
        "precision": round(tp / max(1, sum(none_pred)), 3),
        "recall": round(tp / max(1, sum(none_gold)), 3),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grid", action="store_true", help="also search thresholds")
    args = parser.parse_args()
    records = load()
    english = sum(r["lang"] == "en" for r in records)
    print(f"{len(records)} labelled posts ({english} en, {len(records) - english} fr)")
    for method in METHODS:
        figures = evaluate(method, records)
        print(json.dumps(figures))
    if args.grid:
        for method in ("combined", "char", "word", "embedding", "embedding+keywords"):
            thresholds = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
            if method.startswith("embedding"):
                thresholds = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45)
            for threshold in thresholds:
                for weight in (
                    (0.08, 0.12, 0.16, 0.2)
                    if "+" in method or method in ("combined", "word")
                    else (0.0,)
                ):
                    f = evaluate(method, records, threshold=threshold, keyword_weight=weight)
                    macro = f["all"]["macro"]  # type: ignore[index]
                    print(
                        method,
                        threshold,
                        weight,
                        macro["f1"],
                        f["en"]["macro"]["f1"],
                        f["fr"]["macro"]["f1"],
                    )  # type: ignore[index]


if __name__ == "__main__":
    main()
