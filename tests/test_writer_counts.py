"""The rows an import reports as added are the rows it inserted, read without counting the
whole table (issue #18): right after deletions, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from kompas.model import Platform, Post
from kompas.store.db import create_engine
from kompas.store.schema import posts
from kompas.store.writer import write_records

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def post(number: int, text: str = "") -> Post:
    return Post(Platform.X, str(number), "1", WHEN, text=text)


def test_added_counts_the_inserted_rows_even_after_deletions(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as connection:
        first = write_records(connection, [post(n) for n in range(1, 6)])
    assert first["posts"] == 5
    with engine.begin() as connection:  # the newest row and one in the middle go
        connection.execute(sa.delete(posts).where(posts.c.id.in_(["5", "3"])))
    with engine.begin() as connection:
        again = write_records(
            connection, [post(2, "updated"), post(3), post(5), post(6), post(6, "twice")]
        )
        stored = connection.execute(sa.select(sa.func.count()).select_from(posts)).scalar_one()
    assert again["posts"] == 3  # 3, 5 and 6 are new; 2 was updated, 6 came twice
    assert again["interactions"] == 0
    assert stored == 6
