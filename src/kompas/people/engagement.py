"""Engagement against expectation: does the audience answer the way audiences of the same
size do? Many followers and little engagement suggests an inflated audience."""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kompas.people.profiles import Profile
from kompas.people.texts import say

#: Below this share of the tier's median engagement rate, the audience looks inflated.
INFLATED_RATIO = 0.1
#: Audiences smaller than this are never called inflated: too few to judge.
MIN_FOLLOWERS = 1000
#: A tier needs this many reference accounts to set an expectation.
MIN_REFERENCES = 10


@dataclass(frozen=True, slots=True)
class Tier:
    """What accounts with at least ``min_followers`` followers get per post, relative to
    their followers (likes + reposts per post / followers)."""

    min_followers: int
    median: float | None
    n: int
    source: str


@dataclass(frozen=True, slots=True)
class Engagement:
    """One account's engagement against its tier's expectation, with the numbers."""

    followers: int | None
    posts_seen: int
    per_post: float | None
    rate: float | None
    expected_rate: float | None
    ratio: float | None
    tier: int | None
    reference: str | None
    inflated: bool | None
    reason: str
    #: The reason as a code and its numbers, for any language (:func:`texts.say`).
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)


def tiers_from_model(tiers: Iterable[dict[str, Any]]) -> list[Tier]:
    """The shipped model's tiers (from the labelled humans)."""
    return [
        Tier(int(t["min_followers"]), t.get("median"), int(t.get("n", 0)), "labelled humans")
        for t in tiers
    ]


def tiers_from_network(accounts: Iterable[tuple[int, float]], bounds: Sequence[int]) -> list[Tier]:
    """Tiers from the user's own network: (followers, likes + reposts per post) of the
    accounts the store knows."""
    rates: dict[int, list[float]] = {b: [] for b in bounds}
    for followers, per_post in accounts:
        if followers > 0:
            bound = bounds[max(bisect.bisect_right(list(bounds), followers) - 1, 0)]
            rates[bound].append(per_post / followers)
    return [
        Tier(
            b,
            statistics.median(v) if len(v) >= MIN_REFERENCES else None,
            len(v),
            "your network",
        )
        for b, v in rates.items()
    ]


def merge_tiers(primary: list[Tier], fallback: list[Tier]) -> list[Tier]:
    """Per tier, the first source with an expectation."""
    by_bound = {t.min_followers: t for t in fallback}
    merged = {**by_bound}
    for tier in primary:
        if tier.median is not None or tier.min_followers not in merged:
            merged[tier.min_followers] = tier
    return [merged[b] for b in sorted(merged)]


def engagement(profile: Profile, tiers: Sequence[Tier]) -> Engagement:
    """Likes + reposts per original post over followers, against the tier's median."""
    own = [p for p in profile.recent_posts if p.kind != "repost" and (p.likes is not None)]
    followers = profile.followers
    per_post = sum((p.likes or 0) + (p.reposts or 0) for p in own) / len(own) if own else None
    tier = None
    for candidate in tiers:
        if followers is not None and followers >= candidate.min_followers:
            tier = candidate
    rate = per_post / followers if per_post is not None and followers else None
    expected = tier.median if tier else None
    ratio = rate / expected if rate is not None and expected else None
    inflated: bool | None = None
    if ratio is not None and followers is not None:
        inflated = followers >= MIN_FOLLOWERS and ratio < INFLATED_RATIO
    params: dict[str, Any] = {}
    if per_post is None:
        code = "engagement.unknown"
    elif expected is None or tier is None:
        code = "engagement.no_reference"
        params = {"per_post": round(per_post, 1), "followers": followers or 0}
    else:
        assert ratio is not None
        code = "engagement.inflated" if inflated else "engagement.compared"
        params = {
            "per_post": round(per_post, 1),
            "ratio": float(f"{ratio:.2g}"),
            "tier": tier.min_followers,
            "reference": tier.source,
        }
    reason = say(code, **params)
    return Engagement(
        followers=followers,
        posts_seen=len(own),
        per_post=per_post,
        rate=rate,
        expected_rate=expected,
        ratio=ratio,
        tier=tier.min_followers if tier else None,
        reference=tier.source if tier else None,
        inflated=inflated,
        reason=reason,
        code=code,
        params=params,
    )
