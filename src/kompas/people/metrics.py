"""Evaluation figures, in NumPy: AUC, F1 and the false-positive rate on humans."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def auc(labels: npt.NDArray[Any], scores: npt.NDArray[np.float64]) -> float:
    """Area under the ROC curve (the chance a random positive outranks a random negative,
    ties counting half); NaN when one class is missing."""
    labels = np.asarray(labels, dtype=bool)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if not positives or not negatives:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranked = np.asarray(scores)[order]
    ranks = np.empty(len(ranked))
    # Average ranks over ties.
    starts = np.r_[0, np.flatnonzero(np.diff(ranked)) + 1]
    ends = np.r_[starts[1:], len(ranked)]
    for start, end in zip(starts, ends, strict=True):
        ranks[start:end] = (start + end + 1) / 2.0
    rank_of = np.empty(len(ranked))
    rank_of[order] = ranks
    total = rank_of[labels].sum() - positives * (positives + 1) / 2.0
    return float(total / (positives * negatives))


def f1(labels: npt.NDArray[Any], flagged: npt.NDArray[np.bool_]) -> float:
    """F1 of the positive class (automated)."""
    labels = np.asarray(labels, dtype=bool)
    true_pos = int((labels & flagged).sum())
    wrong = int((~labels & flagged).sum()) + int((labels & ~flagged).sum())
    return 2 * true_pos / (2 * true_pos + wrong) if true_pos or wrong else float("nan")


def fpr(labels: npt.NDArray[Any], flagged: npt.NDArray[np.bool_]) -> float:
    """The share of humans flagged as likely automated."""
    humans = ~np.asarray(labels, dtype=bool)
    return float((flagged & humans).sum() / humans.sum()) if humans.any() else float("nan")


def figures(
    labels: npt.NDArray[Any], automated: npt.NDArray[np.float64], threshold: float
) -> dict[str, Any]:
    """``{"auc", "f1", "fpr_humans", "n"}`` for P(automated) scores at ``threshold``."""
    flagged = automated >= threshold
    return {
        "auc": _round(auc(labels, automated)),
        "f1": _round(f1(labels, flagged)),
        "fpr_humans": _round(fpr(labels, flagged)),
        "n": len(labels),
    }


def _round(value: float) -> float | None:
    return None if value != value else round(value, 4)
