"""Habits counted by the database (kompas.store.habit_counts, what `review` uses) give the
reference's counts (kompas.strategy.habits.count over loaded records) for every kind of
action, per day, week and month, actions and distinct people, on the real X and Mastodon
samples, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from kompas.store import strategy as store
from kompas.strategy.habits import HORIZON, Activity, StoredActivity, status
from kompas.strategy.model import Habit

DATA = Path(__file__).parent / "data"
X = DATA / "x-archive" / "milahu104" / "archive.zip"
MASTODON = DATA / "mastodon-archive" / "dealingwith" / "archive.tar.gz"
KINDS = ("post", "reply", "quote", "repost", "link", "mention", "like", "bookmark", "follow")


def _loaded(
    connection: sa.Connection, horizon: datetime, until: datetime, platform: str | None
) -> Activity:
    return Activity(
        store.own_posts(connection, horizon, until, platform),
        store.own_actions(connection, horizon, until, ("like", "bookmark", "follow"), platform),
        store.undated_actions(connection, platform),
        store.activity_span(connection, platform),
    )


def test_every_kind_counts_as_the_reference(samples_engine: sa.Engine) -> None:
    with samples_engine.connect() as connection:
        span = store.activity_span(connection)
        assert span is not None
        # Midnight ends, as review and today use, and one inside a day.
        ends = [
            span[1].replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1),
            span[0] + timedelta(days=40, hours=7, minutes=13),
        ]
        compared = 0
        for platform in (None, "x", "mastodon"):
            for until in ends:
                horizon = until - timedelta(days=200)
                loaded = _loaded(connection, horizon, until, platform)
                counted = StoredActivity(
                    connection,
                    horizon,
                    until,
                    platform,
                    store.undated_actions(connection, platform),
                    store.activity_span(connection, platform),
                )
                for kind in KINDS:
                    for per in ("day", "week", "month"):
                        for distinct in ("actions", "people"):
                            habit = Habit(f"{kind}/{per}", per, 3, count=kind, distinct=distinct)
                            expected = loaded.counts(habit, until, HORIZON[per])
                            assert counted.counts(habit, until, HORIZON[per]) == expected, (
                                platform,
                                until,
                                habit.name,
                                distinct,
                            )
                            compared += sum(expected)
                            assert status(habit, counted, until) == status(habit, loaded, until)
                    assert counted.unknowable(kind) == loaded.unknowable(kind), kind
        assert compared > 1000, "the samples hold plenty of actions to count"


def test_undated_likes_only_say_why_there_is_no_count(samples_engine: sa.Engine) -> None:
    """X likes carry no date: a like habit is unknowable there, on both paths."""
    until = datetime(2026, 3, 2, tzinfo=UTC)
    with samples_engine.connect() as connection:
        loaded = _loaded(connection, until - timedelta(days=200), until, "x")
        counted = StoredActivity(
            connection,
            until - timedelta(days=200),
            until,
            "x",
            store.undated_actions(connection, "x"),
            store.activity_span(connection, "x"),
        )
        reason = counted.unknowable("like")
        assert reason is not None
        assert reason == loaded.unknowable("like")
