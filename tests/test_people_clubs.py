"""Your own clubs (#12): communities in the user's interactions and follows, on a
synthetic graph with known communities and on a real X archive."""

from __future__ import annotations

import json

from conftest import X_ARCHIVE, Kompas
from kompas.people.clubs import clubs
from kompas.store.people import Tie
from samples import x_file


def _tie(source: str, target: str, kind: str = "reply", count: int = 1) -> Tie:
    return Tie("mastodon", source, target, kind, count)


def test_two_known_communities_a_bridge_and_who_answers() -> None:
    art = [f"a{n}" for n in range(5)]
    birds = [f"b{n}" for n in range(5)]
    ties = []
    for group in (art, birds):
        ties += [_tie(x, y, count=3) for x in group for y in group if x < y]
    # c talks mostly with the art club, once with the birds: a bridge.
    ties += [_tie("c", "a0", count=2), _tie("c", "b0", count=1)]
    # The user: 10 replies to each artist, 1 to each birder (60 in all), 2 replies to c.
    ties += [_tie("me", a, count=10) for a in art] + [_tie("me", b, count=1) for b in birds]
    ties += [_tie("me", "c", count=2)]
    # b1 answers; b2 follows back; b3 follows the user, who does not follow it.
    ties += [_tie("b1", "me", "mention", 2), _tie("me", "b2", "follow"), _tie("b2", "me", "follow")]
    ties += [_tie("b3", "me", "follow")]
    found = clubs({"mastodon": "me"}, ties)
    members = [{m.account for m in club.members} for club in found.clubs]
    assert members == [
        {f"mastodon:{a}" for a in [*art, "c"]},
        {f"mastodon:{b}" for b in birds},
    ]
    assert found.interactions == 57
    # By hand: 50 + 2 of 57 interactions go to the art club, 5 of 57 to the birds.
    assert [c.attention for c in found.clubs] == [round(52 / 57, 4), round(5 / 57, 4)]
    assert found.unclustered == 0 and found.usual == 1
    bridges = {b.account: b.clubs for b in found.bridges}
    assert bridges["mastodon:c"] == [1, 2]
    outside = {o.account: (o.answered, o.follows_back, o.club) for o in found.outside}
    assert outside == {"mastodon:b1": (2, False, 2), "mastodon:b2": (0, True, 2)}


def test_an_empty_store_has_no_clubs(kompas: Kompas) -> None:
    result = kompas("people", "clubs", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert (found["accounts"], found["clubs"], found["interactions"]) == (0, [], 0)
    assert found["unclustered_attention"] is None
    assert "No graph yet" in kompas("people", "clubs").stdout


def test_clubs_of_a_real_x_archive(kompas: Kompas) -> None:
    assert kompas("import", "x-archive", X_ARCHIVE).exit_code == 0
    result = kompas("people", "clubs", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    # Read without kompas: accounts that follow the user and that the user follows.
    followers = {f["follower"]["accountId"] for f in x_file(X_ARCHIVE, "follower")}
    following = {f["following"]["accountId"] for f in x_file(X_ARCHIVE, "following")}
    mutual = {f"x:{a}" for a in followers & following}
    assert found["accounts"] >= len(followers | following)
    usual = next((c for c in found["clubs"] if c["number"] == found["usual"]), None)
    inside = {m["account"] for m in usual["members"]} if usual else set()
    shown = {o["account"] for o in found["outside"] if o["follows_back"]}
    assert shown == mutual - inside
    # The export holds only the user's own posts: accounts addressed in one post are tied,
    # and that is enough for several clubs.
    assert len(found["clubs"]) >= 2 and found["interactions"] > 0
    shares = [c["attention"] for c in found["clubs"]] + [found["unclustered_attention"]]
    assert abs(sum(shares) - 1.0) < 1e-3
    assert result.exit_code == 0
    assert "club(s)" in kompas("people", "clubs").stdout
