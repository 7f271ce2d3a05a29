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
    "posting_regularity",
    "likes_per_post_per_follower",
    "reposts_per_post_per_follower",
    "default_profile",
    "empty_bio",
    "bio_length",
    "name_handle_similarity",
    "handle_digits",
    "handle_randomness",
    "handle_length",
    "declared_bot",
)

#: The signals of a profile alone (no recent posts needed).
PROFILE_INPUTS = (
    "age_days",
    "posts_per_day",
    "followers",
    "following",
    "followers_following_ratio",
    "lists_per_follower",
    "default_profile",
    "empty_bio",
    "bio_length",
    "name_handle_similarity",
    "handle_digits",
    "handle_randomness",
    "handle_length",
)
#: The signals that need the account's recent posts.
ACTIVITY_INPUTS = ("original_share", "repost_share", "reply_share", "links_per_post", "clients")

NAN = float("nan")
_SECONDS_PER_DAY = 86400.0
#: Fields of :class:`Columns` that are arrays (the rest are lists of strings).
_TEXT_FIELDS = frozenset({"handles", "names", "ids", "platforms"})


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
    regularity: Array
    #: How many recent posts were seen (0 without any).
    posts_seen: Array
    likes_per_post: Array
    reposts_per_post: Array
    default_profile: Array
    bio_length: Array
    declared_bot: Array
    #: Display names ("" when unknown).
    names: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.handles)

    def followers_following_ratio(self) -> Array:
        """(followers + 1) / (following + 1), or the dataset's own ratio when counts are unknown."""
        counted = (self.followers + 1.0) / (self.following + 1.0)
        return np.where(np.isnan(counted), self.ratio, counted)


def array_fields() -> list[str]:
    """The names of :class:`Columns`' array fields."""
    return [name for name in Columns.__dataclass_fields__ if name not in _TEXT_FIELDS]


def _activity(profile: Profile) -> tuple[float, ...]:
    """Shares of kinds, clients, links, regularity and received engagement over recent
    posts, then the posting rate the posts show."""
    posts = profile.recent_posts
    if not posts:
        return (NAN,) * 9 + (0.0,)
    n = len(posts)
    kinds = [p.kind for p in posts]
    reposts = kinds.count("repost")
    replies = kinds.count("reply")
    clients = {p.client for p in posts if p.client}
    own = [p for p in posts if p.kind != "repost"]
    likes = [p.likes for p in own if p.likes is not None]
    shared = [p.reposts for p in own if p.reposts is not None]
    times = sorted(p.created_at.timestamp() for p in posts if p.created_at is not None)
    rate = regularity = NAN
    if len(times) >= 2:
        span = (times[-1] - times[0]) / _SECONDS_PER_DAY
        rate = (len(times) - 1) / span if span > 0 else NAN
    if len(times) >= 3:
        gaps = np.diff(np.array(times))
        mean = float(gaps.mean())
        # How even the gaps between posts are: 0 = clockwork, ~1 = random (Poisson).
        regularity = float(gaps.std()) / mean if mean > 0 else NAN
    return (
        (n - reposts - replies) / n,
        reposts / n,
        replies / n,
        float(len(clients)) if clients else NAN,
        sum(p.links for p in own) / len(own) if own else NAN,
        regularity,
        sum(likes) / len(likes) if likes else NAN,
        sum(shared) / len(shared) if shared else NAN,
        rate,
        float(n),
    )


def _num(value: int | None) -> float:
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
    elif activity[8] == activity[8]:
        rate = activity[8]
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
        *activity[:6],
        activity[9],
        *activity[6:8],
        default,
        float(len(p.bio.strip())),
        float(p.declared_bot),
    )


def flat_row(facts: Flat, now: datetime) -> tuple[float, ...]:
    """:func:`profile_row` of a profile without recent posts, from the facts of
    :func:`kompas.people.profiles.flat`; ``now`` is the moment of scoring, used for ages
    when the record does not say when it was observed."""
    _, _, _, created, observed, followers, following, posts, listed, default, bio, bot, _ = facts
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
        NAN,  # the activity inputs: unknown without recent posts
        NAN,
        NAN,
        NAN,
        NAN,
        NAN,
        0.0,  # no recent posts seen
        NAN,
        NAN,
        default,
        bio,
        bot,
    )


_ROW = (
    "age_days",
    "followers",
    "following",
    "listed",
    "posts_per_day",
    "original_share",
    "repost_share",
    "reply_share",
    "clients",
    "links_per_post",
    "regularity",
    "posts_seen",
    "likes_per_post",
    "reposts_per_post",
    "default_profile",
    "bio_length",
    "declared_bot",
)


def columns_from_rows(
    rows: Sequence[tuple[float, ...]],
    handles: list[str],
    ids: list[str],
    platforms: list[str],
    names: list[str] | None = None,
) -> Columns:
    """Columns from :func:`profile_row` / :func:`flat_row` rows and the accounts' names."""
    table = np.array(rows, dtype=np.float64).reshape(len(rows), len(_ROW))
    arrays: dict[str, Any] = {name: table[:, i] for i, name in enumerate(_ROW)}
    return Columns(
        handles=handles,
        ratio=np.full(len(rows), NAN),
        names=names if names is not None else [""] * len(rows),
        ids=ids,
        platforms=platforms,
        **arrays,
    )


