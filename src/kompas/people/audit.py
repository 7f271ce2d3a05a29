"""Audit of one's own audience: the estimated share of inauthentic followers with a
confidence interval, the most suspicious ones with reasons, and the real reach.

The share is the mean of the model's P(automated) over the followers that could be
scored. Its 95% interval comes from a bootstrap that resamples the followers *and* picks
an ensemble member each time, so it holds both the sampling and the model's uncertainty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kompas.people import authenticity, texts
from kompas.people.profiles import Profile
from kompas.people.signals import columns_from_profiles

RESAMPLES = 1000
TOP = 10


@dataclass(frozen=True)
class Audit:
    """What the audit found, and over how many followers."""

    followers: int
    scored: int
    coverage: float | None
    inauthentic_share: float | None
    interval: tuple[float, float] | None
    real_reach: int | None
    real_reach_interval: tuple[int, int] | None
    suspicious: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The ``kompas people audit --json`` shape."""
        return {
            "followers": self.followers,
            "scored": self.scored,
            "coverage": self.coverage,
            "inauthentic_share": self.inauthentic_share,
            "interval": list(self.interval) if self.interval else None,
            "real_reach": self.real_reach,
            "real_reach_interval": list(self.real_reach_interval)
            if self.real_reach_interval
            else None,
            "suspicious": self.suspicious,
            "next_step": self.next_step(),
        }

    def next_step(self, lang: str = texts.DEFAULT) -> str | None:
        """What to do when nothing could be scored, in words; ``None`` otherwise."""
        if self.scored:
            return None
        if not self.followers:
            return texts.say("audit.no_followers", lang)
        return texts.say("audit.none_scorable", lang, followers=self.followers)


def audit(
    profiles: Sequence[Profile],
    model: authenticity.Model,
    followers: int | None = None,
    seed: int = 0,
    top: int = TOP,
) -> Audit:
    """Audits ``profiles`` among ``followers`` followers (default: as many as there are
    profiles); profiles with too little known to score are counted, not scored."""
    total = len(profiles) if followers is None else followers
    if not profiles:
        return Audit(total, 0, 0.0 if total else None, None, None, None, None)
    columns = columns_from_profiles(profiles)
    scores = authenticity.score(model, columns)
    scored = np.flatnonzero(scores.used != authenticity.UNKNOWN)
    n = len(scored)
    if not n:
        return Audit(total, 0, 0.0 if total else None, None, None, None, None)
    members = scores.members[scored]  # P(automated) per account and member
    members = np.where(np.isnan(members), scores.automated[scored, None], members)
    share = float(scores.automated[scored].mean())
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, (RESAMPLES, n))
    member = rng.integers(0, members.shape[1], (RESAMPLES, 1))
    resampled = members[picks, member].mean(axis=1)
    low, high = (float(v) for v in np.percentile(resampled, [2.5, 97.5]))
    order = scored[np.argsort(scores.authenticity[scored], kind="stable")[:top]]
    suspicious = [
        {
            "id": columns.ids[i],
            "platform": columns.platforms[i],
            "handle": columns.handles[i],
            "authenticity": round(float(scores.authenticity[i]), 4),
            "uncertainty": [round(float(scores.low[i]), 4), round(float(scores.high[i]), 4)],
            "likely_automated": bool(scores.flagged[i]),
            "reasons": [
                {**r, "text": texts.reason(r["code"], r["value"])}
                for r in authenticity.reasons(scores, int(i))
            ],
        }
        for i in order
    ]
    return Audit(
        followers=total,
        scored=n,
        coverage=round(n / total, 4) if total else None,
        inauthentic_share=round(share, 4),
        interval=(round(low, 4), round(high, 4)),
        real_reach=round(total * (1 - share)),
        real_reach_interval=(round(total * (1 - high)), round(total * (1 - low))),
        suspicious=suspicious,
    )
