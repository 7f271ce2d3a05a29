"""``score_by: relationship`` reads its exchange counts from the community pillar's derived
exchanges (kompas.rules.signals.talk_counts): the same counts as the reference reading of
loaded rows (kompas.community.contacts.index_of), on the real X and Mastodon samples, with
accounts linked across platforms, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from kompas.community.contacts import index_of
from kompas.rules.signals import talk_counts
from kompas.store import community as community_store
from kompas.store import identities
from kompas.store.db import create_engine
from kompas.store.queries import data_span

DATA = Path(__file__).parent / "data"
X = DATA / "x-archive" / "milahu104" / "archive.zip"
MASTODON = DATA / "mastodon-archive" / "dealingwith" / "archive.tar.gz"


def _reference(connection: sa.Connection, days: int) -> tuple[dict[str, int], datetime | None]:
    """The counts as read off loaded rows (what talk_counts did before #18)."""
    end = data_span(connection).last
    if end is None:
        return {}, None
    since = end - timedelta(days=days)
    index = index_of(community_store.load(connection))
    per_person: Counter[str] = Counter()
    accounts: dict[str, str] = {}
    for contact in index.contacts:
        if contact.person is None or contact.when is None or not since <= contact.when <= end:
            continue
        per_person[contact.person] += 1
        if contact.account is not None:
            accounts[f"{contact.platform}:{contact.account}"] = contact.person
    for (platform, account), person in index.persons.items():
        accounts.setdefault(f"{platform}:{account}", person)
    return {key: per_person[p] for key, p in accounts.items() if per_person[p]}, end


def test_talk_counts_are_the_reference_counts(samples_engine: sa.Engine) -> None:
    for days in (90, 7, 1, 3650):
        with samples_engine.connect() as connection:
            found, end = talk_counts(connection, days)
            expected, expected_end = _reference(connection, days)
        assert end == expected_end
        assert found == expected, days
    assert sum(found.values()) > 100, "the samples' exchanges are counted"
    with samples_engine.connect() as connection:  # the two people most talked with, one per network
        talked = [
            (row[0], row[1])
            for platform in ("x", "mastodon")
            for row in connection.execute(
                sa.text(
                    "SELECT platform, account FROM exchange_contacts WHERE platform = :p "
                    "AND account IS NOT NULL AND at IS NOT NULL "
                    "GROUP BY platform, account ORDER BY count(*) DESC LIMIT 1"
                ),
                {"p": platform},
            )
        ]
    assert len(talked) == 2
    with samples_engine.begin() as connection:
        identities.link(connection, [identities.AccountRef(p, a) for p, a in talked], "one friend")
    with samples_engine.connect() as connection:
        assert talk_counts(connection, 90)[0] == _reference(connection, 90)[0]
        found, _ = talk_counts(connection, 3650)
        assert found == _reference(connection, 3650)[0]
    counts = {found.get(f"{p}:{a}") for p, a in talked}
    assert len(counts) == 1 and next(iter(counts)), "linked accounts share one count"


def test_no_account_of_the_user_counts_nothing(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.connect() as connection:
        assert talk_counts(connection) == ({}, None)
    engine.dispose()
