"""The grouped-query path of the community report (kompas.community.aggregate) gives the
same figures and relationships as the reference over loaded rows (kompas.community.compute),
on random stores written with the real writer to a real SQLite file, and to PostgreSQL when
KOMPAS_TEST_PG_URL names one."""

from __future__ import annotations

import atexit
import math
import os
import shutil
import tempfile
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import DATABASES, PG_URL
from kompas.community import Period, compute
from kompas.community.aggregate import Community
from kompas.community.report import CommunityReport, Relationship
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
from kompas.store import community as store
from kompas.store import identities
from kompas.store.db import create_engine
from kompas.store.schema import accounts, follows, identity_links, interactions, posts
from kompas.store.writer import write_import

#: NOSHRINK=1 shows a failing case as found (shrinking a big store can take minutes).
PHASES = [Phase.explicit, Phase.generate] if os.environ.get("NOSHRINK") else list(Phase)
PLATFORMS = (Platform.X, Platform.MASTODON)
OTHERS = ("a", "b", "c", "grok", "me2")
START = datetime(2026, 1, 1, tzinfo=UTC)
PERIODS = (
    Period(START + timedelta(days=10), START + timedelta(days=30)),
    Period(START + timedelta(days=3, hours=5), START + timedelta(days=12)),
    Period(),
)


@cache
def empty_sqlite() -> Path:
    """One migrated empty database, copied for every example (migrating is the slow part)."""
    folder = tempfile.mkdtemp(prefix="kompas-community-sql-")
    atexit.register(shutil.rmtree, folder, True)
    path = Path(folder) / "empty.db"
    create_engine(f"sqlite:///{path}").dispose()
    return path


@cache
def postgres() -> sa.Engine:
    """The test PostgreSQL database, migrated once; each example empties its tables."""
    assert PG_URL is not None
    engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    found = create_engine(PG_URL)
    atexit.register(found.dispose)
    return found


dated = st.builds(
    lambda d, m: START + timedelta(days=d, minutes=m),
    st.integers(0, 40),
    st.sampled_from([0, 0, 30, 90, 1439]),
)
moment = st.one_of(st.none(), dated)
other = st.sampled_from(OTHERS)
anyone = st.one_of(st.none(), st.just("me"), other)
links = st.lists(
    st.sampled_from(["https://example.org/a", "https://me.example/post", "https://x.com/me/1"]),
    max_size=2,
)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[Record], list[tuple[str, str, str]]]:
    found: list[Record] = []
    for platform in PLATFORMS:
        found.append(
            Account(
                platform,
                "me",
                handle="me",
                url="https://x.com/me" if platform is Platform.X else None,
                is_self=True,
                followers_count=draw(st.one_of(st.none(), st.integers(0, 9))),
            )
        )
        found += [
            Account(platform, name, handle=draw(st.sampled_from([None, name])), is_bot=name == "a")
            for name in OTHERS
        ]
        mine = [f"p{n}" for n in range(draw(st.integers(0, 7)))]
        for n, post_id in enumerate(mine):
            kind = draw(st.sampled_from(list(PostKind)))
            target = draw(anyone)
            parent = draw(st.sampled_from([None, "t0", "t1", *mine[:n], "o0", "o1"]))
            found.append(
                Post(
                    platform,
                    post_id,
                    "me",
                    draw(dated),
                    kind,
                    reply_to_id=parent if kind is PostKind.REPLY else None,
                    reply_to_author_id=target if kind is PostKind.REPLY else None,
                    repost_of_author_id=target if kind is PostKind.REPOST else None,
                    conversation_id=draw(st.sampled_from([None, None, "k1"])),
                    mentions=tuple(draw(st.lists(st.sampled_from(["me", *OTHERS]), max_size=3))),
                    links=tuple(draw(links)),
                    like_count=draw(st.one_of(st.none(), st.integers(0, 5))),
                    reply_count=draw(st.one_of(st.none(), st.integers(0, 5))),
                    repost_count=draw(st.one_of(st.none(), st.integers(0, 5))),
                    quote_count=draw(st.one_of(st.none(), st.integers(0, 5))),
                )
            )
            if kind is PostKind.QUOTE:
                for _ in range(draw(st.integers(0, 2))):
                    found.append(
                        Interaction(
                            platform,
                            InteractionKind.QUOTE,
                            "me",
                            draw(anyone),
                            None,
                            post_id,
                            draw(moment),
                        )
                    )
        for n in range(draw(st.integers(0, 4))):  # others answering the user, or each other
            found.append(
                Post(
                    platform,
                    f"o{n}",
                    draw(other),
                    draw(dated),
                    PostKind.REPLY,
                    reply_to_id=draw(st.sampled_from([*mine, "o0", "o1", "t0"])),
                    reply_to_author_id=draw(anyone),
                    conversation_id=draw(st.sampled_from([None, "k1"])),
                )
            )
        for n in range(draw(st.integers(0, 7))):
            kind = draw(st.sampled_from(list(InteractionKind)))
            when = draw(moment)
            if draw(st.booleans()):
                act = Interaction(
                    platform,
                    kind,
                    "me",
                    draw(st.none() | other),
                    f"t{n}",
                    draw(st.sampled_from([None, f"v{n}", *mine[:1]])),
                    when,
                )
            else:
                act = Interaction(
                    platform,
                    kind,
                    draw(other),
                    "me",
                    draw(st.sampled_from([None, *mine[:2]])),
                    draw(st.sampled_from([f"v{n}", "o0", None])),
                    when,
                )
            found.append(act)
        for name in draw(st.lists(other, max_size=3, unique=True)):
            if draw(st.booleans()):
                found.append(Follow(platform, name, "me", draw(moment)))
            else:
                found.append(Follow(platform, "me", name, draw(moment)))
    linked = draw(
        st.lists(st.tuples(other, other, st.sampled_from(["p0", "p1", "mastodon:me"])), max_size=2)
    )
    return found, linked


