"""Training and honest evaluation of the authenticity model (``kompas people train``).

The model is a bootstrap ensemble of L2-regularised logistic regressions fitted by
Newton's method in NumPy: small enough to ship as JSON, read at a glance, and retrain in
a second. Evaluation holds out whole groups (a Gilani popularity band, or the whole
Botwiki set) so the figures say how the model does on accounts unlike its training data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from kompas.people import authenticity
from kompas.people.datasets import Labelled, subset
from kompas.people.metrics import figures
from kompas.people.signals import (
    FEATURES,
    Array,
    feature_matrix,
    fit_handle_model,
    handle_signals,
    signal_table,
)

Mask = np.ndarray[Any, np.dtype[np.bool_]]

#: The threshold flags at most this share of the training humans as likely automated.
HUMANS_FLAGGED = 0.10
MEMBERS = 25
L2 = 1.0
#: Follower tiers for engagement expectations (lower bounds).
TIERS = (0, 100, 1_000, 10_000, 100_000, 1_000_000)


def _sigmoid(x: Array) -> Array:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -30, 30))))


def fit_logistic(z: Array, y: Array, weights: Array, l2: float = L2) -> Array:
    """Intercept and weights of a logistic regression on standardised inputs ``z``."""
    design = np.column_stack([np.ones(len(z)), z])
    beta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(50):
        p = _sigmoid(design @ beta)
        gradient = design.T @ (weights * (p - y)) + penalty * beta
        curvature = weights * p * (1 - p)
        hessian = (design * curvature[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def _balanced(y: Array) -> Array:
    """Weights that give both classes equal total weight (a 50/50 prior)."""
    positives = max(float(y.sum()), 1.0)
    negatives = max(float(len(y) - y.sum()), 1.0)
    return np.where(y == 1, len(y) / (2 * positives), len(y) / (2 * negatives))


def engagement_tiers(data: Labelled, logp: Array) -> list[dict[str, Any]]:
    """Per follower tier, what labelled humans get per post relative to their followers
    (likes + reposts per post / followers): the median and quartiles, and how many."""
    signals = signal_table(data.columns, logp)
    rate = signals["likes_per_post_per_follower"] + signals["reposts_per_post_per_follower"]
    followers = data.columns.followers
    humans = data.automated == 0
    tiers = []
    for low, high in zip(TIERS, (*TIERS[1:], float("inf")), strict=True):
        inside = humans & (followers >= low) & (followers < high) & ~np.isnan(rate)
        values = rate[inside]
        tier: dict[str, Any] = {"min_followers": low, "n": len(values)}
        if len(values) >= 10 and np.median(values) > 0:
            q1, median, q3 = np.percentile(values, [25, 50, 75])
            tier.update(median=float(f"{median:.4g}"), q1=float(f"{q1:.4g}"), q3=float(f"{q3:.4g}"))
        tiers.append(tier)
    return tiers


_RANDOMNESS = FEATURES.index("handle_randomness")


def _cross_fit_randomness(data: Labelled, features: Array, folds: int = 5) -> None:
    """Each training human's handle randomness under a character model fitted on the
    *other* humans: scored under a model that saw their own handle, humans would look
    less random than any new account does, and the weight would be overstated."""
    humans = np.flatnonzero(data.automated == 0)
    if len(humans) < folds * 2:
        return
    handles = data.columns.handles
    parts = np.array_split(np.random.default_rng(7).permutation(humans), folds)
    for part in parts:
        inside = set(part.tolist())
        others = [handles[i] for i in humans if i not in inside]
        logp = fit_handle_model(others)
        _, randomness = handle_signals([handles[i] for i in part], logp)
        features[part, _RANDOMNESS] = randomness


def fit(
    data: Labelled,
    members: int = MEMBERS,
    seed: int = 0,
    version: str = "authenticity-v1",
) -> authenticity.Model:
    """A model fitted on all of ``data``: member 0 on the data itself, the others on
    bootstrap resamples (their spread is the reported uncertainty)."""
    humans = [h for h, a in zip(data.columns.handles, data.automated, strict=True) if a == 0]
    logp = fit_handle_model(humans)
    features = feature_matrix(signal_table(data.columns, logp))
    _cross_fit_randomness(data, features)
    mean = np.nanmean(features, axis=0)
    scale = np.nanstd(features, axis=0)
    scale = np.where(np.isnan(scale) | (scale < 1e-9), 1.0, scale)
    mean = np.nan_to_num(mean)
    y = data.automated.astype(np.float64)
    draft = authenticity.Model(
        version=version,
        features=FEATURES,
        mean=mean,
        scale=scale,
        members=np.zeros((1, len(FEATURES) + 1)),
        threshold=0.5,
        handle_logp=logp,
        engagement_tiers=[],
        metrics={},
        trained_on=[],
    )
    z = authenticity.standardise(draft, features)
    rng = np.random.default_rng(seed)
    fitted = [fit_logistic(z, y, _balanced(y))]
    for _ in range(members - 1):
        sample = rng.integers(0, len(y), len(y))
        fitted.append(fit_logistic(z[sample], y[sample], _balanced(y[sample])))
    draft = replace(draft, members=np.array(fitted))
    automated = predict_automated_mean(draft, z)
    threshold = float(np.quantile(automated[y == 0], 1 - HUMANS_FLAGGED)) if (y == 0).any() else 0.5
    groups = sorted(set(data.groups))
    counts = {g: int(sum(1 for x in data.groups if x == g)) for g in groups}
    return authenticity.Model(
        version=version,
        features=FEATURES,
        mean=mean,
        scale=scale,
        members=np.array(fitted),
        threshold=round(threshold, 4),
        handle_logp=logp,
        engagement_tiers=engagement_tiers(data, logp),
        metrics={},
        trained_on=[f"{g} ({counts[g]} accounts)" for g in groups],
    )


def predict_automated_mean(model: authenticity.Model, z: Array) -> Array:
    """P(automated) averaged over the ensemble, from standardised inputs."""
    return np.asarray(authenticity.predict_automated(model, z).mean(axis=1))


def automated_probability(model: authenticity.Model, data: Labelled) -> Array:
    """P(automated) of every labelled account under ``model`` (the declared flag aside)."""
    return 1.0 - authenticity.score(model, data.columns).authenticity


def _held_out(data: Labelled, train: Mask, test: Mask, members: int) -> dict[str, Any]:
    model = fit(subset(data, train), members=members)
    held = subset(data, test)
    return {
        "y": held.automated,
        "p": automated_probability(model, held),
        "threshold": model.threshold,
    }


def evaluate(
    data: Labelled, members: int = 5, log: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """Held-out figures: each Gilani band left out in turn (trained on the rest, Botwiki
    included), and Botwiki left out (trained on Gilani only, tested on Botwiki's bots and
    Gilani humans held out five-fold)."""
    groups = np.array(data.groups)
    results: dict[str, Any] = {}
    bands = sorted({g for g in data.groups if g.startswith("gilani:")})
    pooled_y: list[Any] = []
    pooled_flags: list[Array] = []
    pooled_p: list[Array] = []
    for band in bands:
        if len({int(a) for a in data.automated[groups == band]}) < 2 or len(bands) < 2:
            continue
        held = _held_out(data, groups != band, groups == band, members)
        results[f"leave out {band}"] = figures(held["y"], held["p"], held["threshold"])
        pooled_y.append(held["y"])
        pooled_p.append(held["p"])
        # Each band's scores are flagged at its own model's threshold.
        pooled_flags.append(held["p"] >= held["threshold"])
        log(f"leave out {band}: {results[f'leave out {band}']}")
    if pooled_y:
        y = np.concatenate(pooled_y)
        pooled = figures(y, np.concatenate(pooled_p), 0.5)
        flags = np.concatenate(pooled_flags).astype(np.float64)
        pooled.update({k: v for k, v in figures(y, flags, 0.5).items() if k != "auc"})
        results["leave one band out, pooled"] = pooled
    others = sorted({g for g in data.groups if not g.startswith("gilani:")})
    gilani = np.char.startswith(groups.astype(str), "gilani:")
    humans = np.flatnonzero(gilani & (data.automated == 0))
    for other in others:
        # Each fold's model scores its held-out humans and all of the left-out set; the
        # left-out set's probabilities are averaged over the folds.
        outside = groups == other
        automated = np.zeros(int(outside.sum()))
        ys: list[Any] = [data.automated[outside]]
        ps: list[Array] = []
        thresholds: list[float] = []
        folds = np.array_split(np.random.default_rng(1).permutation(humans), 5)
        for fold in folds:
            train = gilani.copy()
            train[fold] = False
            model = fit(subset(data, train), members=members)
            thresholds.append(model.threshold)
            automated += automated_probability(model, subset(data, outside)) / len(folds)
            test = np.zeros(len(groups), dtype=bool)
            test[fold] = True
            fold_humans = subset(data, test)
            ys.append(fold_humans.automated)
            ps.append(automated_probability(model, fold_humans))
        ps.insert(0, automated)
        results[f"leave out {other}"] = figures(
            np.concatenate(ys), np.concatenate(ps), float(np.mean(thresholds))
        )
        log(f"leave out {other}: {results[f'leave out {other}']}")
    return results


def train(
    data: Labelled, log: Callable[[str], None] = lambda _: None, evaluate_first: bool = True
) -> authenticity.Model:
    """The model to ship: evaluated on held-out groups, then fitted on everything."""
    held_out = evaluate(data, log=log) if evaluate_first else {}
    model = fit(data)
    model.metrics.update(
        {
            "held_out": held_out,
            "in_sample": figures(
                data.automated, automated_probability(model, data), model.threshold
            ),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    return model
