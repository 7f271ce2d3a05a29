"""People pillar: insularity on small constructed graphs with known answers, engagement,
relevance and the verdict's arithmetic."""

from __future__ import annotations

import math

import pytest

from kompas.people import authenticity
from kompas.people.engagement import Tier, engagement, merge_tiers, tiers_from_network
from kompas.people.insularity import club_of, insularity
from kompas.people.profiles import normalise
from kompas.people.relevance import relevance, terms
from kompas.people.verdict import MAYBE, NOT, WORTH, research


def test_club_of_three_with_one_outsider() -> None:
    # A talks 3 times each with B, C and D. B and C talk only with A and each other;
    # D talks with strangers. The club is {B, C}: 6 of A's 9 interactions.
    graph = {
        "A": {"B": 3, "C": 3, "D": 3},
        "B": {"A": 2, "C": 1},
        "C": {"A": 1, "B": 1},
        "D": {"X": 4, "Y": 1},
    }
    found = insularity("A", graph, user="me")
    assert found.club == ("B", "C")
    assert (found.inside, found.interactions) == (6, 9)
    assert found.share_inside == pytest.approx(6 / 9)
    assert found.outsiders_answered == 1
    assert found.answers_user == 0


def test_peeling_cascades() -> None:
    # B sends 1 of 3 inside (to C): out. C then sends its only interaction to B, who is
    # no longer in: out too. Nobody is left, whatever A's weights.
    graph = {"A": {"B": 5, "C": 5}, "B": {"C": 1, "Z": 2}, "C": {"B": 1}}
    assert club_of("A", graph) == set()
    assert insularity("A", graph).share_inside == 0.0


def test_closed_club_that_never_answers_the_user() -> None:
    # A perfectly closed triangle: everything stays inside.
    graph = {"A": {"B": 2, "C": 2}, "B": {"A": 1, "C": 1}, "C": {"A": 1, "B": 1}}
    found = insularity("A", graph, user="me")
    assert found.share_inside == 1.0
    assert found.outsiders_answered == 0
    assert found.answers_user == 0
    # Unknown partners cannot be shown to be in a club.
    assert insularity("A", {"A": {"B": 1}}).club == ()
    assert insularity("nobody", {}).share_inside is None


def test_the_user_counts_as_an_outsider_answered() -> None:
    graph = {"A": {"B": 1, "me": 1}, "B": {"A": 1}}
    found = insularity("A", graph, user="me")
    assert found.club == ("B",)
    assert found.answers_user == 1
    assert found.share_inside == 0.5


def _profile(followers: int, likes: list[int]) -> dict:  # type: ignore[type-arg]
    return {
        "id": "1",
        "username": "ada",
        "acct": "ada",
        "followers_count": followers,
        "following_count": 10,
        "recent_posts": [
            {"id": str(i), "favourites_count": n, "reblogs_count": 0, "content": "python"}
            for i, n in enumerate(likes)
        ],
    }


def test_engagement_against_the_tier() -> None:
    tiers = [Tier(0, None, 0, "none"), Tier(1000, 0.01, 50, "test")]
    # 10,000 followers, 2 likes per post: 0.02% of followers, 0.02 of the tier's 1%.
    found = engagement(normalise(_profile(10_000, [1, 3])), tiers)
    assert found.per_post == 2.0
    assert found.rate == pytest.approx(0.0002)
    assert found.ratio == pytest.approx(0.02)
    assert found.inflated is True
    assert "inflated" in found.reason
    healthy = engagement(normalise(_profile(10_000, [100, 120])), tiers)
    assert healthy.ratio == pytest.approx(1.1)
    assert healthy.inflated is False
    small = engagement(normalise(_profile(50, [0])), tiers)
    assert small.expected_rate is None and small.inflated is None


def test_network_tiers_and_merging() -> None:
    accounts = [(1500, 15.0)] * 9 + [(2000, 40.0)] * 2
    tiers = tiers_from_network(accounts, (0, 1000))
    # 11 accounts of ≥1000: rates 0.01 (nine) and 0.02 (two): median 0.01.
    assert tiers[1].median == pytest.approx(0.01) and tiers[1].n == 11
    assert tiers[0].median is None
    merged = merge_tiers(tiers, [Tier(0, 0.5, 20, "labelled"), Tier(1000, 0.9, 20, "labelled")])
    assert [(t.median, t.source) for t in merged] == [(0.5, "labelled"), (0.01, "your network")]


def test_relevance_by_hand() -> None:
    assert terms(["Python, python and #Rust! https://x.example/python"]) == {
        "python": 2,
        "rust": 1,
    }
    # Vectors (python 2, rust 1) and (python 1, golang 1): 2 / (√5 · √2).
    found = relevance(["python python rust"], ["python golang"])
    assert found.similarity == pytest.approx(round(2 / (math.sqrt(5) * math.sqrt(2)), 4))
    assert found.shared == ("python",)
    assert relevance([""], ["python"]).similarity is None


def test_verdict_follows_the_points() -> None:
    model = authenticity.shipped()
    tiers = [Tier(0, 0.01, 50, "test")]
    dated = {**_profile(200, [2, 2]), "created_at": "2019-01-01T00:00:00Z"}
    profile = normalise({**dated, "observed_at": "2024-01-01T00:00:00Z"})
    graph = {"ada": {"me": 2, "bob": 1}, "me": {"ada": 1}}
    found = research(profile, model, tiers, graph, ["python everywhere"], user="me")
    assert [r.signal for r in found.reasons] == [
        "authenticity",
        "engagement_ratio",
        "share_inside_club",
        "reciprocity",
        "relevance",
    ]
    assert found.points == sum(r.points for r in found.reasons)
    expected = WORTH if found.points >= 2 else (NOT if found.points < 0 else MAYBE)
    assert found.verdict == expected
    assert found.reciprocity == {"they_to_you": 2, "you_to_them": 1}
    # It answered the user and shares the topic: at least those two points.
    assert {r.signal: r.points for r in found.reasons}["reciprocity"] == 1
    assert {r.signal: r.points for r in found.reasons}["relevance"] == 1
    assert all(r.text() and r.text("fr") != r.text() for r in found.reasons)
    # Without a creation date there is too little to judge: unknown, never a guess.
    thin = research(normalise(_profile(200, [2, 2])), model, tiers, graph, [], user="me")
    assert (thin.verdict, thin.points, thin.authenticity) == ("unknown", None, None)
