"""The authenticity model: two small additive models from boosted stumps, stored as JSON
step tables and evaluated with NumPy (no machine-learning library at runtime).

Which model scores an account depends on what it carries: a profile alone goes to the
**profile** model, a profile with enough recent posts to the **posts** model (profile and
activity inputs). A bare profile is never scored by the posts model with its activity
filled in. Declared automation (Mastodon ``bot``, a Bluesky self-label) is a rule, not a
learned input. With too few profile facts (no age, or no count at all) the answer is
unknown, never a score from the handle alone.

Each model is a bootstrap ensemble; the reported interval comes from the members' spread
plus, for every unknown input, the spread that input shows over the training accounts,
so it widens when inputs are missing. An account is *likely automated* only when even the
optimistic end of that interval is past the model's threshold.
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
from kompas.people import stumps
from kompas.people.signals import (
    ACTIVITY_INPUTS,
    PROFILE_INPUTS,
    Array,
    Columns,
    signal_table,
)

MODEL_NAME = "authenticity-v2.json"
#: The posts model needs at least this many recent posts; with fewer, the profile model.
MIN_POSTS = 10
#: The interval is the central 80% (z of the 10th and 90th percentiles).
_Z = 1.2815515655446004
#: The two models, by name, and their inputs.
PARTS = {"profile": PROFILE_INPUTS, "posts": PROFILE_INPUTS + ACTIVITY_INPUTS}
#: Every input of either model, in the posts model's order (the profile's come first).
INPUTS = PARTS["posts"]
#: Unknown (too few inputs), scored by the profile model, by the posts model, declared bot.
UNKNOWN, PROFILE, POSTS, DECLARED = 0, 1, 2, 3
USED = (None, "profile", "posts", "declared")


class ModelError(KompasError):
    """A model file kompas cannot use."""


@dataclass(frozen=True)
class Part:
    """One of the two models: step tables per member and input, and its threshold."""

    inputs: tuple[str, ...]
    edges: list[Array]
    intercepts: Array
    #: Members × inputs × slots; slot ``len(edges[j]) + 1`` (unknown) and the padding are 0.
    tables: Array
    #: Per input, the variance of its contribution over the training accounts.
    spread: Array
    #: P(automated) the interval's lower end must reach for "likely automated".
    threshold: float

    def as_json(self) -> dict[str, Any]:
        """The part as stored in the model file."""
        return {
            "inputs": list(self.inputs),
            "edges": [e.round(6).tolist() for e in self.edges],
            "intercepts": self.intercepts.round(6).tolist(),
            "tables": self.tables.round(5).tolist(),
            "spread": self.spread.round(6).tolist(),
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, name: str, document: dict[str, Any]) -> Part:
        """Reads :meth:`as_json`'s document; refuses one made for other inputs."""
        inputs = tuple(document["inputs"])
        if inputs != PARTS[name]:
            raise ModelError(
                f"the {name} model's inputs {list(inputs)} differ from this kompas's "
                f"{list(PARTS[name])}"
            )
        return cls(
            inputs=inputs,
            edges=[np.asarray(e, dtype=np.float64) for e in document["edges"]],
            intercepts=np.asarray(document["intercepts"], dtype=np.float64),
            tables=np.asarray(document["tables"], dtype=np.float64),
            spread=np.asarray(document["spread"], dtype=np.float64),
            threshold=float(document["threshold"]),
        )


