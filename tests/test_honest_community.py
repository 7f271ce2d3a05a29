"""Honest community answers on exports that ended long ago (issue #11): periods anchored to
the data, reciprocity from the export's own follower list, style and mix that reflect the
posts, relationships that decay to the end of the period, show handles and set bots apart.

Every expected value is derived here from the raw archive files (``samples.py`` readers and
the tweet reader of ``test_community.py``), never from kompas's own output.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import MASTODON_ARCHIVE, Kompas
from samples import mastodon_file
from test_community import (
    FOLLOWERS,
    FOLLOWING,
    ME,
    TWEETS,
    USERNAME,
    classify,
    is_quote,
    people_of,
    replied_to,
    run_json,
    x_home,
)

LAST = max(t.when for t in TWEETS)
END = datetime(LAST.year, LAST.month, LAST.day, tzinfo=UTC) + timedelta(days=1)
START = END - timedelta(days=90)
WINDOW = [t for t in TWEETS if START <= t.when < END]
#: X's assistant, an automated account the user talks to: never a relationship.
GROK = next(i for t in TWEETS for i, s in t.mentions if s.lower() == "grok")
#: A utility bot the user tags (it says so on its profile): never a relationship either.
ILLUMINATI = next(i for t in TWEETS for i, s in t.mentions if s.lower() == "iluminatibot")
BOTS = {GROK, ILLUMINATI}
__all__ = ["x_home"]  # the shared module-scoped fixture


def test_default_period_ends_where_the_data_ends(x_home: Path) -> None:
    result = Kompas(x_home)("community", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["period"]["until"] == END.isoformat()
    assert data["period"]["since"] == START.isoformat()
    assert data["period"]["anchored"] is True
    # The first thing said is where the data ends, not a page of zeros before today.
    assert result.stderr.startswith(f"Your data ends {LAST:%Y-%m-%d}; showing the 90 days")
    assert data["replies_given"]["x"] == sum(
        1 for t in WINDOW if not t.is_rt and t.reply_to and t.reply_to_user != ME
    )
    screen = Kompas(x_home)("community")
    assert screen.stdout.splitlines()[0].startswith(f"Your data ends {LAST:%Y-%m-%d}")
    assert "lurker" not in screen.stdout


def test_follow_back_over_the_whole_archive(x_home: Path) -> None:
    """The issue's case: hundreds of people replied to, almost none follow back. The
    export's own follower.js says so; the user is a one-way replier, not a connector."""
    data = run_json(x_home, "--all")
    replied = replied_to(TWEETS) - {ME}
    back = replied & FOLLOWERS
    assert data["follow_back_of"]["x"] == len(replied)
    assert data["follow_back"]["x"] == pytest.approx(len(back) / len(replied))
    assert data["reciprocity_basis"]["x"] == "follow_back"
    assert data["mutuals"]["x"] == len(FOLLOWERS & FOLLOWING)
    counts = Counter(classify(t) for t in TWEETS)
    assert counts["conversation"] / len(TWEETS) >= 0.5 and len(back) / len(replied) < 0.1
    assert data["style"]["x"] == "replier"
    assert any(f"{len(back)} of the {len(replied)}" in r for r in data["style_reasons"]["x"])
    # New connections are two-way only; one-way contacts are people reached.
    everyone = set().union(*(people_of(t) for t in TWEETS))
    assert data["people_reached"]["x"] == len(everyone - BOTS)  # a bot is not a person
    assert data["automated_accounts"]["x"] == len(BOTS)
    assert data["new_connections"]["x"] == len((everyone - BOTS) & FOLLOWERS)


def test_plain_posts_count_in_the_mix() -> None:
    """Posts of no other kind are part of the mix (a post made of words is not ignored)."""
    kinds = Counter(classify(t) for t in TWEETS)
    assert kinds["other"] > 0


def test_own_domains_make_self_promotion(x_home: Path, tmp_path: Path) -> None:
    """A link to someone else's page is sharing; to the user's own site, self-promotion."""
    moved = [
        t
        for t in TWEETS
        if classify(t) == "sharing"
        and not t.is_rt
        and not is_quote(t)
        and any("milahu.github.io" in u for u in t.urls)
    ]
    assert moved, "the sample links the user's own github.io site"
    home = tmp_path / "home"
    shutil.copytree(x_home, home)
    before = run_json(home, "--all")
    (home / "strategy.yaml").write_text(
        "version: 1\nwhy: test\ndomains: [milahu.github.io]\n", encoding="utf-8"
    )
    after = run_json(home, "--all")
    assert after["mix_counts"]["x"]["broadcast"] == before["mix_counts"]["x"]["broadcast"] + len(
        moved
    )
    assert after["mix_counts"]["x"]["sharing"] == before["mix_counts"]["x"]["sharing"] - len(moved)
    assert after["sharing"]["x"]["self_promotion"] == (
        before["sharing"]["x"]["self_promotion"] + len(moved)
    )
    assert after["sharing"]["x"]["links_shared"] == before["sharing"]["x"]["links_shared"] - len(
        moved
    )


