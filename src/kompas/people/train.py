"""Training and honest evaluation of the authenticity model (``kompas people train``).

Two additive models from boosted stumps (:mod:`kompas.people.stumps`), each a bootstrap
ensemble: the **profile** model on profile inputs, the **posts** model on profile and
activity inputs, trained where activity is known and with activity randomly hidden from
some accounts so that it never leans on one input alone.

Which sources train: those holding both bots and humans, whose bots are the ones users
worry about. A source of one class only (all bots, or all humans) would teach the model
to recognise the *source*, not automation, so it is only tested on; so are the sets of
self-declared bots (Botwiki, Kaggle), which are a different kind of account
(:data:`TEST_ONLY`). Evaluation leaves each training source out in turn (each Gilani band
on its own), and scores every test-only source with the model trained on everything.

The threshold is chosen without the evaluated data: leave each remaining training source
out (each Gilani band on its own), score its humans, and take the highest of their 90th
percentiles, so that no group unseen in training had more than 10% of its humans flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from kompas.people import authenticity, stumps
from kompas.people.authenticity import PARTS, Part
from kompas.people.datasets import Labelled, subset
from kompas.people.metrics import figures
from kompas.people.signals import (
    ACTIVITY_INPUTS,
    Array,
    fit_handle_model,
    handle_signals,
    signal_table,
)

Mask = np.ndarray[Any, np.dtype[np.bool_]]

#: The threshold flags at most this share of the humans of any source left out.
HUMANS_FLAGGED = 0.10
MEMBERS = 15
EVALUATION_MEMBERS = 5
#: Share of the training accounts whose activity inputs are hidden (posts model).
HIDE_ACTIVITY = 0.3
#: Sources that are only tested on (their bots declare themselves), by name prefix.
TEST_ONLY = ("botwiki", "kaggle")
#: Follower tiers for engagement expectations (lower bounds).
TIERS = (0, 100, 1_000, 10_000, 100_000, 1_000_000)


def source_of(group: str) -> str:
    """The source of a group: ``gilani-2017`` of ``gilani-2017:1k``."""
    return group.split(":", 1)[0]


@dataclass(frozen=True)
class Plan:
    """Which groups train the model and which are only tested on, and why."""

    training: list[str]
    test_only: dict[str, str]


def plan(data: Labelled, test_only: tuple[str, ...] = TEST_ONLY) -> Plan:
    """Splits the groups of ``data``: a source with a single class, or named in
    ``test_only``, is tested on only."""
    groups = np.array(data.groups)
    training: list[str] = []
    tested: dict[str, str] = {}
    for group in sorted(set(data.groups)):
        source = source_of(group)
        classes = set(data.automated[np.char.startswith(groups.astype(str), source)].tolist())
        if any(source.startswith(prefix) for prefix in test_only):
            tested[group] = "self-declared bots"
        elif len(classes) < 2:
            tested[group] = "bots only" if classes == {1} else "humans only"
        else:
            training.append(group)
    return Plan(training, tested)


def _weights(groups: list[str], y: Array) -> Array:
    """Each group (a source, or a Gilani band) weighs the same in total, and bots and
    humans weigh the same overall."""
    names = np.array(groups)
    weights = np.zeros(len(y))
    for name in set(names.tolist()):
        inside = names == name
        weights[inside] = 1.0 / inside.sum()
    bots, humans = weights[y == 1].sum(), weights[y == 0].sum()
    weights = np.where(y == 1, weights / max(bots, 1e-12), weights / max(humans, 1e-12))
    return np.asarray(weights * len(y) / 2)


def features(data: Labelled, humans_logp: Array, cross_fit: bool) -> dict[str, Array]:
    """The signal table of ``data``. With ``cross_fit``, each human's handle randomness
    comes from a character model fitted on the *other* humans (five folds): scored under a
    model that saw their own handle, training humans would look less random than any new
    account, and the model would lean on randomness too much."""
    table = signal_table(data.columns, humans_logp)
    if not cross_fit:
        return table
    humans = np.flatnonzero(data.automated == 0)
    if len(humans) < 10:
        return table
    handles = data.columns.handles
    randomness = table["handle_randomness"].copy()
    for part in np.array_split(np.random.default_rng(7).permutation(humans), 5):
        inside = set(part.tolist())
        logp = fit_handle_model([handles[i] for i in humans if i not in inside])
        randomness[part] = handle_signals([handles[i] for i in part], logp)[1]
    table["handle_randomness"] = randomness
    return table


def _values(table: dict[str, Array], inputs: tuple[str, ...], rows: Any) -> Array:
    return np.column_stack([table[name][rows] for name in inputs])


def _fit_members(
    values: Array, y: Array, weights: Array, members: int, seed: int
) -> tuple[list[Array], Array, Array, Array]:
    """Edges, intercepts, tables (members × inputs × slots) and each input's spread."""
    edges = stumps.bin_edges(values)
    sizes = [len(e) + 1 for e in edges]
    index = stumps.bin_index(values, edges)
    rng = np.random.default_rng(seed)
    fits = [stumps.fit(index, sizes, y, weights)]
    for _ in range(members - 1):
        sample = rng.integers(0, len(y), len(y))
        fits.append(stumps.fit(index[sample], sizes, y[sample], weights[sample]))
    slots = max(sizes) + 1
    tables = np.array(stumps.as_json_tables(fits, slots), dtype=np.float64)
    intercepts = np.array([f.intercept for f in fits])
    shares = stumps.contributions(tables, index).mean(axis=1)
    known = ~np.isnan(values)
    spread = np.array(
        [
            float(np.cov(shares[known[:, j], j], aweights=weights[known[:, j]]))
            if known[:, j].sum() > 1
            else 0.0
            for j in range(values.shape[1])
        ]
    )
    return edges, intercepts, tables, spread


