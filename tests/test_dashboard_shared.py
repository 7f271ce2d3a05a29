"""The dashboard's Strategy page computes the 7-day review and today once between them:
today given the review's aligned week says exactly what today computed alone says, on
the real X and Mastodon samples with the starter strategy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from kompas.sources import mastodon, x_archive
from kompas.store.db import create_engine
from kompas.store.writer import write_import
from kompas.strategy import build_review, build_today, parse_strategy, starter

DATA = Path(__file__).parent / "data"
X = DATA / "x-archive" / "milahu104" / "archive.zip"
MASTODON = DATA / "mastodon-archive" / "dealingwith" / "archive.tar.gz"


def test_today_from_the_reviews_week_is_today(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'kompas.db'}")
    write_import(engine, x_archive.parse(str(X)), source="x-archive", path=str(X))
    write_import(
        engine, mastodon.parse_archive(str(MASTODON)), source="mastodon", path=str(MASTODON)
    )
    plan = parse_strategy(starter("all-rounder", "en"))
    compared = 0
    with engine.connect() as connection:
        for day in (datetime(2026, 3, 1, tzinfo=UTC), datetime(2025, 12, 10, tzinfo=UTC)):
            review = build_review(connection, plan, day + timedelta(days=1), 7)
            alone = build_today(connection, plan, day)
            shared = build_today(connection, plan, day, week=review.alignments)
            assert shared.to_json() == alone.to_json()
            compared += len(review.alignments)
    engine.dispose()
    assert compared > 20, "the samples' weeks hold posts to align"
