"""What ``score_by: relationship`` and ``quiet_first`` read from the store: a
:class:`~kompas.rules.ranking.Ranking`, built once per run of the rules.

Exchanges are the community pillar's own (:func:`kompas.community.contacts.index_of`):
replies, mentions, reposts and quotes either way, a person linked across platforms
counted once. The window ends where the user's data ends, not today, so an export
read months later still knows whom its owner talked with.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa

from kompas.community.contacts import index_of
from kompas.rules.ranking import NO_RANKING, POSTS_DAYS, TALK_DAYS, Ranking
from kompas.store import community as community_store
from kompas.store import feeds as feeds_store
from kompas.store.queries import data_span


def talk_counts(
    connection: sa.Connection, days: int = TALK_DAYS
) -> tuple[dict[str, int], datetime | None]:
    """Exchanges per account (``platform:account_id``) with the user in the ``days``
    before the data's end, and that end (``None``: no activity of the user's stored)."""
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
    for (platform, account), person in index.persons.items():  # linked accounts share
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