def _store(engine: sa.Engine, found: list[Record], linked: list[tuple[str, str, str]]) -> None:
    write_import(engine, found, source="test", path="generated")
    with engine.begin() as connection:
        for x_name, mastodon_name, person in linked:
            identities.link(
                connection,
                [
                    identities.AccountRef("x", x_name),
                    identities.AccountRef("mastodon", mastodon_name),
                ],
                person,
            )


def _same_relationships(found: list[Relationship], expected: list[Relationship]) -> None:
    """Equal, strengths to a relative 1e-9: the database adds and exponentiates floats in
    its own order, so the last bit may differ (and rounding such a value to 9 decimals can
    fall either side of a tie, as 0.0166015625 does)."""
    assert [r.person for r in sorted(found, key=lambda r: r.person)] == [
        r.person for r in sorted(expected, key=lambda r: r.person)
    ]
    for got, want in zip(
        sorted(found, key=lambda r: r.person), sorted(expected, key=lambda r: r.person), strict=True
    ):
        for name in ("strength", "strength_before"):
            assert math.isclose(getattr(got, name), getattr(want, name), rel_tol=1e-9), (
                got.person,
                name,
            )
        assert replace(got, strength=0.0, strength_before=0.0) == replace(
            want, strength=0.0, strength_before=0.0
        )


def _same_json(found: Any, expected: Any, where: str = "") -> None:
    """Equal JSON, but for floats that the output rounds to 4 decimals: two values a last
    bit apart may round to neighbours when they sit on a tie (0.03125)."""
    if isinstance(expected, float) and isinstance(found, float):
        assert abs(found - expected) <= 1.0001e-4, where
    elif isinstance(expected, dict) and isinstance(found, dict):
        assert list(found) == list(expected), where
        for key in expected:
            _same_json(found[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list) and isinstance(found, list):
        assert len(found) == len(expected), where
        for n, (a, b) in enumerate(zip(found, expected, strict=True)):
            _same_json(a, b, f"{where}[{n}]")
    else:
        assert found == expected, where


def assert_same(expected: CommunityReport, found: CommunityReport) -> None:
    assert found.data_start == expected.data_start
    assert found.data_end == expected.data_end
    assert list(found.figures) == list(expected.figures)
    for scope, figures in expected.figures.items():
        other_figures = found.figures[scope]
        for f in fields(figures):
            assert getattr(other_figures, f.name) == getattr(figures, f.name), (scope, f.name)
        _same_relationships(found.relationships[scope], expected.relationships[scope])
        for ranked in ("top", "fading", "automated"):
            assert [r.person for r in getattr(found, ranked)(scope)] == [
                r.person for r in getattr(expected, ranked)(scope)
            ], (scope, ranked)
    _same_json(_json(found), _json(expected))


def _json(result: CommunityReport) -> Any:
    return result.to_json()


@pytest.mark.parametrize("database", DATABASES)
@settings(
    max_examples=int(os.environ.get("KOMPAS_PROPERTY_EXAMPLES", "20")),
    deadline=None,
    phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=scenario())
def test_sql_path_gives_the_reference_figures(
    database: str, case: tuple[list[Record], list[tuple[str, str, str]]]
) -> None:
    found, linked = case
    if database == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "kompas.db"
            shutil.copy(empty_sqlite(), path)
            engine = create_engine(f"sqlite:///{path}")
            try:
                _store(engine, found, linked)
                _check(engine)
            finally:
                engine.dispose()
        return
    engine = postgres()
    with engine.begin() as connection:
        for table in (identity_links, interactions, follows, posts, accounts):
            connection.execute(sa.delete(table))
    _store(engine, found, linked)
    _check(engine)


def _check(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        for platform in (None, "x"):
            community = Community(connection, platform)
            data = store.load(connection, platform)
            for period in PERIODS:
                for domains in ((), ("me.example",)):
                    for half_life in (30.0, 2.5):
                        expected = compute(data, period, half_life, platform, domains)
                        result = community.report(period, half_life, domains)
                        assert_same(expected, result)
                        active = community.report(period, half_life, domains, False)
                        for scope, figures in expected.figures.items():
                            assert active.figures[scope] == figures, scope
            # Many periods counted at once (a review's windows) give each one's figures.
            batch = [*PERIODS, Period(START + timedelta(days=17), START + timedelta(days=24))]
            for period, found in zip(
                batch, community.reports(batch, own_domains=("me.example",)), strict=True
            ):
                expected = compute(data, period, platform=platform, own_domains=("me.example",))
                assert_same(expected, found)
            for period, found in zip(
                batch, community.reports(batch, every_relationship=False), strict=True
            ):
                expected = compute(data, period, platform=platform)
                assert found.figures == expected.figures, period
