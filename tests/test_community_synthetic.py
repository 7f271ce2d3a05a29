"""Community figures that need what others did to the user (replies received, mentions),
which no export holds: a small constructed record set, every expected value worked out by
hand in the comments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from kompas.community import Mix, Period, report
from kompas.community.compute import style_of
from kompas.model import (
    Account,
    Follow,
    Interaction,
    InteractionKind,
    Platform,
    Post,
    PostKind,
    Record,
)
from kompas.store import identities
from kompas.store.db import create_engine
from kompas.store.writer import write_import

M, B = Platform.MASTODON, Platform.BLUESKY
DAY = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday
SINCE, UNTIL = DAY, DAY + timedelta(days=10)


def at(days: float, minutes: float = 0) -> datetime:
    return DAY + timedelta(days=days, minutes=minutes)


def records() -> list[Record]:
    me = "me"
    return [
        Account(M, me, handle="me@example.social", is_self=True, followers_count=120),
        Account(M, "ann", handle="ann@example.social"),
        Follow(M, "ann", me, at(1)),  # ann follows the user on day 1 (week of Dec 29)
        Follow(M, me, "ann"),
        Follow(M, me, "cy"),
        # Before the period: ann mentioned once (31 days before it), fay twice the day before.
        Post(M, "p0", me, at(-31), mentions=("ann",)),
        Post(M, "f1", me, at(-1), mentions=("fay",)),
        Post(M, "f2", me, at(-1, 30), mentions=("fay",)),
        # The user starts a thread; ann and cy reply; the user answers both.
        Post(M, "p1", me, at(0), like_count=4, reply_count=2, repost_count=1),
        Post(M, "a1", "ann", at(0, 10), PostKind.REPLY, reply_to_id="p1", reply_to_author_id=me),
        Post(
            M,
            "r1",
            me,
            at(0, 40),  # 30 minutes after ann
            PostKind.REPLY,
            reply_to_id="a1",
            reply_to_author_id="ann",
            like_count=0,
            reply_count=0,
            repost_count=0,
        ),
        Post(M, "c1", "cy", at(2), PostKind.REPLY, reply_to_id="p1", reply_to_author_id=me),
        Post(
            M,
            "r2",
            me,
            at(2, 90),  # 90 minutes after cy
            PostKind.REPLY,
            reply_to_id="c1",
            reply_to_author_id="cy",
            like_count=2,
            reply_count=0,
            repost_count=1,
        ),
        # bob mentions the user, who never answers.
        Interaction(M, InteractionKind.MENTION, "bob", me, None, "b1", at(1)),
        # The user likes a post of dan's, and joins eve's thread (no counts known).
        Interaction(M, InteractionKind.LIKE, me, "dan", "d1", None, at(4)),
        Post(M, "r3", me, at(5), PostKind.REPLY, reply_to_id="e1", reply_to_author_id="eve"),
        # Bluesky: the same ann, replied to once; linked below.
        Account(B, "did:me", is_self=True),
        Account(B, "did:ann"),
        Post(
            B,
            "at://did:me/post/1",
            "did:me",
            at(3),
            PostKind.REPLY,
            reply_to_id="at://did:ann/post/9",
            reply_to_author_id="did:ann",
        ),
    ]


@pytest.fixture
def engine(tmp_path: Path) -> sa.Engine:
    engine = create_engine(f"sqlite:///{tmp_path / 'kompas.db'}")
    write_import(engine, records(), source="test", path="constructed")
    return engine


def test_received_figures(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        result = report(connection, Period(SINCE, UNTIL), platform="mastodon")
    f = result.figures["mastodon"]
    assert f.received_data
    assert f.replies_given == 3  # r1, r2, r3
    assert f.replies_received == 2  # a1, c1 (bob's mention is no reply)
    assert f.median_reply_minutes == 60  # median of 30 and 90
    assert f.unanswered_share == pytest.approx(1 / 3)  # bob, of ann, cy, bob
    assert f.conversations_started == 1  # p1, with ann and cy
    assert f.conversations_joined == 1  # eve's
    # ann, bob, cy, dan, eve; ann and cy both ways; ann known since p0.
    assert f.people_interacted == 5
    assert f.reciprocity == pytest.approx(2 / 5)
    assert f.reciprocity_basis == "interactions"
    # Reached for the first time: bob, cy, dan, eve. Two-way of those: bob (mentioned the
    # user) and cy (replied); dan and eve never acted towards the user nor follow them.
    assert f.people_reached == 4
    assert f.new_connections == 2
    # Of eve and ann and cy, replied to in the period, only ann follows the user.
    assert f.follow_back == pytest.approx(1 / 3) and f.follow_back_of == 3
    assert f.mutuals == 1  # ann
    assert f.likes_given == 1 and f.distinct_sources_learned == 1
    # Rates over p1, r1, r2 (r3 carries no counts): replies 2, reposts 2, likes 6.
    assert f.rated_posts == 3
    assert f.conversation_rate == pytest.approx(2 / 3)
    assert f.amplification_rate == pytest.approx(2 / 3)
    assert f.applause_rate == pytest.approx(2.0)
    # p1 is "other" (no link, no mention); r1..r3 conversation. Two weeks, 2 posts/week.
    assert f.mix.conversation == 0.75 and f.mix.other == 0.25
    assert f.style == "connector"
    assert (f.followers, f.following, f.posts) == (1, 2, 4)
    assert f.trends.weeks == ("2025-12-29", "2026-01-05")
    assert f.trends.series["followers_gained"] == [1, 0]
    assert f.trends.series["following_gained"] is None  # the user's follows are undated
    # a1 (Thursday Jan 1) and c1 (Saturday Jan 3) both fall in the week of Dec 29.
    assert f.trends.series["replies_received"] == [2, 0]


def test_strength_and_fading(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        result = report(connection, Period(SINCE, UNTIL), half_life_days=30, platform="mastodon")
    people = {r.person: r for r in result.relationships["mastodon"]}
    # dan: one like 6 days before the end of the period.
    assert people["mastodon:dan"].strength == pytest.approx(0.5 ** (6 / 30))
    # ann: p0 (41 days before the end), a1 (in), r1 (out).
    ann = people["mastodon:ann"]
    assert ann.strength == pytest.approx(
        0.5 ** (41 / 30)
        + 0.5 ** ((10 * 1440 - 10) / 1440 / 30)
        + 0.5 ** ((10 * 1440 - 40) / 1440 / 30)
    )
    assert (ann.given, ann.received) == (1, 1)
    # fay: two mentions the day before the period, none in it: fading.
    assert [r.person for r in result.fading("mastodon")] == ["mastodon:fay"]
    assert result.fading("mastodon")[0].strength_before == pytest.approx(
        0.5 ** (1 / 30) + 0.5 ** ((1440 - 30) / 1440 / 30)
    )
    assert result.top("mastodon", 1)[0].person == "mastodon:ann"


def test_linked_person_counted_once(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        refs = [
            identities.AccountRef("mastodon", "ann"),
            identities.AccountRef("bluesky", "did:ann"),
        ]
        identities.link(connection, refs, "Ann")
        identities.link(
            connection,
            [identities.AccountRef("mastodon", "me"), identities.AccountRef("bluesky", "did:me")],
            "me",
        )
    with engine.connect() as connection:
        result = report(connection, Period(SINCE, UNTIL))
    figures = result.figures
    assert figures["bluesky"].people_interacted == 1
    assert figures["mastodon"].people_interacted == 5
    assert figures["all"].people_interacted == 5  # Ann once
    assert figures["all"].replies_given == 4  # replies add up
    assert figures["bluesky"].replies_received is None  # nothing others did on Bluesky
    assert figures["all"].replies_received == 2
    ann = next(r for r in result.relationships["all"] if r.person == "Ann")
    assert ann.accounts == ("bluesky:did:ann", "mastodon:ann")
    assert ann.given == 2


@pytest.mark.parametrize(
    ("mix", "posts", "per_week", "style"),
    [
        (Mix(conversation=0.5, other=0.5), 10, 5.0, "connector"),
        (Mix(sharing=0.6, conversation=0.4), 10, 5.0, "curator"),
        (Mix(broadcast=0.5, sharing=0.25, other=0.25), 10, 5.0, "promoter"),
        (Mix(conversation=0.49, sharing=0.26, broadcast=0.25), 10, 5.0, "all-rounder"),
        (Mix(conversation=1.0), 3, 0.99, "lurker"),
        (Mix(), 0, 0.0, "lurker"),
    ],
)
def test_style_thresholds(mix: Mix, posts: int, per_week: float, style: str) -> None:
    found, reasons = style_of(mix, posts, per_week)
    assert found == style
    assert reasons  # every style says why