@dataclass(frozen=True)
class Model:
    """A trained authenticity model (see ``docs/people.md``)."""

    version: str
    profile: Part
    posts: Part
    handle_logp: Array
    engagement_tiers: list[dict[str, Any]]
    metrics: dict[str, Any]
    trained_on: list[str]

    def as_json(self) -> dict[str, Any]:
        """The model as the JSON document it is shipped as."""
        return {
            "version": self.version,
            "models": {"profile": self.profile.as_json(), "posts": self.posts.as_json()},
            "handle_logp": self.handle_logp.round(4).tolist(),
            "engagement_tiers": self.engagement_tiers,
            "metrics": self.metrics,
            "trained_on": self.trained_on,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Model:
        """Reads :meth:`as_json`'s document."""
        try:
            parts = document["models"]
            return cls(
                version=str(document["version"]),
                profile=Part.from_json("profile", parts["profile"]),
                posts=Part.from_json("posts", parts["posts"]),
                handle_logp=np.asarray(document["handle_logp"], dtype=np.float64),
                engagement_tiers=list(document.get("engagement_tiers", [])),
                metrics=dict(document.get("metrics", {})),
                trained_on=list(document.get("trained_on", [])),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ModelError(f"not a kompas authenticity model: {error!r}") from None

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
    """The model's verdicts over a batch, in columns (NaN where unknown)."""

    signals: dict[str, Array]
    #: P(automated) per account.
    automated: Array
    #: 1 - P(automated), and its 80% interval.
    authenticity: Array
    low: Array
    high: Array
    #: The interval's lower end of P(automated) reached the model's threshold.
    flagged: npt.NDArray[np.bool_]
    #: Which rule or model answered: :data:`UNKNOWN`, :data:`PROFILE`, :data:`POSTS`,
    #: :data:`DECLARED`.
    used: npt.NDArray[np.intp]
    #: Each input's share of the logit of P(automated) (mean over members), accounts ×
    #: :data:`INPUTS`; 0 for unknown inputs and inputs of the other model.
    contributions: Array
    #: Per account, P(automated) of each member (accounts × members; NaN where unknown).
    members: Array


def _sigmoid(x: Array) -> Array:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -30, 30))))


def enough_inputs(signals: dict[str, Array]) -> npt.NDArray[np.bool_]:
    """Whether a profile says enough to be scored: its age and at least one count
    (posts, followers or following). The handle alone is not enough."""
    counted = ~(
        np.isnan(signals["posts_per_day"])
        & np.isnan(signals["followers"])
        & np.isnan(signals["following"])
    )
    return ~np.isnan(signals["age_days"]) & counted


def part_logits(part: Part, values: Array) -> tuple[Array, Array, Array]:
    """Per account: each member's logit (accounts × members), each input's mean
    contribution (accounts × inputs) and the variance the unknown inputs add."""
    index = stumps.bin_index(values, part.edges)
    members, inputs, slots = part.tables.shape
    # One flat gather for every member and input: table j's slot i is j * slots + i.
    flat = index + np.arange(inputs) * slots
    tables = part.tables.reshape(members, inputs * slots)
    logits = tables[:, flat].sum(axis=2).T + part.intercepts
    shares = tables.mean(axis=0)[flat]
    unknown = np.isnan(values)
    return logits, shares, unknown.astype(np.float64) @ part.spread


def score(model: Model, columns: Columns) -> Scores:
    """Authenticity with an 80% interval, which model answered, and each input's share."""
    signals = signal_table(columns, model.handle_logp)
    count = len(columns)
    declared = signals["declared_bot"] == 1.0
    scorable = enough_inputs(signals) & ~declared
    with_posts = scorable & (columns.posts_seen >= MIN_POSTS)
    used = np.where(declared, DECLARED, np.where(with_posts, POSTS, UNKNOWN))
    used[scorable & ~with_posts] = PROFILE
    members = max(len(model.profile.intercepts), len(model.posts.intercepts))
    automated = np.full(count, np.nan)
    low = np.full(count, np.nan)
    high = np.full(count, np.nan)
    per_member = np.full((count, members), np.nan)
    contributions = np.zeros((count, len(INPUTS)))
    flagged = np.zeros(count, dtype=bool)
    for code, part in ((PROFILE, model.profile), (POSTS, model.posts)):
        rows = np.flatnonzero(used == code)
        if not len(rows):
            continue
        values = np.column_stack([signals[name][rows] for name in part.inputs])
        logits, shares, missing = part_logits(part, values)
        centre = logits.mean(axis=1)
        spread = np.sqrt(logits.var(axis=1) + missing)
        automated[rows] = _sigmoid(centre)
        lowest = _sigmoid(centre - _Z * spread)
        low[rows] = 1.0 - _sigmoid(centre + _Z * spread)
        high[rows] = 1.0 - lowest
        flagged[rows] = lowest >= part.threshold
        per_member[rows, : logits.shape[1]] = _sigmoid(logits)
        contributions[rows, : len(part.inputs)] = shares
    automated[declared] = 1.0
    low[declared] = high[declared] = 0.0
    flagged[declared] = True
    per_member[declared] = 1.0
    return Scores(
        signals=signals,
        automated=automated,
        authenticity=1.0 - automated,
        low=low,
        high=high,
        flagged=flagged,
        used=used,
        contributions=contributions,
        members=per_member,
    )


