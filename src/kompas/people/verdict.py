"""Research on one account and its verdict: ``worth your time`` / ``maybe`` /
``probably not``, with every reason and the number behind it.

Each finding adds points (+1 for, −1 or −2 against, 0 for a note); the verdict follows
the total: two or more is *worth your time*, below zero is *probably not*, the rest is
*maybe*. When too little is known to judge authenticity (no age, or no count at all),
the verdict is *unknown* with the next step to learn more, never a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from kompas.people import authenticity, texts
from kompas.people.engagement import Engagement, Tier, engagement
from kompas.people.insularity import Graph, Insularity, insularity
from kompas.people.profiles import Profile
from kompas.people.relevance import Relevance, relevance
from kompas.people.signals import SIGNALS, columns_from_profiles

WORTH = "worth your time"
MAYBE = "maybe"
NOT = "probably not"
UNKNOWN = "unknown"
#: Above this share of interactions inside its club, an account that answers nobody
#: outside counts as insular.
INSULAR_SHARE = 0.7
RELEVANT = 0.15
IRRELEVANT = 0.03


@dataclass(frozen=True, slots=True)
class Reason:
    """One finding: the signal, its number, its effect on the verdict, and what it says as
    a code with its numbers (shown in any language by :meth:`text`)."""

    signal: str
    value: Any
    points: int
    code: str
    params: dict[str, Any]

    def text(self, lang: str = texts.DEFAULT) -> str:
        """The finding in words."""
        return reason_text(self.code, self.params, lang)


def reason_text(code: str, params: dict[str, Any], lang: str = texts.DEFAULT) -> str:
    """A finding's code and numbers in words: model reasons (``why``) and the next step
    (``next``) are themselves codes, expanded in the same language."""
    shown = dict(params)
    if "why" in shown:
        shown["why"] = "; ".join(
            texts.reason(r["code"], r.get("value"), lang) for r in shown["why"]
        )
    if "next" in shown:
        step = shown["next"]
        shown["next"] = texts.say(step["code"], lang, **step.get("params", {}))
    return texts.say(code, lang, **shown)


@dataclass(frozen=True)
class Research:
    """Everything kompas found out about one account."""

    platform: str
    id: str
    handle: str
    verdict: str
    #: The findings' points added up; ``None`` when the verdict is unknown.
    points: int | None
    reasons: list[Reason]
    authenticity: float | None
    uncertainty: tuple[float, float] | None
    authenticity_reasons: list[dict[str, Any]]
    #: Which model answered (``profile``, ``posts``), ``declared``, or ``None``.
    model: str | None
    #: What to do to learn enough for a verdict, when it is unknown.
    next_step: dict[str, Any] | None
    signals: dict[str, Any]
    engagement: Engagement
    insularity: Insularity
    relevance: Relevance
    reciprocity: dict[str, int | None] = field(default_factory=dict)

    def as_json(self, lang: str = texts.DEFAULT) -> dict[str, Any]:
        """The ``kompas people research --json`` shape, texts in ``lang``."""
        data = asdict(self)
        data["uncertainty"] = list(self.uncertainty) if self.uncertainty else None
        data["reasons"] = [{**asdict(r), "text": r.text(lang)} for r in self.reasons]
        data["authenticity_reasons"] = [
            {**r, "text": texts.reason(r["code"], r["value"], lang)}
            for r in self.authenticity_reasons
        ]
        if self.next_step is not None:
            data["next_step"] = {
                **self.next_step,
                "text": texts.say(self.next_step["code"], lang, **self.next_step["params"]),
            }
        return data


def _clean(value: float) -> float | None:
    return None if value != value else round(value, 6)


def next_step(profile: Profile, from_file: bool = False) -> dict[str, Any]:
    """How to learn enough about ``profile`` for a verdict: a public lookup where the
    platform has one, else a profile file."""
    if from_file:
        return {"code": "next.file", "params": {}}
    if profile.platform == "mastodon":
        account = "@" + profile.handle.lstrip("@") if "@" in profile.handle else profile.id
        return {"code": "next.lookup", "params": {"account": account}}
    if profile.platform == "bluesky":
        return {"code": "next.lookup", "params": {"account": profile.handle or profile.id}}
    return {"code": "next.x", "params": {}}


def _authenticity(
    scores: authenticity.Scores, profile: Profile, from_file: bool
) -> tuple[Reason, dict[str, Any] | None]:
    used = int(scores.used[0])
    if used == authenticity.DECLARED:
        return Reason("authenticity", 0.0, -2, "authenticity.declared", {}), None
    if used == authenticity.UNKNOWN:
        step = next_step(profile, from_file)
        return Reason("authenticity", None, 0, "authenticity.unknown", {"next": step}), step
    score = round(float(scores.authenticity[0]), 2)
    params = {
        "score": score,
        "low": round(float(scores.low[0]), 2),
        "high": round(float(scores.high[0]), 2),
        "why": authenticity.reasons(scores, 0),
    }
    if scores.flagged[0]:
        return Reason("authenticity", score, -2, "authenticity.flagged", params), None
    if float(scores.low[0]) >= 0.5:
        return Reason("authenticity", score, 1, "authenticity.person", params), None
    return Reason("authenticity", score, 0, "authenticity.unsure", params), None


def research(
    profile: Profile,
    model: authenticity.Model,
    tiers: Sequence[Tier],
    graph: Graph,
    user_texts: Sequence[str] = (),
    user: str | None = None,
    key: str | None = None,
    from_file: bool = False,
) -> Research:
    """Scores ``profile`` and weighs every finding into a verdict.

    ``graph`` holds interactions (``graph[a][b]`` = times ``a`` replied to, mentioned or
    reposted ``b``), the account's own included, under ``key`` (default: the handle);
    ``user`` is the reader's key in it. ``from_file``: the profile came from a file (the
    next step for an unknown verdict is then to complete the file).
    """
    columns = columns_from_profiles([profile])
    scores = authenticity.score(model, columns)
    first, step = _authenticity(scores, profile, from_file)
    found: list[Reason] = [first]
    audience = engagement(profile, tiers)
    found.append(
        Reason(
            "engagement_ratio",
            audience.ratio,
            -1 if audience.inflated else 0,
            audience.code,
            audience.params,
        )
    )
    key = key or profile.handle or profile.id
    club = insularity(key, graph, user)
    insular = (
        club.share_inside is not None
        and club.share_inside >= INSULAR_SHARE
        and club.outsiders_answered == 0
    )
    found.append(
        Reason("share_inside_club", club.share_inside, -1 if insular else 0, club.code, club.params)
    )
    they = club.answers_user
    you = graph.get(user, {}).get(key, 0) if user is not None else None
    own = user is not None and key == user
    if own:
        # Your own account: talking with yourself and your own topics prove nothing.
        they = you = None
        found.append(Reason("reciprocity", None, 0, "reciprocity.own", {}))
    elif they is not None and you is not None:
        params = {"they": they, "you": you}
        if they > 0:
            code, points = "reciprocity.both", 1
        elif you > 0:
            code, points = "reciprocity.you_only", 0
        else:
            code, points = "reciprocity.none", 0
        found.append(
            Reason("reciprocity", {"they_to_you": they, "you_to_them": you}, points, code, params)
        )
    topics = relevance([p.text for p in profile.recent_posts] + [profile.bio], user_texts)
    similarity = topics.similarity
    points = 0
    if own:
        topics = Relevance(
            None, (), topics.account_terms, topics.user_terms, "your own account", "relevance.own"
        )
        similarity = None
    elif similarity is not None:
        points = 1 if similarity >= RELEVANT else (-1 if similarity < IRRELEVANT else 0)
    found.append(Reason("relevance", similarity, points, topics.code, topics.params))
    used = int(scores.used[0])
    total: int | None = sum(r.points for r in found)
    if used == authenticity.UNKNOWN:
        verdict, total = UNKNOWN, None
    else:
        assert total is not None
        verdict = WORTH if total >= 2 else (NOT if total < 0 else MAYBE)
    signals = {name: _clean(float(scores.signals[name][0])) for name in SIGNALS}
    known = used != authenticity.UNKNOWN
    return Research(
        platform=profile.platform,
        id=profile.id,
        handle=profile.handle,
        verdict=verdict,
        points=total,
        reasons=found,
        authenticity=round(float(scores.authenticity[0]), 4) if known else None,
        uncertainty=(round(float(scores.low[0]), 4), round(float(scores.high[0]), 4))
        if known
        else None,
        authenticity_reasons=authenticity.reasons(scores, 0) if known else [],
        model=authenticity.USED[used],
        next_step=step,
        signals=signals,
        engagement=audience,
        insularity=club,
        relevance=topics,
        reciprocity={"they_to_you": they, "you_to_them": you},
    )
