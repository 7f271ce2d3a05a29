"""Account signals: the numbers kompas computes from a profile and its recent posts.

Signals are computed in columns (one NumPy array per signal over a batch of accounts) so
that scoring a million profiles stays a handful of vector operations per batch; the same
columns come from kompas's own profiles (:func:`columns_from_profiles`) and from the
labelled training sets (``kompas.people.datasets``), so the model sees the same inputs in
training and in use. ``NaN`` means "unknown": never guessed, shown as ``null``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from kompas.people.profiles import Flat, Profile

Array = npt.NDArray[np.float64]

#: The signals every scored profile reports, in output order.
SIGNALS = (
    "age_days",
    "posts_per_day",
    "followers",
    "following",
    "followers_following_ratio",
    "lists_per_follower",
    "original_share",
    "repost_share",
    "reply_share",
    "clients",
    "links_per_post",
    "likes_per_post_per_follower",
    "reposts_per_post_per_follower",
    "default_profile",
    "empty_bio",
    "handle_digits",
    "handle_randomness",
    "declared_bot",
)

NAN = float("nan")
_SECONDS_PER_DAY = 86400.0


@dataclass
class Columns:
    """Raw signal inputs for a batch of accounts, one array per input (NaN = unknown)."""

    handles: list[str]
    age_days: Array
    followers: Array
    following: Array
    #: followers/following when the counts themselves are unknown (Gilani gives the ratio).
    ratio: Array
    listed: Array
    posts_per_day: Array
    original_share: Array
    repost_share: Array
    reply_share: Array
    clients: Array
    links_per_post: Array
    likes_per_post: Array
    reposts_per_post: Array
    default_profile: Array
    empty_bio: Array
    declared_bot: Array
    ids: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.handles)

    def followers_following_ratio(self) -> Array:
        """(followers + 1) / (following + 1), or the dataset's own ratio when counts are unknown."""
        counted = (self.followers + 1.0) / (self.following + 1.0)
        return np.where(np.isnan(counted), self.ratio, counted)


def _activity(profile: Profile) -> tuple[float, ...]:
    """Shares of kinds, clients, links and received engagement over recent posts."""
    posts = profile.recent_posts
    if not posts:
        return (NAN,) * 8
    n = len(posts)
    kinds = [p.kind for p in posts]
    reposts = kinds.count("repost")
    replies = kinds.count("reply")
    clients = {p.client for p in posts if p.client}
    own = [p for p in posts if p.kind != "repost"]
    likes = [p.likes for p in own if p.likes is not None]
    shared = [p.reposts for p in own if p.reposts is not None]
    times = sorted(p.created_at for p in posts if p.created_at is not None)
    rate = NAN
    if len(times) >= 2:
        span = (times[-1] - times[0]).total_seconds() / _SECONDS_PER_DAY
        rate = (len(times) - 1) / span if span > 0 else NAN
    return (
        (n - reposts - replies) / n,
        reposts / n,
        replies / n,
        float(len(clients)) if clients else NAN,
        sum(p.links for p in own) / len(own) if own else NAN,
        sum(likes) / len(likes) if likes else NAN,
        sum(shared) / len(shared) if shared else NAN,
        rate,
    )


def _num(value: int | None) -> float:
    return NAN if value is None else float(value)


def _flag(value: bool | None) -> float:
    return NAN if value is None else float(value)


def profile_row(p: Profile) -> tuple[float, ...]:
    """One account's raw signal inputs, in the order :func:`columns_from_rows` reads."""
    as_of = p.as_of
    age = (
        (as_of - p.created_at).total_seconds() / _SECONDS_PER_DAY
        if p.created_at is not None
        else NAN
    )
    activity = _activity(p)
    rate = NAN
    if p.posts is not None and age == age and age > 0:
        rate = p.posts / max(age, 1.0)
    elif activity[7] == activity[7]:
        rate = activity[7]
    default = (
        NAN
        if p.default_profile is None and p.default_avatar is None
        else float(bool(p.default_profile) or bool(p.default_avatar))
    )
    return (
        age,
        _num(p.followers),
        _num(p.following),
        _num(p.listed),
        rate,
        *activity[:7],
        default,
        float(not p.bio.strip()),
        float(p.declared_bot),
    )


