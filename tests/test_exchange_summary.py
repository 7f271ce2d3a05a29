"""The derived exchanges kept in the store (kompas.store.exchanges) stay what a fresh
derivation from the rows gives: after an import, after the same import again, after an
import that fails half-way, after a new link between accounts; and the community figures
read from them are the reference's, on the real X and Mastodon samples (SQLite and
PostgreSQL)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from kompas.community import Period, compute
from kompas.community.aggregate import Community
from kompas.model import Post, PostKind, Record
from kompas.sources import mastodon, x_archive
from kompas.store import community as store
from kompas.store import exchanges, identities
from kompas.store.db import create_engine
from kompas.store.exchange_build import Builder
from kompas.store.writer import write_import, write_records
from test_community_sql import assert_same

DATA = Path(__file__).parent / "data"
X = DATA / "x-archive" / "milahu104" / "archive.zip"
MASTODON = DATA / "mastodon-archive" / "dealingwith" / "archive.tar.gz"


def _rows(connection: sa.Connection, tables: exchanges.Derived) -> dict[str, list[Any]]:
    """Every derived row, sorted (what a comparison of two derivations reads)."""
    found = {}
    for stored in tables.tables:
        rows = connection.execute(sa.select(stored)).all()
        found[stored.name.split("_", 1)[1]] = sorted(
            (tuple(row) for row in rows), key=lambda row: tuple(map(repr, row))
        )
    return found


def _fresh(connection: sa.Connection) -> dict[str, list[Any]]:
    """What deriving from the rows now gives, in temporary tables."""
    persons = identities.person_keys(connection)
    tables = exchanges.temporary()
    selves = exchanges.self_rows(exchanges.every_self(connection), persons)
    Builder(connection, tables).build(selves, bool(persons))
    return _rows(connection, tables)


def _consistent(engine: sa.Engine) -> None:
    """The stored derivation is fresh, equals a fresh one, and gives the reference's
    figures for all time and for a period whose bounds cut weeks."""
    with engine.connect() as connection:
        community = Community(connection)
        assert community.queries.t is exchanges.STORED
        stored = _rows(connection, exchanges.STORED)
        assert stored["own"], "the samples hold the user's posts"
        assert stored == _fresh(connection)
        data = store.load(connection)
        end = max(last for _, last in community.ends.values())
        for period in (Period(), Period(end - timedelta(days=75, hours=5), end)):
            expected = compute(data, period)
            assert_same(expected, community.report(period))


def _version(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return exchanges.state(connection)[0]


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    found = create_engine(db_url)
    yield found
    found.dispose()


def test_an_import_then_the_same_import_again_keeps_the_summary_true(engine: sa.Engine) -> None:
    write_import(engine, x_archive.parse(str(X)), source="x-archive", path=str(X))
    _consistent(engine)
    before = _version(engine)
    write_import(engine, x_archive.parse(str(X)), source="x-archive", path=str(X))
    assert _version(engine) == before + 1  # stale: the import could have changed counts
    _consistent(engine)


def test_a_failed_import_leaves_rows_version_and_summary_as_they_were(engine: sa.Engine) -> None:
    write_import(engine, x_archive.parse(str(X)), source="x-archive", path=str(X))
    _consistent(engine)
    before = _version(engine)
    with engine.connect() as connection:
        rows_before = _rows(connection, exchanges.STORED)

    def half_then_crash() -> Iterator[Record]:
        posts = 0
        for record in mastodon.parse_archive(str(MASTODON)):
            yield record
            posts += isinstance(record, Post)
            if posts == 50:
                raise RuntimeError("the disk went away")

    with pytest.raises(RuntimeError, match="disk"):
        write_import(engine, half_then_crash(), source="mastodon", path=str(MASTODON))
    assert _version(engine) == before
    with engine.connect() as connection:
        assert (
            connection.execute(
                sa.text("SELECT count(*) FROM posts WHERE platform = 'mastodon'")
            ).scalar()
            == 0
        )
        assert _rows(connection, exchanges.STORED) == rows_before
    _consistent(engine)


def test_new_rows_and_new_links_make_it_stale_and_it_is_rebuilt(engine: sa.Engine) -> None:
    records = list(x_archive.parse(str(X)))
    posts = [r for r in records if isinstance(r, Post)]
    write_import(engine, [r for r in records if not isinstance(r, Post)], source="x", path="a")
    write_import(engine, posts[: len(posts) // 2], source="x", path="b")
    _consistent(engine)
    write_import(engine, posts[len(posts) // 2 :], source="x", path="c")
    with engine.connect() as connection:
        version, built = exchanges.state(connection)
        persons = identities.person_keys(connection)
        selves = exchanges.self_rows(exchanges.every_self(connection), persons)
        assert built != exchanges.stamp(version, selves, persons)
    _consistent(engine)
    with engine.connect() as connection:
        talked = connection.execute(
            sa.text(
                "SELECT account FROM exchange_contacts WHERE account IS NOT NULL "
                "GROUP BY account ORDER BY count(*) DESC LIMIT 2"
            )
        ).scalars()
        accounts = [identities.AccountRef("x", a) for a in talked]
    with engine.begin() as connection:
        identities.link(connection, accounts, "one friend")
    _consistent(engine)
    with engine.connect() as connection:
        people = {r.person for r in Community(connection).report(Period()).relationships["all"]}
    assert "one friend" in people


def test_a_reader_inside_a_writing_transaction_counts_its_own_rows(engine: sa.Engine) -> None:
    records = list(x_archive.parse(str(X)))
    write_import(engine, islice(records, 2000), source="x", path="a")
    _consistent(engine)
    with engine.begin() as connection:
        write_records(connection, records[2000:])
        data = store.load(connection)
        community = Community(connection)
        assert community.queries.t is exchanges.STORED  # built in this very transaction
        assert_same(compute(data, Period()), community.report(Period()))
    _consistent(engine)


def test_a_busy_store_is_counted_in_temporary_tables(tmp_path: Path) -> None:
    """Another program holds the write lock: the request derives its own tables, gives the
    same figures, and leaves the store's as they were (stale, built later)."""
    path = tmp_path / "kompas.db"
    engine = create_engine(f"sqlite:///{path}")
    write_import(engine, x_archive.parse(str(X)), source="x-archive", path=str(X))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with engine.connect() as connection:
            community = Community(connection)
            assert community.queries.t is not exchanges.STORED
            assert_same(compute(store.load(connection), Period()), community.report(Period()))
            assert exchanges.state(connection)[1] is None
    finally:
        holder.rollback()
        holder.close()
    _consistent(engine)
    engine.dispose()