# --- reasons as compact codes ----------------------------------------------------------

#: A reason code is ``<input>:automated`` (the input made the account look automated)
#: or ``<input>:human``; plus ``declared_bot`` and ``too_few_inputs``. Texts for each,
#: in every language, are in :mod:`kompas.people.texts`.
DECLARED_CODE = "declared_bot"
UNKNOWN_CODE = "too_few_inputs"
TOP = 3


def reason_indices(scores: Scores, top: int = TOP) -> tuple[npt.NDArray[np.intp], Array]:
    """Per account, the ``top`` inputs that moved its score most (indices into
    :data:`INPUTS`, ``-1`` for none) and their shares of the logit (+ = towards automated)."""
    shares = scores.contributions
    order = np.argsort(-np.abs(shares), axis=1, kind="stable")[:, :top]
    picked = np.take_along_axis(shares, order, axis=1)
    order = np.where(picked == 0.0, -1, order)
    return order, picked


def codes(scores: Scores, row: int, top: int = TOP) -> list[str]:
    """The reason codes of one account, most important first."""
    used = int(scores.used[row])
    if used == DECLARED:
        return [DECLARED_CODE]
    if used == UNKNOWN:
        return [UNKNOWN_CODE]
    order, shares = reason_indices(scores, top)
    return [
        f"{INPUTS[i]}:{'automated' if share > 0 else 'human'}"
        for i, share in zip(order[row].tolist(), shares[row].tolist(), strict=True)
        if i >= 0
    ]


def reasons(scores: Scores, row: int, top: int = TOP) -> list[dict[str, Any]]:
    """One account's reasons as objects: code, the input's value, and its share of the
    logit of P(automated) (``weight``; positive = towards automated)."""
    found: list[dict[str, Any]] = []
    for code in codes(scores, row, top):
        name = code.partition(":")[0]
        if name in INPUTS:
            value = float(scores.signals[name][row])
            share = float(scores.contributions[row, INPUTS.index(name)])
            found.append({"code": code, "value": round(value, 4), "weight": round(share, 3)})
        else:
            found.append({"code": code, "value": None, "weight": None})
    return found


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


def pick(table: list[bytes], index: npt.NDArray[np.intp]) -> Fragments:
    """``table[index]`` per account: one fragment when it is the same for every account."""
    if not len(index):
        return []
    if (index == index[0]).all():
        return table[int(index[0])]
    return list(np.array(table, dtype=object)[index].tolist())


def reason_parts(scores: Scores, top: int = TOP) -> list[Fragments]:
    """The reason codes of a batch as JSON arrays, as columns of byte fragments (see
    :data:`Fragments`): a code is a fixed string, so each slot is one index into a table
    of the few possible fragments."""
    count = len(scores.used)
    if not count:
        return []
    order, shares = reason_indices(scores, top)
    names = [f'"{name}:{effect}"'.encode() for name in INPUTS for effect in ("human", "automated")]
    # Slot fragments: nothing, the first code, a later code (after a comma).
    first = [b"", *names]
    later = [b"", *(b"," + n for n in names)]
    slot = np.where(order >= 0, order * 2 + (shares > 0) + 1, 0)
    opening = [b"[", b'["' + UNKNOWN_CODE.encode() + b'"', b"[", b"[", b'["declared_bot"']
    parts: list[Fragments] = [pick(opening, np.where(scores.used == UNKNOWN, 1, scores.used + 1))]
    scored = (scores.used == PROFILE) | (scores.used == POSTS)
    for k in range(order.shape[1]):
        chosen = np.where(scored, slot[:, k], 0)
        parts.append(pick(first if k == 0 else later, chosen))
    parts.append(b"]")
    return parts