def flat_row(facts: Flat, now: datetime) -> tuple[float, ...]:
    """:func:`profile_row` of a profile without recent posts, from the facts of
    :func:`kompas.people.profiles.flat`; ``now`` is the moment of scoring, used for ages
    when the record does not say when it was observed."""
    _, _, _, created, observed, followers, following, posts, listed, default, empty, bot = facts
    age = (
        ((observed or now) - created).total_seconds() / _SECONDS_PER_DAY
        if created is not None
        else NAN
    )
    rate = posts / max(age, 1.0) if posts is not None and age == age and age > 0 else NAN
    return (
        age,
        NAN if followers is None else float(followers),
        NAN if following is None else float(following),
        NAN if listed is None else float(listed),
        rate,
        NAN,  # the seven activity inputs: unknown without recent posts
        NAN,
        NAN,
        NAN,
        NAN,
        NAN,
        NAN,
        default,
        empty,
        bot,
    )


def columns_from_rows(
    rows: Sequence[tuple[float, ...]],
    handles: list[str],
    ids: list[str],
    platforms: list[str],
) -> Columns:
    """Columns from :func:`profile_row` / :func:`flat_row` rows and the accounts' names."""
    table = np.array(rows, dtype=np.float64).reshape(len(rows), 15)
    return Columns(
        handles=handles,
        age_days=table[:, 0],
        followers=table[:, 1],
        following=table[:, 2],
        ratio=np.full(len(rows), NAN),
        listed=table[:, 3],
        posts_per_day=table[:, 4],
        original_share=table[:, 5],
        repost_share=table[:, 6],
        reply_share=table[:, 7],
        clients=table[:, 8],
        links_per_post=table[:, 9],
        likes_per_post=table[:, 10],
        reposts_per_post=table[:, 11],
        default_profile=table[:, 12],
        empty_bio=table[:, 13],
        declared_bot=table[:, 14],
        ids=ids,
        platforms=platforms,
    )


def columns_from_profiles(profiles: Sequence[Profile]) -> Columns:
    """The signal inputs of normalised profiles."""
    return columns_from_rows(
        [profile_row(p) for p in profiles],
        [p.handle for p in profiles],
        [p.id for p in profiles],
        [p.platform for p in profiles],
    )


# --- the handle's character-level likelihood ------------------------------------------

_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_"
_OTHER = len(_ALPHABET)  # any other character
_START = _OTHER + 1
_END = _OTHER + 2
_PAD = _OTHER + 3
SYMBOLS = _PAD + 1
_WIDTH = 32  # characters kept from a handle, with its start and end marks

_LOOKUP = np.full(256, _OTHER, dtype=np.intp)
for _i, _c in enumerate(_ALPHABET):
    _LOOKUP[ord(_c)] = _i
_LOOKUP[ord("^")] = _START
_LOOKUP[ord("$")] = _END
_LOOKUP[0] = _PAD


def handle_name(handle: str) -> str:
    """The part of a handle a person chose: ``ada`` of ``@ada@hachyderm.io`` or
    ``ada.bsky.social``, lower-cased."""
    name = handle.lstrip("@").split("@", 1)[0].split(".", 1)[0]
    return name.lower()


def encode_handles(handles: Sequence[str]) -> npt.NDArray[np.intp]:
    """Handles as symbol indices, one row each: start mark, characters, end mark, padding."""
    cut = _WIDTH - 2
    # handle_name inlined (this runs for every scored line); the array cuts at _WIDTH bytes.
    raw = np.array(
        [
            (
                "^"
                + h.lstrip("@")
                .split("@", 1)[0]
                .split(".", 1)[0]
                .lower()
                .replace("^", "~")
                .replace("$", "~")[:cut]
                + "$"
            ).encode("utf-8")
            for h in handles
        ],
        dtype=f"S{_WIDTH}",
    )
    if not len(raw):
        return np.zeros((0, _WIDTH), dtype=np.intp)
    return _LOOKUP[raw.view(np.uint8).reshape(len(raw), _WIDTH)]


