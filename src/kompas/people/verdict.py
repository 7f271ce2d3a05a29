"""Research on one account and its verdict: ``worth your time`` / ``maybe`` /
``probably not``, with every reason and the number behind it.

Each finding adds points (+1 for, −1 or −2 against, 0 for a note); the verdict follows
the total: two or more is *worth your time*, below zero is *probably not*, the rest is
*maybe*. Unknown findings add nothing, so a thin profile ends up at *maybe*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from kompas.people import authenticity
from kompas.people.engagement import Engagement, Tier, engagement
from kompas.people.insularity import Graph, Insularity, insularity
from kompas.people.profiles import Profile
from kompas.people.relevance import Relevance, relevance
from kompas.people.signals import SIGNALS, columns_from_profiles

WORTH = "worth your time"
MAYBE = "maybe"
NOT = "probably not"
#: Above this share of interactions inside its club, an account that answers nobody
#: outside counts as insular.
INSULAR_SHARE = 0.7
RELEVANT = 0.15
IRRELEVANT = 0.03


@dataclass(frozen=True, slots=True)
class Reason:
    """One finding: the signal, its number, its effect on the verdict and in words."""

    signal: str
    value: Any
    points: int
    text: str


@dataclass(frozen=True)
class Research:
    """Everything kompas found out about one account."""

    platform: str
    id: str
    handle: str
    verdict: str
    points: int
    reasons: list[Reason]
    authenticity: float
    uncertainty: tuple[float, float]
    authenticity_reasons: list[dict[str, Any]]
    signals: dict[str, Any]
    engagement: Engagement
    insularity: Insularity
    relevance: Relevance
    reciprocity: dict[str, int | None] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The ``kompas people research --json`` shape."""
        data = asdict(self)
        data["uncertainty"] = list(self.uncertainty)
        return data


def _clean(value: float) -> float | None:
    return None if value != value else round(value, 6)


def research(
    profile: Profile,
    model: authenticity.Model,
    tiers: Sequence[Tier],
    graph: Graph,
    user_texts: Sequence[str] = (),
    user: str | None = None,
    key: str | None = None,
) -> Research:
    """Scores ``profile`` and weighs every finding into a verdict.

    ``graph`` holds interactions (``graph[a][b]`` = times ``a`` replied to, mentioned or
    reposted ``b``), the account's own included, under ``key`` (default: the handle);
    ``user`` is the reader's key in it.
    """
    columns = columns_from_profiles([profile])
    scores = authenticity.score(model, columns)
    auth = float(scores.authenticity[0])
    low, high = float(scores.low[0]), float(scores.high[0])
    flagged = 1.0 - auth >= model.threshold
    found: list[Reason] = []
    uncertainty = f"(likely between {low:.2f} and {high:.2f})"
    top = "; ".join(r["text"] for r in authenticity.reasons(model, scores, 0))
    if flagged:
        found.append(
            Reason(
                "authenticity",
                round(auth, 4),
                -2,
                f"authenticity {auth:.2f} {uncertainty} is below the model's threshold "
                f"{1 - model.threshold:.2f}: likely automated or inauthentic — {top}",
            )
        )
    else:
        points = 1 if auth >= 0.5 else 0
        found.append(
            Reason(
                "authenticity",
                round(auth, 4),
                points,
                f"authenticity {auth:.2f} {uncertainty} — {top}",
            )
        )
    audience = engagement(profile, tiers)
    found.append(
        Reason("engagement_ratio", audience.ratio, -1 if audience.inflated else 0, audience.reason)
    )
    key = key or profile.handle or profile.id
    club = insularity(key, graph, user)
    insular = (
        club.share_inside is not None
        and club.share_inside >= INSULAR_SHARE
        and club.outsiders_answered == 0
    )
    found.append(
        Reason(
            "share_inside_club",
            club.share_inside,
            -1 if insular else 0,
            club.reason + (": it talks only inside its club" if insular else ""),
        )
    )
    they = club.answers_user
    you = graph.get(user, {}).get(key, 0) if user is not None else None
    own = user is not None and key == user
    if own:
        # Your own account: talking with yourself and your own topics prove nothing.
        they = you = None
        found.append(Reason("reciprocity", None, 0, "this is your own account"))
    elif they is not None and you is not None:
        if they > 0:
            text, points = f"it interacted with you {they} time(s); you with it {you}", 1
        elif you > 0:
            text, points = f"you interacted with it {you} time(s); it never with you", 0
        else:
            text, points = "no interactions between you yet", 0
        found.append(Reason("reciprocity", {"they_to_you": they, "you_to_them": you}, points, text))
    topics = relevance([p.text for p in profile.recent_posts] + [profile.bio], user_texts)
    similarity = topics.similarity
    points = 0
    if own:
        topics = Relevance(None, (), topics.account_terms, topics.user_terms, "your own account")
        similarity = None
    elif similarity is not None:
        points = 1 if similarity >= RELEVANT else (-1 if similarity < IRRELEVANT else 0)
    found.append(Reason("relevance", similarity, points, topics.reason))
    total = sum(r.points for r in found)
    verdict = WORTH if total >= 2 else (NOT if total < 0 else MAYBE)
    signals = {name: _clean(float(scores.signals[name][0])) for name in SIGNALS}
    return Research(
        platform=profile.platform,
        id=profile.id,
        handle=profile.handle,
        verdict=verdict,
        points=total,
        reasons=found,
        authenticity=round(auth, 4),
        uncertainty=(round(low, 4), round(high, 4)),
        authenticity_reasons=authenticity.reasons(model, scores, 0),
        signals=signals,
        engagement=audience,
        insularity=club,
        relevance=topics,
        reciprocity={"they_to_you": they, "you_to_them": you},
    )