def _hide_activity(values: Array, inputs: tuple[str, ...], seed: int) -> Array:
    """A copy of ``values`` with the activity inputs of a random share of accounts unknown."""
    columns = [inputs.index(name) for name in ACTIVITY_INPUTS if name in inputs]
    if not columns:
        return values
    hidden = values.copy()
    drop = np.random.default_rng(seed).random(len(values)) < HIDE_ACTIVITY
    hidden[np.ix_(drop, np.array(columns, dtype=np.intp))] = np.nan
    return hidden


def _has_activity(data: Labelled) -> Mask:
    return np.asarray(data.columns.posts_seen >= authenticity.MIN_POSTS)


def fit_part(
    data: Labelled,
    table: dict[str, Array],
    name: str,
    members: int,
    seed: int = 0,
    threshold: float = 0.5,
) -> Part:
    """One model (``profile`` or ``posts``) fitted on every account of ``data`` (the posts
    model on those with activity hidden at random)."""
    inputs = PARTS[name]
    rows = np.arange(len(data.automated))
    values = _values(table, inputs, rows)
    y = data.automated.astype(np.float64)
    weights = _weights(data.groups, y)
    trained_on = _hide_activity(values, inputs, seed + 1) if name == "posts" else values
    edges, intercepts, tables, spread = _fit_members(trained_on, y, weights, members, seed)
    return Part(inputs, edges, intercepts, tables, spread, threshold)


def _lower_automated(part: Part, values: Array) -> Array:
    """The lower end of P(automated)'s interval, as the model flags with it."""
    logits, _, missing = authenticity.part_logits(part, values)
    centre = logits.mean(axis=1)
    spread = np.sqrt(logits.var(axis=1) + missing)
    return np.asarray(1.0 / (1.0 + np.exp(-(centre - authenticity._Z * spread))))


def calibrate(data: Labelled, table: dict[str, Array], name: str) -> float:
    """The threshold: leave each group (source or band) out, score its humans with a
    model of the others (one member), and take the highest 90th percentile over the
    groups. The posts model is calibrated on the groups that have activity."""
    sources = sorted(set(data.groups))
    names = np.array(data.groups)
    activity = _has_activity(data)
    found: list[float] = []
    for source in sources:
        held = (names == source) & (data.automated == 0)
        if name == "posts":
            held &= activity
        if held.sum() < 10 or (names != source).sum() < 10:
            continue
        rest = subset(data, names != source)
        part = fit_part(rest, _slice(table, names != source), name, members=1)
        values = _values(table, part.inputs, np.flatnonzero(held))
        found.append(float(np.quantile(_lower_automated(part, values), 1 - HUMANS_FLAGGED)))
    return round(max(found), 4) if found else 0.5