def fit_handle_model(handles: Sequence[str], smoothing: float = 0.5) -> Array:
    """Log-probabilities of each next character given the previous one, from ``handles``
    (the humans of the training set), with add-``smoothing`` counts."""
    symbols = encode_handles(handles)
    counts = np.full((SYMBOLS, SYMBOLS), smoothing)
    first, second = symbols[:, :-1].ravel(), symbols[:, 1:].ravel()
    keep = second != _PAD
    np.add.at(counts, (first[keep], second[keep]), 1.0)
    counts[:, _START] = 0.0
    counts[:, _PAD] = 0.0
    counts[_PAD, :] = 1.0
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        # Impossible steps (into the start mark) get a finite floor, so the model is JSON.
        return np.maximum(np.log(counts / np.where(totals > 0, totals, 1.0)), -30.0)


def handle_signals(handles: Sequence[str], logp: Array) -> tuple[Array, Array]:
    """Per handle: the share of digits, and the randomness (mean surprise per character in
    nats under ``logp``; higher = less like the handles people choose)."""
    symbols = encode_handles(handles)
    if not len(symbols):
        empty = np.zeros(0)
        return empty, empty
    first, second = symbols[:, :-1], symbols[:, 1:]
    valid = second != _PAD
    # One flat take instead of a 2-D fancy index: the same entries, a few times faster.
    steps = np.ascontiguousarray(logp).ravel().take(first * logp.shape[1] + second)
    surprise = np.where(valid, -steps, 0.0).sum(axis=1)
    transitions = valid.sum(axis=1)
    characters = np.maximum(transitions - 1, 1)
    digits = ((symbols >= 26) & (symbols < 36)).sum(axis=1)
    return digits / characters, surprise / np.maximum(transitions, 1)


def signal_table(columns: Columns, logp: Array) -> dict[str, Array]:
    """Every signal in :data:`SIGNALS`, as columns."""
    digits, randomness = handle_signals(columns.handles, logp)
    followers = columns.followers
    with np.errstate(divide="ignore", invalid="ignore"):
        per_follower = np.where(followers > 0, 1.0 / followers, NAN)
        lists = columns.listed * per_follower
    return {
        "age_days": columns.age_days,
        "posts_per_day": columns.posts_per_day,
        "followers": followers,
        "following": columns.following,
        "followers_following_ratio": columns.followers_following_ratio(),
        "lists_per_follower": lists,
        "original_share": columns.original_share,
        "repost_share": columns.repost_share,
        "reply_share": columns.reply_share,
        "clients": columns.clients,
        "links_per_post": columns.links_per_post,
        "likes_per_post_per_follower": columns.likes_per_post * per_follower,
        "reposts_per_post_per_follower": columns.reposts_per_post * per_follower,
        "default_profile": columns.default_profile,
        "empty_bio": columns.empty_bio,
        "handle_digits": digits,
        "handle_randomness": randomness,
        "declared_bot": columns.declared_bot,
    }


#: The model's inputs: signals kompas computes on every platform, transformed to be
#: roughly symmetric. Activity inputs are unknown without recent posts. The posting rate
#: and the followers/following ratio are reported but not inputs: they did not transfer
#: between the labelled sets (see docs/people.md, "Choosing the inputs").
FEATURES = (
    "account_age",
    "handle_digits",
    "handle_randomness",
    "repost_share",
    "reply_share",
    "links_per_post",
    "clients",
)


def feature_matrix(signals: dict[str, Array]) -> Array:
    """The model's inputs (see :data:`FEATURES`) from a signal table."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.column_stack(
            [
                np.log1p(np.maximum(signals["age_days"], 0.0)),
                signals["handle_digits"],
                signals["handle_randomness"],
                signals["repost_share"],
                signals["reply_share"],
                np.log1p(signals["links_per_post"]),
                np.log1p(signals["clients"]),
            ]
        )


def empty_columns() -> Columns:
    """A batch of no accounts."""
    nothing = np.zeros(0)
    arrays: dict[str, Any] = {
        name: nothing
        for name in Columns.__dataclass_fields__
        if name not in {"handles", "ids", "platforms"}
    }
    return Columns(handles=[], **arrays)
