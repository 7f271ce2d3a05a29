"""The authenticity model: a small bootstrap ensemble of logistic regressions, stored as
JSON and evaluated with NumPy (no machine-learning library at runtime).

The ensemble's members were fitted on bootstrap resamples of the labelled data; their
spread is the model's own uncertainty about an account, reported beside the score.
Authenticity is ``1 - P(automated)``; it is a likelihood with reasons, never a label.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from kompas.errors import KompasError
from kompas.people.signals import FEATURES, Array, Columns, feature_matrix, signal_table

MODEL_NAME = "authenticity-v1.json"
#: A self-declared bot is automated by its own word: its authenticity is at most this.
DECLARED_BOT_CAP = 0.05
_CLIP = 5.0


class ModelError(KompasError):
    """A model file kompas cannot use."""


@dataclass(frozen=True)
class Model:
    """A trained authenticity model (see ``docs/people.md``)."""

    version: str
    features: tuple[str, ...]
    mean: Array
    scale: Array
    #: One row per ensemble member: intercept, then one weight per feature.
    members: Array
    threshold: float
    handle_logp: Array
    engagement_tiers: list[dict[str, Any]]
    metrics: dict[str, Any]
    trained_on: list[str]

    @property
    def weights(self) -> Array:
        """The ensemble's mean weights (without the intercept), for reasons."""
        return np.asarray(self.members[:, 1:].mean(axis=0))

    def as_json(self) -> dict[str, Any]:
        """The model as the JSON document it is shipped as."""
        return {
            "version": self.version,
            "features": list(self.features),
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "members": self.members.round(6).tolist(),
            "threshold": self.threshold,
            "handle_logp": self.handle_logp.round(4).tolist(),
            "engagement_tiers": self.engagement_tiers,
            "metrics": self.metrics,
            "trained_on": self.trained_on,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Model:
        """Reads :meth:`as_json`'s document; refuses one made for other features."""
        try:
            features = tuple(document["features"])
            if features != FEATURES:
                raise ModelError(
                    f"model features {list(features)} differ from this kompas's {list(FEATURES)}"
                )
            return cls(
                version=str(document["version"]),
                features=features,
                mean=np.asarray(document["mean"], dtype=np.float64),
                scale=np.asarray(document["scale"], dtype=np.float64),
                members=np.asarray(document["members"], dtype=np.float64),
                threshold=float(document["threshold"]),
                handle_logp=np.asarray(document["handle_logp"], dtype=np.float64),
                engagement_tiers=list(document.get("engagement_tiers", [])),
                metrics=dict(document.get("metrics", {})),
                trained_on=list(document.get("trained_on", [])),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ModelError(f"not a kompas authenticity model: {error}") from None

    def save(self, path: Path) -> None:
        """Writes the model as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=1) + "\n", encoding="utf-8")


def load(path: Path | None = None) -> Model:
    """The model at ``path``, or the one shipped inside kompas."""
    if path is None:
        return shipped()
    try:
        return Model.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as error:
        raise ModelError(f"{path}: cannot read the model: {error}") from None


@cache
def shipped() -> Model:
    """The model shipped inside the package (``kompas/people/model/``)."""
    text = resources.files("kompas.people").joinpath("model", MODEL_NAME).read_text("utf-8")
    return Model.from_json(json.loads(text))


@dataclass(frozen=True)
class Scores:
    """The model's verdicts over a batch, in columns."""

    signals: dict[str, Array]
    #: Standardised inputs (0 where unknown), one row per account.
    inputs: Array
    authenticity: Array
    low: Array
    high: Array
    #: Each input's share of the logit of P(automated), one row per account.
    contributions: Array


def _sigmoid(x: Array) -> Array:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def standardise(model: Model, features: Array) -> Array:
    """Inputs in standard units, clipped, with unknown inputs at the training mean (0)."""
    z = (features - model.mean) / model.scale
    return np.clip(np.nan_to_num(z, nan=0.0), -_CLIP, _CLIP)


def predict_automated(model: Model, z: Array) -> Array:
    """P(automated) per account and ensemble member (accounts × members)."""
    members = model.members
    return _sigmoid(z @ members[:, 1:].T + members[:, 0])


def score(model: Model, columns: Columns) -> Scores:
    """Authenticity with an 80% interval over the ensemble, and each input's contribution."""
    signals = signal_table(columns, model.handle_logp)
    z = standardise(model, feature_matrix(signals))
    automated = predict_automated(model, z)
    authenticity = 1.0 - automated.mean(axis=1)
    if automated.shape[1] > 1:
        low, high = 1.0 - np.percentile(automated, [90, 10], axis=1)
    else:
        low = high = authenticity
    declared = signals["declared_bot"] == 1.0
    cap = DECLARED_BOT_CAP
    authenticity = np.where(declared, np.minimum(authenticity, cap), authenticity)
    low = np.where(declared, np.minimum(low, cap), low)
    high = np.where(declared, np.minimum(high, cap), high)
    return Scores(signals, z, authenticity, low, high, z * model.weights)


_TEXT = {
    "account_age": ("account age", "days", "age_days"),
    "handle_digits": ("digits in the handle", "share", "handle_digits"),
    "handle_randomness": ("handle randomness", "nats/char", "handle_randomness"),
    "repost_share": ("share of reposts", "share", "repost_share"),
    "reply_share": ("share of replies", "share", "reply_share"),
    "links_per_post": ("links per post", "", "links_per_post"),
    "clients": ("distinct posting clients", "", "clients"),
}


def _declared_reason() -> dict[str, Any]:
    return {
        "signal": "declared_bot",
        "value": True,
        "effect": "lowers",
        "weight": None,
        "text": "the account declares itself automated (its platform's bot flag)",
    }


def batch_reasons(model: Model, scores: Scores, top: int = 3) -> list[list[dict[str, Any]]]:
    """Per account, the ``top`` inputs that moved its score most, each with its value, the
    direction it moved authenticity and how far (in logit units); a declared bot flag
    comes first. Vectorised: one sort per batch."""
    contributions = scores.contributions
    count = len(contributions)
    if not count:
        return []
    top = min(top, contributions.shape[1])
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :top]
    rows = np.arange(count)[:, None]
    weights = np.round(-contributions[rows, order], 3).tolist()
    columns = [_TEXT[name] for name in model.features]
    signal_values = np.column_stack([scores.signals[c[2]] for c in columns])
    values = signal_values[rows, order]
    rounded = np.round(values, 4).tolist()
    raw = values.tolist()
    declared = (scores.signals["declared_bot"] == 1.0).tolist()
    found: list[list[dict[str, Any]]] = []
    for row, picks in enumerate(order.tolist()):
        listed: list[dict[str, Any]] = [_declared_reason()] if declared[row] else []
        for slot, index in enumerate(picks):
            weight = weights[row][slot]
            if weight == 0.0:
                continue
            label, unit, signal = columns[index]
            value = raw[row][slot]
            effect = "raises" if weight > 0 else "lowers"
            shown = _shown(unit, value)
            if unit and unit != "share":
                shown = f"{shown} {unit}"
            listed.append(
                {
                    "signal": signal,
                    "value": rounded[row][slot],
                    "effect": effect,
                    "weight": weight,
                    "text": f"{label} {shown} {effect} authenticity",
                }
            )
        found.append(listed)
    return found


def _shown(unit: str, value: float) -> str:
    """A reason's value as its text shows it, without its unit (unless a share)."""
    if unit == "share":
        return f"{value:.0%}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


#: A column of JSON fragments for a batch: one per account, or one for all of them.
Fragments = bytes | list[bytes]


def json_floats(values: Array) -> Fragments:
    """Each value of a column as orjson writes it (NaN as ``null``), in one orjson call; a
    single fragment when the whole column is one value (bit for bit) or unknown."""
    if not values.size:
        return []
    bits = values.view(np.int64)
    if (bits == bits[0]).all() or np.isnan(values).all():
        return orjson.dumps(values[:1].tolist())[1:-1]
    return orjson.dumps(values.tolist())[1:-1].split(b",")


_EFFECTS = ("lowers", "raises")


def _per_row(column: Fragments | npt.NDArray[Any], here: Array) -> Fragments:
    """``column`` where ``here``, an empty fragment elsewhere."""
    if here.all():
        return column.tolist() if isinstance(column, np.ndarray) else column
    if isinstance(column, bytes):
        column = [column] * len(here)
    return list(np.where(here, np.array(column, dtype=object), b"").tolist())


def _pick(table: npt.NDArray[Any], index: npt.NDArray[Any], here: Array) -> Fragments:
    """``table[index]`` where ``here``, an empty fragment elsewhere: one fragment when it
    is the same for every account, else one (shared) fragment per account."""
    if here.all():
        if (index == index[0]).all():
            return bytes(table[index[0]])
        return list(table[index].tolist())
    return _per_row(table[index], here)


def reason_parts(model: Model, scores: Scores, top: int = 3) -> list[Fragments]:
    """:func:`batch_reasons` as JSON without a Python object per reason: columns of byte
    fragments (see :data:`Fragments`) whose concatenation, account by account, is exactly
    ``orjson.dumps`` of that account's reasons. Numbers and texts are formatted once per
    distinct value; the rest is array indexing into a few shared fragments."""
    contributions = scores.contributions
    count = len(contributions)
    if not count:
        return []
    top = min(top, contributions.shape[1])
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :top]
    rows = np.arange(count)[:, None]
    weights = np.round(-contributions[rows, order], 3)
    columns = [_TEXT[name] for name in model.features]
    signal_values = np.column_stack([scores.signals[c[2]] for c in columns])
    values = signal_values[rows, order]
    present = weights != 0.0
    raises = (weights > 0).astype(np.intp)
    declared = scores.signals["declared_bot"] == 1.0
    # What a reason writes apart from its numbers and shown value, by feature and effect;
    # a reason after another starts with a comma.
    heads = np.array(
        [
            [sep + b'{"signal":"' + c[2].encode() + b'","value":' for c in columns]
            for sep in (b"", b",")
        ],
        dtype=object,
    )
    effects = np.array(
        [b',"effect":"' + e.encode() + b'","weight":' for e in _EFFECTS], dtype=object
    )
    tails = np.array(
        [
            [
                (
                    (f" {c[1]}" if c[1] not in ("", "share") else "") + f' {e} authenticity"}}'
                ).encode()
                for e in _EFFECTS
            ]
            for c in columns
        ],
        dtype=object,
    )
    # The text up to the value's unit, once per distinct shown value of each feature: a
    # share shows rint(100 × value), a value of 100 or more rint(value) (the formats round
    # exactly so, half to even), so those are formatted from the rounded value.
    texts = np.empty(values.shape, dtype=object)
    with np.errstate(invalid="ignore"):
        large = np.abs(values) >= 100
    for index, (label, unit, _signal) in enumerate(columns):
        where = present & (order == index)
        if not where.any():
            continue
        chosen = values[where]
        if unit == "share":
            keys = np.rint(chosen * 100)
        else:
            keys = np.where(large[where], np.rint(chosen), chosen)
        distinct, inverse = np.unique(keys.view(np.int64), return_inverse=True)
        shown = [
            f',"text":"{label} {key:.0f}%'
            if unit == "share"
            else f',"text":"{label} {_shown(unit, key)}'
            for key in distinct.view(np.float64).tolist()
        ]
        texts[where] = np.array([t.encode() for t in shown], dtype=object)[inverse]
    opening = np.array([b"[", b"[" + orjson.dumps(_declared_reason())], dtype=object)
    everyone = np.ones(count, dtype=bool)
    parts: list[Fragments] = [_pick(opening, declared.astype(np.intp), everyone)]
    before = declared.copy()
    rounded = np.round(values, 4)
    features = len(columns)
    for slot in range(top):
        here = present[:, slot]
        feature = order[:, slot]
        effect = raises[:, slot]
        parts += [
            _pick(heads.ravel(), before * features + feature, here),
            _per_row(json_floats(rounded[:, slot].copy()), here),
            _pick(effects, effect, here),
            _per_row(json_floats(weights[:, slot].copy()), here),
            _per_row(texts[:, slot], here),
            _pick(tails.ravel(), feature * 2 + effect, here),
        ]
        before |= here
    parts.append(b"]")
    return parts


def reasons(model: Model, scores: Scores, row: int, top: int = 3) -> list[dict[str, Any]]:
    """:func:`batch_reasons` for one account of the batch."""
    one = Scores(
        signals={k: v[row : row + 1] for k, v in scores.signals.items()},
        inputs=scores.inputs[row : row + 1],
        authenticity=scores.authenticity[row : row + 1],
        low=scores.low[row : row + 1],
        high=scores.high[row : row + 1],
        contributions=scores.contributions[row : row + 1],
    )
    return batch_reasons(model, one, top)[0]