def columns_from_profiles(profiles: Sequence[Profile]) -> Columns:
    """The signal inputs of normalised profiles."""
    return columns_from_rows(
        [profile_row(p) for p in profiles],
        [p.handle for p in profiles],
        [p.id for p in profiles],
        [p.platform for p in profiles],
        [p.display_name for p in profiles],
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
    return _encode(
        [
            "^"
            + h.lstrip("@")
            .split("@", 1)[0]
            .split(".", 1)[0]
            .lower()
            .replace("^", "~")
            .replace("$", "~")[:cut]
            + "$"
            for h in handles
        ]
    )


def _encode(texts: Sequence[str]) -> npt.NDArray[np.intp]:
    """Texts (already marked) as rows of symbols, cut at ``_WIDTH`` bytes."""
    if not texts:
        return np.zeros((0, _WIDTH), dtype=np.intp)
    raw = np.array([t.encode("utf-8") for t in texts], dtype=f"S{_WIDTH}")
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


def handle_signals(
    handles: Sequence[str], logp: Array, symbols: npt.NDArray[np.intp] | None = None
) -> tuple[Array, Array, Array]:
    """Per handle: the share of digits, the randomness (mean surprise per character in
    nats under ``logp``; higher = less like the handles people choose) and the length in
    characters (at most 30 are read). ``symbols``: the handles already encoded."""
    if symbols is None:
        symbols = encode_handles(handles)
    if not len(symbols):
        empty = np.zeros(0)
        return empty, empty, empty
    first, second = symbols[:, :-1], symbols[:, 1:]
    valid = second != _PAD
    # One flat take instead of a 2-D fancy index: the same entries, a few times faster.
    steps = np.ascontiguousarray(logp).ravel().take(first * logp.shape[1] + second)
    surprise = np.where(valid, -steps, 0.0).sum(axis=1)
    transitions = valid.sum(axis=1)
    characters = np.maximum(transitions - 1, 1)
    digits = ((symbols >= 26) & (symbols < 36)).sum(axis=1)
    length = np.maximum(transitions - 1, 0).astype(np.float64)
    return digits / characters, surprise / np.maximum(transitions, 1), length


def name_similarity(
    handles: Sequence[str], names: Sequence[str], symbols: npt.NDArray[np.intp] | None = None
) -> Array:
    """Per account, the share of the handle's letter pairs that also occur in the display
    name (lower-cased): 1 when the name spells the handle, near 0 when unrelated; NaN when
    the name is unknown (empty) or the handle has no letter pair. ``symbols``: the handles
    already encoded."""
    count = len(handles)
    if not count:
        return np.zeros(0)
    mine = _pairs(encode_handles(handles) if symbols is None else symbols)
    theirs = _pairs(_encode(["^" + n.lower()[: _WIDTH - 2] + "$" for n in names]))
    valid = mine >= 0
    # Each name's letter pairs as a row of a bitmap; the handle's pairs look themselves up
    # (flat indices: one scatter and one gather for the whole batch).
    width = SYMBOLS * SYMBOLS + 1
    seen = np.zeros(count * width, dtype=bool)
    base = (np.arange(count) * width)[:, None]
    seen[(base + np.where(theirs >= 0, theirs, width - 1)).ravel()] = True
    seen[base.ravel() + width - 1] = False  # "no pair" is never found
    found = seen[base + np.where(valid, mine, width - 1)]
    total = valid.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (found & valid).sum(axis=1) / total
    known = np.array([bool(n) for n in names]) & (total > 0)
    return np.where(known, share, NAN)


def _pairs(symbols: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Pairs of consecutive letters or digits as one number each; -1 elsewhere."""
    first, second = symbols[:, :-1], symbols[:, 1:]
    letters = (first < 36) & (second < 36)
    return np.where(letters, first * SYMBOLS + second, -1)


def signal_table(columns: Columns, logp: Array) -> dict[str, Array]:
    """Every signal in :data:`SIGNALS`, as columns."""
    symbols = encode_handles(columns.handles)
    digits, randomness, length = handle_signals(columns.handles, logp, symbols)
    followers = columns.followers
    with np.errstate(divide="ignore", invalid="ignore"):
        per_follower = np.where(followers > 0, 1.0 / followers, NAN)
        lists = columns.listed * per_follower
    bio = columns.bio_length
    names = columns.names or [""] * len(columns)
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
        "posting_regularity": columns.regularity,
        "likes_per_post_per_follower": columns.likes_per_post * per_follower,
        "reposts_per_post_per_follower": columns.reposts_per_post * per_follower,
        "default_profile": columns.default_profile,
        "empty_bio": np.where(np.isnan(bio), NAN, bio == 0),
        "bio_length": bio,
        "name_handle_similarity": name_similarity(columns.handles, names, symbols),
        "handle_digits": digits,
        "handle_randomness": randomness,
        "handle_length": length,
        "declared_bot": columns.declared_bot,
    }


def empty_columns() -> Columns:
    """A batch of no accounts."""
    nothing = np.zeros(0)
    arrays: dict[str, Any] = {name: nothing for name in array_fields()}
    return Columns(handles=[], **arrays)