def test_one_platform_whose_account_is_linked_to_the_user_elsewhere(engine: sa.Engine) -> None:
    """Asked for X alone, an X account linked to the user's Mastodon person is someone
    else (the reference's reading): the store's tables, derived with every account of
    the user, cannot say that, so the request derives its own."""
    write_import(engine, x_archive.parse(str(X)), source="x-archive", path=str(X))
    write_import(
        engine, mastodon.parse_archive(str(MASTODON)), source="mastodon", path=str(MASTODON)
    )
    with engine.connect() as connection:
        (me,) = connection.execute(
            sa.text("SELECT id FROM accounts WHERE platform = 'mastodon' AND is_self")
        ).scalars()
        friend = connection.execute(
            sa.text(
                "SELECT target_account_id FROM interactions WHERE platform = 'x' AND "
                "target_account_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
    with engine.begin() as connection:
        identities.link(
            connection,
            [identities.AccountRef("mastodon", me), identities.AccountRef("x", friend)],
        )
    with engine.connect() as connection:
        for platform in ("x", "mastodon", None):
            community = Community(connection, platform)
            stored = community.queries.t is exchanges.STORED
            assert stored == (platform != "x"), platform
            data = store.load(connection, platform)
            assert_same(compute(data, Period(), platform=platform), community.report(Period()))


def test_posts_before_1970_and_on_week_bounds_fall_in_their_weeks(engine: sa.Engine) -> None:
    """Week numbers are floors on both databases, before the epoch too."""
    records = [r for r in x_archive.parse(str(X)) if not isinstance(r, Post)]
    mine = next(r for r in x_archive.parse(str(X)) if isinstance(r, Post))
    moments = [
        datetime(1969, 12, 29, tzinfo=UTC),  # a Monday
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1970, 1, 5, tzinfo=UTC),  # a Monday
        datetime(1965, 3, 3, 12, tzinfo=UTC),
    ]
    posts = [
        Post(mine.platform, f"old{n}", mine.author_id, when, PostKind.POST, text="hello")
        for n, when in enumerate(moments)
    ]
    write_import(engine, [*records, *posts], source="x", path="old")
    _consistent(engine)
    with engine.connect() as connection:
        weeks = dict(
            connection.execute(
                sa.text("SELECT at_s, week FROM exchange_own_weeks WHERE at_s < 400000")
            ).all()
        )
    for when in moments:
        start = when - timedelta(days=when.weekday())
        start = start.replace(hour=0, minute=0, second=0, microsecond=0)
        assert start.timestamp() in weeks