def test_all_time_strength_counts_every_exchange(x_home: Path) -> None:
    """Over all time nothing decays to today: 179 older exchanges outrank 5 recent ones."""
    result = Kompas(x_home)("community", "people", "--all", "--top", "5", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    exchanges: Counter[str] = Counter()
    for t in TWEETS:
        for person in people_of(t):
            exchanges[person] += 1
    expected = sorted(
        ((p, n) for p, n in exchanges.items() if p not in BOTS),
        key=lambda kv: (-kv[1], f"x:{kv[0]}"),
    )[:5]
    assert [r["person"] for r in data["top"]] == [f"x:{p}" for p, _ in expected]
    assert [r["strength"] for r in data["top"]] == [float(n) for _, n in expected]
    # Handles, not ids; each row says which way the relationship goes.
    assert all(r["name"] == ", ".join(r["handles"]) and r["handles"] for r in data["top"])
    for r in data["top"]:
        account = r["accounts"][0].removeprefix("x:")
        assert r["way"] == ("two-way" if account in FOLLOWERS else "one-way")


def test_automated_accounts_are_not_relationships(x_home: Path) -> None:
    result = Kompas(x_home)("community", "people", "--all", "--top", "5000", "--json")
    data = json.loads(result.stdout)
    handles = {h.lower() for r in data["top"] for h in r["handles"]}
    assert not {"grok", "iluminatibot"} & handles
    given = {a["handles"][0]: a["given"] for a in data["automated"]}
    assert given == {
        name: sum(1 for t in TWEETS if bot in people_of(t))
        for name, bot in (("grok", GROK), ("iluminatibot", ILLUMINATI))
    }
    screen = Kompas(x_home)("community", "people", "--all")
    assert "Automated accounts you exchanged with (not ranked): " in screen.stdout
    assert "grok" in screen.stdout and "iluminatibot" in screen.stdout


def test_strength_decays_to_the_end_of_the_period(x_home: Path) -> None:
    """An old archive's relationships are as strong as they were when it ended."""
    data = json.loads(Kompas(x_home)("community", "people", "--json", "--top", "1").stdout)
    top = data["top"][0]
    account = top["accounts"][0].removeprefix("x:")
    expected = sum(
        0.5 ** ((END - t.when).total_seconds() / 86400 / 30)
        for t in TWEETS
        if t.when < END and account in people_of(t)
    )
    assert top["strength"] == pytest.approx(expected, abs=1e-3)
    assert top["strength"] > 1  # not decayed to today, months later


def test_platform_without_data_in_the_period_is_no_data(x_home: Path, tmp_path: Path) -> None:
    """X ends 2026-03; the Mastodon archive ends 2024: in the X period Mastodon has no
    data, said with its end date, never zeros and never "lurker"."""
    home = tmp_path / "home"
    shutil.copytree(x_home, home)
    assert Kompas(home)("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    data = run_json(home)
    outbox = mastodon_file(MASTODON_ARCHIVE, "outbox.json")["orderedItems"]
    mastodon_end = max(datetime.fromisoformat(i["published"]) for i in outbox)
    assert data["period"]["until"] == END.isoformat()
    assert data["coverage"]["mastodon"]["has_data"] is False
    for key in ("replies_given", "people_interacted", "style", "new_connections"):
        assert data[key]["mastodon"] is None, key
    assert data["sharing"]["mastodon"] is None and data["mix"]["mastodon"] is None
    assert data["style_reasons"]["mastodon"] == [
        f"no activity on mastodon in this period (its data ends {mastodon_end:%Y-%m-%d})"
    ]
    assert data["replies_given"]["all"] == data["replies_given"]["x"]
    screen = Kompas(home)("community")
    assert "mastodon style no data: no activity on mastodon in this period" in screen.stdout
    # Undated likes and bookmarks fit no period, whether or not the period holds data: the
    # screen counts them per platform, as the "all" column does.
    me = mastodon_file(MASTODON_ARCHIVE, "actor.json")["id"]
    undated = len(mastodon_file(MASTODON_ARCHIVE, "likes.json")["orderedItems"]) + sum(
        1
        for uri in mastodon_file(MASTODON_ARCHIVE, "bookmarks.json")["orderedItems"]
        if not uri.startswith(me + "/")
    )
    row = next(line for line in screen.stdout.splitlines() if "undated (not in" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert f"{undated:,}" in cells, row


def test_handles_from_mastodon_actor_urls() -> None:
    from kompas.community.relationships import display_handle

    assert (
        display_handle("mastodon", "https://tilde.zone/users/ftrain", None) == "ftrain@tilde.zone"
    )
    assert display_handle("mastodon", "https://indieweb.social/users/willd", "willd") == (
        "willd@indieweb.social"
    )
    assert display_handle("bluesky", "did:plc:abc", None) is None
    assert display_handle("x", "1", USERNAME) == USERNAME


def test_known_bots() -> None:
    from kompas.known_bots import is_known_bot

    assert is_known_bot("x", "Grok") and is_known_bot("x", "@grok")
    assert is_known_bot("mastodon", "oblique_strategies@botsin.space")
    assert not is_known_bot("x", USERNAME) and not is_known_bot("mastodon", None)


def test_empty_store_says_import_first(tmp_path: Path) -> None:
    result = Kompas(tmp_path / "empty")("community")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("No data yet: import an export")
    assert "lurker" not in result.stdout
    data: dict[str, Any] = json.loads(Kompas(tmp_path / "empty")("community", "--json").stdout)
    assert data["platforms"] == [] and data["style"] == {"all": None}


def test_own_places_from_profile_bio_and_domains() -> None:
    from kompas.community.mix import OwnPlaces
    from kompas.store.community import profile_pages

    pages = profile_pages(
        "mastodon",
        "https://indieweb.social/@me",
        "me",
        "my site: https://blog.example.org/. Short: https://t.co/xyz",
    )
    own = OwnPlaces.of(["example.com"], pages)
    assert own.owns("https://blog.example.org/post/1")
    assert own.owns("https://www.example.com/a") and own.owns("https://sub.example.com/")
    assert own.owns("https://indieweb.social/@me/1234")
    assert own.owns("https://indieweb.social/users/me/statuses/1")
    assert not own.owns("https://indieweb.social/@someone/1")
    assert not own.owns("https://t.co/xyz")  # a shortener says nothing about whose page
    assert not own.owns("https://notexample.com/") and not own.owns("not a url")
