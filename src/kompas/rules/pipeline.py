"""The feed pipeline: pull followed feeds, run the user's rules over new items and keep
each decision with its reasons; and the same rules over the user's own activity, for
the strategy pillar.

These functions fetch only through :mod:`kompas.sources.feed_fetch` and read and write
only through :mod:`kompas.store.feeds`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from kompas.model import FeedItem
from kompas.rules.engine import Decision, RuleSet
from kompas.rules.item import Item
from kompas.rules.regexes import Budget
from kompas.rules.signals import ranking_of
from kompas.sources.feed_fetch import FeedRequest, FetchResult, content_hash, fetch_feeds
from kompas.store import feeds as store


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """How one feed went in a pull, with its failure count after it."""

    result: FetchResult
    new_items: int
    failure_count: int


@dataclass(frozen=True, slots=True)
class PullReport:
    """What a pull did: per feed, the new items, and the rules' decisions about them."""

    feeds: list[FeedOutcome]
    new_ids: list[str]
    decisions: list[Decision]

    @property
    def failed(self) -> int:
        """Feeds that failed."""
        return sum(f.result.status == "error" for f in self.feeds)


def pull(
    engine: sa.Engine,
    rules: RuleSet | None,
    on_result: Callable[[FetchResult], None] | None = None,
    **options: Any,
) -> PullReport:
    """Fetch every followed feed (conditional GET with the stored validators), store the
    new items, record each feed's state and failures, and apply ``rules`` to the new
    items. ``options`` go to :func:`~kompas.sources.feed_fetch.fetch_feeds`."""
    with engine.connect() as connection:
        subscribed = store.subscriptions(connection)
        known = store.validators(connection)
    requests = [FeedRequest(s.url, *known.get(s.url, (None, None))) for s in subscribed]
    results = fetch_feeds(requests, on_result=on_result, **options) if requests else []
    now = datetime.now(UTC)
    added: list[tuple[FetchResult, int]] = []
    new_ids: list[str] = []
    with engine.begin() as connection:
        for result in results:
            store.record_fetch(
                connection,
                result.url,
                status=result.status,
                now=now,
                http_status=result.http_status,
                title=result.title,
                etag=result.etag,
                last_modified=result.last_modified,
                error=result.error,
            )
            entries = [
                store.NewEntry(e.item, e.guid, e.html, e.links, e.content_hash)
                for e in result.entries
            ]
            ids = store.add_items(connection, entries, now)
            new_ids += ids
            added.append((result, len(ids)))
        decisions = apply_rules(connection, rules, new_ids, now) if rules and new_ids else []
        failures = {s.url: s.failure_count for s in store.feed_statuses(connection)}
    outcomes = [FeedOutcome(r, n, failures.get(r.url, 0)) for r, n in added]
    return PullReport(outcomes, new_ids, decisions)


def ingest(
    connection: sa.Connection,
    items: Iterable[FeedItem],
    rules: RuleSet | None = None,
    now: datetime | None = None,
) -> list[Decision]:
    """Store items from any source — a Mastodon hashtag or list timeline, a Bluesky feed
    or search, anything that yields :class:`~kompas.model.FeedItem` — deduplicated like
    feed entries, and decide about the new ones. The rules never need to know the source.
    """
    moment = now or datetime.now(UTC)
    entries = [
        store.NewEntry(item, None, None, (), content_hash(item.title, item.text)) for item in items
    ]
    new_ids = store.add_items(connection, entries, moment)
    return apply_rules(connection, rules, new_ids, moment) if rules and new_ids else []


def stored_item(stored: store.StoredItem) -> Item:
    """The rules' view of a stored feed item (its links included; a timeline post also
    has its kind — post, reply, quote — and its public counts)."""
    social = stored.social
    if social is None:
        return Item.from_feed_item(stored.item, links=stored.links)
    return Item.from_feed_item(
        stored.item,
        links=stored.links,
        kind=social.kind,
        counts=social.counts,
        account=f"{social.platform}:{social.author_id}",
    )


def apply_rules(
    connection: sa.Connection,
    rules: RuleSet,
    item_ids: Iterable[str] | None = None,
    now: datetime | None = None,
) -> list[Decision]:
    """Decide about stored items (those with ``item_ids``, or all of them), keep every
    decision with the rules that fired and why, and return the decisions. Rules that
    rank by relationship or quietness read their counts from the store once, here."""
    moment = now or datetime.now(UTC)
    budget = Budget.start()  # one regex time budget for the whole run
    ranking = ranking_of(connection, rules.ranking_needs()) if rules.ranks else None
    decisions = [
        rules.explain(stored_item(s), moment, budget, ranking)
        for s in store.items(connection, ids=item_ids)
    ]
    store.save_decisions(connection, (d.as_json() for d in decisions), rules.digest, moment)
    return decisions


def activity_items(
    actions: Iterable[store.OwnAction], rules: RuleSet | None = None, now: datetime | None = None
) -> Iterator[Item]:
    """The user's own posts and interactions as items (``kind`` = reply, like, post…).

    ``to_tags`` of an action are the hashtags of the post it acts on plus, when ``rules``
    is given, the tags those rules give that post — so ``{kind: reply, to_tag: question}``
    matches a reply to a post the rules tag ``question``.
    """
    moment = now or datetime.now(UTC)
    for action in actions:
        to_tags = list(action.target_hashtags)
        if rules is not None and action.target_text:
            target = Item(
                id=f"{action.platform}:target:{action.id}",
                source=action.platform,
                text=action.target_text,
                author=action.target_author,
                tags=action.target_hashtags,
            )
            to_tags += [t for t in rules.decide(target, moment).tags if t not in to_tags]
        yield Item(
            id=f"{action.platform}:{action.id}",
            source=action.platform,
            text=action.text,
            url=action.url,
            published=action.created_at,
            language=action.language,
            tags=action.hashtags,
            kind=action.kind,
            to_tags=tuple(to_tags),
            links=action.links,
            counts=action.counts,
        )


def count_tagged(
    connection: sa.Connection,
    rules: RuleSet,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, int]:
    """How many of the user's own actions in ``[since, until)`` each tag was given by
    ``rules`` (dropped actions not counted): the habit counts of the strategy pillar."""
    moment = until or datetime.now(UTC)
    counts: Counter[str] = Counter()
    for item in activity_items(store.own_activity(connection, since, until), rules, moment):
        decision = rules.decide(item, moment)
        if decision.kept:
            counts.update(decision.tags)
    return dict(sorted(counts.items()))
