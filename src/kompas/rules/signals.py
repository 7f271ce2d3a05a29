"""What ``score_by: relationship`` and ``quiet_first`` read from the store: a
:class:`~kompas.rules.ranking.Ranking`, built once per run of the rules.

Exchanges are the community pillar's own (its derived exchanges, :mod:`kompas.store.exchanges`;
the reference reading is :func:`kompas.community.contacts.index_of`):
replies, mentions, reposts and quotes either way, a person linked across platforms
counted once. The window ends where the user's data ends, not today, so an export
read months later still knows whom its owner talked with.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa

from kompas.rules.ranking import NO_RANKING, POSTS_DAYS, TALK_DAYS, Ranking
from kompas.store import feeds as feeds_store
from kompas.store.community_queries import Window, of_store
from kompas.store.identities import person_keys
from kompas.store.queries import data_span


def talk_counts(
    connection: sa.Connection, days: int = TALK_DAYS
) -> tuple[dict[str, int], datetime | None]:
    """Exchanges per account (``platform:account_id``) with the user in the ``days``
    before the data's end (both ends counted), and that end (``None``: no activity of the
    user's stored). Counted by the database over the community pillar's derived
    exchanges, one row per person and account."""
    end = data_span(connection).last
    if end is None:
        return {}, None
    queries = of_store(connection)
    if queries is None:
        return {}, end
    window = Window(end - timedelta(days=days), end + timedelta(microseconds=1))
    per_person: Counter[str] = Counter()
    accounts: dict[str, str] = {}
    for person, account, exchanges in queries.per_account(queries.platforms, window):
        per_person[person] += exchanges
        accounts[account] = person
    for (platform, account), person in person_keys(connection).items():  # linked accounts
        accounts.setdefault(f"{platform}:{account}", person)
    talk = {key: per_person[p] for key, p in accounts.items() if per_person[p]}
    return talk, end


def ranking_of(connection: sa.Connection, needs: Iterable[str]) -> Ranking:
    """The counts the rules' ranking actions read (``needs``: ``relationship``,
    ``quiet``); nothing is read for what no rule asks."""
    wanted = set(needs)
    if not wanted:
        return NO_RANKING
    talk: dict[str, int] = {}
    posts: dict[str, int] = {}
    talk_until = posts_until = None
    if "relationship" in wanted:
        talk, talk_until = talk_counts(connection, TALK_DAYS)
    if "quiet" in wanted:
        posts, posts_until = feeds_store.timeline_post_counts(connection, POSTS_DAYS)
    return Ranking(talk, posts, talk_until, posts_until, TALK_DAYS, POSTS_DAYS)
