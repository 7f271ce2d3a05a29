"""The Bluesky CAR importer against a real repository made by a local PDS
(tests/data/bluesky/make_car.sh); the expected contents were written by the script that
created the records, not by reading the CAR back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import BLUESKY_CAR, Kompas
from kompas.errors import SourceError
from kompas.model import Account, Follow, Interaction, InteractionKind, Post, PostKind
from kompas.sources import bluesky

EXPECTED = json.loads(BLUESKY_CAR.with_name("repo.expected.json").read_text())


def _records() -> list[object]:
    return list(bluesky.parse_car(str(BLUESKY_CAR)))


def test_posts_replies_quotes_and_texts() -> None:
    posts = [r for r in _records() if isinstance(r, Post) and r.kind is not PostKind.REPOST]
    assert len(posts) == EXPECTED["posts"]
    assert sorted(p.text for p in posts) == sorted(EXPECTED["post_texts"])
    replies = [p for p in posts if p.kind is PostKind.REPLY]
    assert sorted(p.reply_to_id or "" for p in replies) == sorted(EXPECTED["reply_parents"])
    quotes = [p for p in posts if p.kind is PostKind.QUOTE]
    assert [p.quote_of_id for p in quotes] == EXPECTED["quote_subjects"]
    assert all(p.author_id == EXPECTED["did"] for p in posts)
    assert sum(len(p.links) for p in posts) == EXPECTED["facets"]["link"]
    assert sum(len(p.hashtags) for p in posts) == EXPECTED["facets"]["tag"]
    assert sum(len(p.mentions) for p in posts) == EXPECTED["facets"]["mention"]
    french = next(p for p in posts if p.language == "fr")
    assert "randonnée" in french.hashtags


def test_reposts_likes_follows_and_profile() -> None:
    records = _records()
    reposts = [r for r in records if isinstance(r, Post) and r.kind is PostKind.REPOST]
    assert sorted(r.repost_of_id or "" for r in reposts) == sorted(EXPECTED["repost_subjects"])
    likes = [r for r in records if isinstance(r, Interaction) and r.kind is InteractionKind.LIKE]
    assert sorted(r.target_post_id or "" for r in likes) == sorted(EXPECTED["like_subjects"])
    follows = [r for r in records if isinstance(r, Follow)]
    assert sorted(f.followee_id for f in follows) == sorted(EXPECTED["follow_subjects"])
    assert {f.follower_id for f in follows} == {EXPECTED["did"]}
    profile = next(r for r in records if isinstance(r, Account) and r.display_name)
    assert profile.is_self and profile.id == EXPECTED["did"]
    assert profile.display_name == EXPECTED["profile"]["displayName"]
    assert profile.bio == EXPECTED["profile"]["description"]


def test_status_counts(kompas_db: Kompas) -> None:
    assert kompas_db("import", "bluesky-car", BLUESKY_CAR).exit_code == 0
    counts = json.loads(kompas_db("status", "--json").stdout)["platforms"]["bluesky"]
    assert counts == {
        "posts": EXPECTED["posts"] + EXPECTED["reposts"],
        "replies": EXPECTED["replies"],
        "reposts": EXPECTED["reposts"],
        "likes": EXPECTED["likes"],
        "bookmarks": 0,
        "followers": None,  # a repository holds whom it follows, never its followers
        "following": EXPECTED["follows"],
    }
    assert "nothing new" in kompas_db("import", "bluesky-car", BLUESKY_CAR).stdout


def test_a_file_that_is_not_a_car(tmp_path: Path) -> None:
    bad = tmp_path / "repo.car"
    bad.write_bytes(b"this is not a CAR file")
    with pytest.raises(SourceError, match="not a readable CAR file"):
        list(bluesky.parse_car(str(bad)))


def test_a_truncated_car(tmp_path: Path) -> None:
    bad = tmp_path / "repo.car"
    bad.write_bytes(BLUESKY_CAR.read_bytes()[:-500])
    with pytest.raises(SourceError, match=r"repo\.car"):
        list(bluesky.parse_car(str(bad)))
