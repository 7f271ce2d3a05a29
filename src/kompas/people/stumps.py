"""An additive model from boosted stumps, kept as one step table per input.

Each boosting round splits one input at one of its bin edges and adds a small step to
that input's table, so the fitted model is ``logit P(automated) = intercept + sum of one
table lookup per input``: as fast as a linear model, and each input's share of a score is
exact (its table value), which is what the reasons show. An unknown input looks up a
zero: it moves nothing and was never learned from, so "unknown" cannot come to mean
"automated" (the model's uncertainty grows instead, see :mod:`kompas.people.authenticity`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Bins = npt.NDArray[np.intp]

BINS = 16
ROUNDS = 100
LEARNING_RATE = 0.1
#: Newton steps are shrunk by this much curvature (an L2 penalty on each step).
L2 = 1.0


def _sigmoid(x: Array) -> Array:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -30, 30))))


def bin_edges(values: Array, bins: int = BINS) -> list[Array]:
    """Per input (column), up to ``bins - 1`` distinct quantile edges of its known values."""
    edges = []
    for column in values.T:
        known = column[~np.isnan(column)]
        if not len(known):
            edges.append(np.zeros(0))
            continue
        cuts = np.quantile(known, np.linspace(0, 1, bins + 1)[1:-1])
        edges.append(np.unique(cuts))
    return edges


def bin_index(values: Array, edges: list[Array]) -> Bins:
    """Each value's bin: ``searchsorted`` on its input's edges; unknown values get the
    last slot, one past the input's bins, whose table value is always zero."""
    index = np.empty(values.shape, dtype=np.intp)
    for j, cuts in enumerate(edges):
        column = values[:, j]
        found = np.searchsorted(cuts, column, side="right")
        found[np.isnan(column)] = len(cuts) + 1
        index[:, j] = found
    return index


@dataclass(frozen=True)
class Fit:
    """One boosted member: its intercept and one step table per input (the last slot of
    each table, for unknown values, is zero)."""

    intercept: float
    tables: list[Array]


def fit(
    index: Bins,
    sizes: list[int],
    y: Array,
    weights: Array,
    rounds: int = ROUNDS,
    learning_rate: float = LEARNING_RATE,
) -> Fit:
    """Boosts stumps on binned inputs (``index`` from :func:`bin_index`, ``sizes`` = bins
    per input) for the logistic loss; unknown values take no part in any split."""
    count, inputs = index.shape
    positive = float(np.sum(weights * y)) / max(float(weights.sum()), 1e-12)
    positive = min(max(positive, 1e-6), 1 - 1e-6)
    intercept = float(np.log(positive / (1 - positive)))
    tables = [np.zeros(size + 1) for size in sizes]
    logit = np.full(count, intercept)
    known = [index[:, j] < sizes[j] for j in range(inputs)]
    for _ in range(rounds):
        p = _sigmoid(logit)
        gradient = weights * (y - p)
        curvature = weights * p * (1 - p)
        best_gain, best = 0.0, None
        for j in range(inputs):
            size = sizes[j]
            if size < 2:
                continue
            where = known[j]
            g = np.bincount(index[where, j], gradient[where], size)
            h = np.bincount(index[where, j], curvature[where], size)
            left_g, left_h = np.cumsum(g)[:-1], np.cumsum(h)[:-1]
            total_g, total_h = g.sum(), h.sum()
            gain = (
                left_g**2 / (left_h + L2)
                + (total_g - left_g) ** 2 / (total_h - left_h + L2)
                - total_g**2 / (total_h + L2)
            )
            split = int(np.argmax(gain))
            if gain[split] > best_gain:
                left = left_g[split] / (left_h[split] + L2)
                right = (total_g - left_g[split]) / (total_h - left_h[split] + L2)
                best_gain, best = float(gain[split]), (j, split, left, right)
        if best is None:
            break
        j, split, left, right = best
        step = np.zeros(sizes[j] + 1)
        step[: split + 1] = learning_rate * left
        step[split + 1 : sizes[j]] = learning_rate * right
        tables[j] += step
        logit += step[index[:, j]]
    # Centre each table on the training accounts that know the input (weighted), moving
    # its mean into the intercept: scores with every input known are unchanged, a table
    # value says how far its input moves a score from the average account, and an
    # unknown input (zero) counts as average.
    for j, table in enumerate(tables):
        where = known[j]
        if where.any():
            mean = float(np.sum(weights[where] * table[index[where, j]])) / max(
                float(weights[where].sum()), 1e-12
            )
            table[: sizes[j]] -= mean
            intercept += mean
    return Fit(intercept, tables)


def contributions(tables: Array, index: Bins) -> Array:
    """Per account and input, the table value (``tables`` is members × inputs × slots,
    padded with zeros); the result is accounts × members × inputs."""
    inputs = index.shape[1]
    return np.stack([tables[:, j, :][:, index[:, j]].T for j in range(inputs)], axis=2)


def as_json_tables(fits: list[Fit], slots: int) -> list[Any]:
    """Members × inputs × ``slots`` nested lists, each table padded with zeros."""
    return [
        [np.pad(t, (0, slots - len(t))).round(5).tolist() for t in member.tables] for member in fits
    ]