def _slice(table: dict[str, Array], mask: Mask) -> dict[str, Array]:
    return {k: v[mask] for k, v in table.items()}


def engagement_tiers(data: Labelled) -> list[dict[str, Any]]:
    """Per follower tier, what labelled humans get per post relative to their followers
    (likes + reposts per post / followers): the median and quartiles, and how many."""
    followers = np.where(
        np.isnan(data.columns.followers), data.band_followers, data.columns.followers
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = (data.columns.likes_per_post + data.columns.reposts_per_post) / followers
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


def fit(
    data: Labelled,
    members: int = MEMBERS,
    seed: int = 0,
    version: str = "authenticity-v2",
) -> authenticity.Model:
    """Both models fitted on all of ``data`` (its training groups, see :func:`plan`)."""
    humans = [h for h, a in zip(data.columns.handles, data.automated, strict=True) if a == 0]
    logp = fit_handle_model(humans)
    table = features(data, logp, cross_fit=True)
    profile = fit_part(data, table, "profile", members, seed, calibrate(data, table, "profile"))
    posts = fit_part(data, table, "posts", members, seed, calibrate(data, table, "posts"))
    counts: dict[str, int] = {}
    for group in data.groups:
        counts[group] = counts.get(group, 0) + 1
    return authenticity.Model(
        version=version,
        profile=profile,
        posts=posts,
        handle_logp=logp,
        engagement_tiers=engagement_tiers(data),
        metrics={},
        trained_on=[f"{g} ({counts[g]} accounts)" for g in sorted(counts)],
    )


def _figures(y: Array, scores: authenticity.Scores, rows: Mask | None = None) -> dict[str, Any]:
    """AUC of P(automated), F1 and FPR on humans of the model's own flags."""
    keep = ~np.isnan(scores.automated) if rows is None else rows & ~np.isnan(scores.automated)
    found = figures(y[keep], scores.automated[keep], 0.5)
    flagged = scores.flagged[keep].astype(np.float64)
    found.update({k: v for k, v in figures(y[keep], flagged, 0.5).items() if k != "auc"})
    return found


def _without_posts(data: Labelled) -> Labelled:
    """The same accounts as if no recent post were known."""
    plain = subset(data, np.ones(len(data.automated), dtype=bool))
    for name in ("original_share", "repost_share", "reply_share", "clients", "links_per_post"):
        setattr(plain.columns, name, np.full(len(plain.automated), np.nan))
    plain.columns.regularity = np.full(len(plain.automated), np.nan)
    plain.columns.posts_seen = np.zeros(len(plain.automated))
    return plain


@dataclass(frozen=True)
class Row:
    """One line of the evaluation table."""

    held_out: str
    how: str
    model: str
    n: int
    auc: float | None
    f1: float | None
    fpr_humans: float | None
    flagged: float | None

    def as_json(self) -> dict[str, Any]:
        """The row as stored in the model's metrics."""
        return dict(self.__dict__)


def _row(held: str, how: str, model: str, y: Any, scores: authenticity.Scores) -> Row:
    found = _figures(y, scores)
    scored = ~np.isnan(scores.automated)
    flagged = float(scores.flagged[scored].mean()) if scored.any() else None
    return Row(
        held,
        how,
        model,
        int(scored.sum()),
        found["auc"],
        found["f1"],
        found["fpr_humans"],
        None if flagged is None else round(flagged, 4),
    )


def evaluate(
    data: Labelled,
    members: int = EVALUATION_MEMBERS,
    log: Callable[[str], None] = lambda _: None,
    test_only: tuple[str, ...] = TEST_ONLY,
) -> list[Row]:
    """The evaluation table: each training source (each Gilani band) left out in turn,
    then every test-only source scored by a model of all the training sources. A
    single-class test source is paired with the other class of the test-only sources."""
    split = plan(data, test_only)
    groups = np.array(data.groups)
    training = np.isin(groups, split.training)
    rows: list[Row] = []
    for group in split.training:
        rest = subset(data, training & (groups != group))
        held = subset(data, groups == group)
        if len(set(held.automated.tolist())) < 2 or len(set(rest.automated.tolist())) < 2:
            continue
        model = fit(rest, members=members)
        scores = authenticity.score(model, held.columns)
        with_posts = bool((scores.used == authenticity.POSTS).any())
        rows.append(
            _row(group, "left out", "posts" if with_posts else "profile", held.automated, scores)
        )
        log(_line(rows[-1]))
        if with_posts:
            plain = authenticity.score(model, _without_posts(held).columns)
            rows.append(_row(group, "left out, without posts", "profile", held.automated, plain))
            log(_line(rows[-1]))
    tested = list(split.test_only)
    if tested and len(set(data.automated[training].tolist())) == 2:
        model = fit(subset(data, training), members=members)
        unseen = np.isin(groups, tested)
        all_scores = authenticity.score(model, subset(data, unseen).columns)
        labels = data.automated[unseen]
        unseen_groups = groups[unseen]
        for group in tested:
            inside = unseen_groups == group
            classes = set(labels[inside].tolist())
            pair = inside | (labels != next(iter(classes))) if len(classes) == 1 else inside
            how = "never trained on" + (
                ", against the other class of the unseen sources" if len(classes) == 1 else ""
            )
            part = _subset_scores(all_scores, pair)
            row = _row(group, how, "profile", labels[pair].astype(np.float64), part)
            own = _subset_scores(all_scores, inside)
            scored = ~np.isnan(own.automated)
            rows.append(
                Row(
                    row.held_out,
                    row.how,
                    row.model,
                    int(scored.sum()),
                    row.auc,
                    row.f1 if len(classes) == 2 else None,
                    row.fpr_humans if 0 in classes else None,
                    round(float(own.flagged[scored].mean()), 4) if scored.any() else None,
                )
            )
            log(_line(rows[-1]))
    return rows


def _subset_scores(scores: authenticity.Scores, mask: Mask) -> authenticity.Scores:
    return authenticity.Scores(
        signals={k: v[mask] for k, v in scores.signals.items()},
        automated=scores.automated[mask],
        authenticity=scores.authenticity[mask],
        low=scores.low[mask],
        high=scores.high[mask],
        flagged=scores.flagged[mask],
        used=scores.used[mask],
        contributions=scores.contributions[mask],
        members=scores.members[mask],
    )


def _number(value: float | None, share: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:.0%}" if share else f"{value:.3f}"


def _line(row: Row) -> str:
    return (
        f"{row.held_out}: {row.how} ({row.model} model, n {row.n:,}): AUC "
        f"{_number(row.auc)}, F1 {_number(row.f1)}, humans flagged {_number(row.fpr_humans, True)}"
    )


def table(rows: list[Row]) -> str:
    """The evaluation as a Markdown table (what ``kompas people train`` prints)."""
    lines = [
        "| held out | how | model | n | AUC | F1 | FPR humans | flagged |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.held_out} | {row.how} | {row.model} | {row.n:,} | {_number(row.auc)} | "
            f"{_number(row.f1)} | {_number(row.fpr_humans)} | {_number(row.flagged)} |"
        )
    return "\n".join(lines)


def train(
    data: Labelled,
    log: Callable[[str], None] = lambda _: None,
    evaluate_first: bool = True,
    members: int = MEMBERS,
    test_only: tuple[str, ...] = TEST_ONLY,
) -> tuple[authenticity.Model, list[Row]]:
    """The model to ship (fitted on every training source) and its evaluation table."""
    rows = evaluate(data, log=log, test_only=test_only) if evaluate_first else []
    split = plan(data, test_only)
    training = subset(data, np.isin(np.array(data.groups), split.training))
    if len(set(training.automated.tolist())) < 2:
        raise authenticity.ModelError(
            "no training source holds both bots and humans: "
            f"sources only tested on: {', '.join(sorted(split.test_only))}"
        )
    model = fit(training, members=members)
    model.metrics.update(
        {
            "evaluation": [r.as_json() for r in rows],
            "test_only": split.test_only,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    return model, rows
