"""Feed items, the state of each feed (validators for conditional GET, failures), and the
rules' decisions about items: the tables of the rules pillar and the queries it needs.

Items are deduplicated on insert by guid, URL and content hash, across feeds: the same
post reached through two feeds (or re-published under a new URL) is stored once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from kompas.model import FeedItem, FeedSubscription, InteractionKind
from kompas.period import DataSpan
from kompas.store.schema import (
    UTCDateTime,
    accounts,
    feed_subscriptions,
    interactions,
    metadata,
    posts,
)
from kompas.store.upsert import insert_for

feed_items = sa.Table(
    "feed_items",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(2048), nullable=False),
    sa.Column("guid", sa.String(2048)),
    sa.Column("url", sa.String(2048)),
    sa.Column("title", sa.Text, nullable=False, server_default=""),
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("html", sa.Text),
    sa.Column("author", sa.Text),
    sa.Column("published", UTCDateTime),
    sa.Column("language", sa.String(35)),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("links", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
    #: A post from a Mastodon or Bluesky timeline: its platform id, author, kind, counts.
    sa.Column("platform", sa.String(16)),
    sa.Column("post_id", sa.String(512)),
    sa.Column("author_id", sa.String(512)),
    sa.Column("kind", sa.String(16)),
    sa.Column("counts", sa.JSON),
    sa.Index(None, "guid"),
    sa.Index(None, "url"),
    sa.Index(None, "content_hash"),
    sa.Index(None, "fetched_at"),
    sa.Index(None, "platform", "post_id"),
    sa.Index(None, "platform", "author_id"),
)

#: One row per feed ever fetched: validators for conditional GET and how it has been going.
feed_state = sa.Table(
    "feed_state",
    metadata,
    sa.Column("url", sa.String(2048), primary_key=True),
    sa.Column("title", sa.Text),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("last_status", sa.String(16)),
    sa.Column("last_http_status", sa.Integer),
    sa.Column("last_error", sa.Text),
    sa.Column("last_fetched_at", UTCDateTime),
    sa.Column("last_ok_at", UTCDateTime),
    sa.Column("failure_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
)

#: The rules' latest decision about each item, with the rules that fired and why.
rule_decisions = sa.Table(
    "rule_decisions",
    metadata,
    sa.Column("item_id", sa.String(64), primary_key=True),
    sa.Column("kept", sa.Boolean, nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("routes", sa.JSON, nullable=False),
    sa.Column("fired", sa.JSON, nullable=False),
    sa.Column("decided_by", sa.Text),
    sa.Column("rules_digest", sa.String(32), nullable=False),
    sa.Column("decided_at", UTCDateTime, nullable=False),
    sa.Index(None, "decided_at"),
)


@dataclass(frozen=True, slots=True)
class SocialPost:
    """What a timeline item is beyond a feed entry: a post on a platform, by an account,
    of a kind (post, reply, quote), with public counts (likes, reposts, replies, quotes)."""

    platform: str
    post_id: str
    author_id: str
    kind: str
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry to store: the item and what dedupe and display need."""

    item: FeedItem
    guid: str | None
    html: str | None
    links: tuple[str, ...]
    content_hash: str
    social: SocialPost | None = None


@dataclass(frozen=True, slots=True)
class StoredItem:
    """A stored feed item with its HTML and links (and the post, for timeline items)."""

    item: FeedItem
    html: str | None
    links: tuple[str, ...]
    fetched_at: datetime
    social: SocialPost | None = None


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """How one feed has been going (``kompas feeds list``)."""

    url: str
    title: str | None
    last_status: str | None
    last_error: str | None
    last_fetched_at: datetime | None
    last_ok_at: datetime | None
    failure_count: int
    consecutive_failures: int
    items: int
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """A stored decision: what the rules decided about an item, and why."""

    item_id: str
    kept: bool
    score: int
    tags: tuple[str, ...]
    routes: tuple[str, ...]
    fired: list[dict[str, Any]]
    decided_by: str | None
    rules_digest: str
    decided_at: datetime


def subscriptions(connection: sa.Connection) -> list[FeedSubscription]:
    """Every feed the user follows (OPML imports and ``kompas feeds add``)."""
    rows = connection.execute(sa.select(feed_subscriptions).order_by(feed_subscriptions.c.url))
    return [FeedSubscription(r.url, r.title, r.html_url, tuple(r.categories or ())) for r in rows]


def add_subscription(connection: sa.Connection, url: str, title: str | None = None) -> bool:
    """Follow a feed; ``False`` when it was followed already."""
    statement = insert_for(connection, feed_subscriptions).values(
        url=url, title=title, html_url=None, categories=[]
    )
    result = connection.execute(statement.on_conflict_do_nothing(index_elements=["url"]))
    return bool(result.rowcount)


def validators(connection: sa.Connection) -> dict[str, tuple[str | None, str | None]]:
    """ETag and Last-Modified of every feed fetched before."""
    rows = connection.execute(
        sa.select(feed_state.c.url, feed_state.c.etag, feed_state.c.last_modified)
    )
    return {r.url: (r.etag, r.last_modified) for r in rows}


def record_fetch(
    connection: sa.Connection,
    url: str,
    *,
    status: str,
    now: datetime,
    http_status: int | None = None,
    title: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    error: str | None = None,
) -> None:
    """Remember how fetching ``url`` went: validators on success, a failure counted on
    error (the previous validators are kept, so the next pull can still be conditional)."""
    failed = status == "error"
    values: dict[str, Any] = {
        "url": url,
        "last_status": status,
        "last_http_status": http_status,
        "last_error": error,
        "last_fetched_at": now,
        "failure_count": 1 if failed else 0,
        "consecutive_failures": 1 if failed else 0,
    }
    if not failed:
        values.update(last_ok_at=now, etag=etag, last_modified=last_modified)
        if title:
            values["title"] = title
    statement = insert_for(connection, feed_state).values(**values)
    updates: dict[str, Any] = {
        "last_status": status,
        "last_http_status": http_status,
        "last_error": error,
        "last_fetched_at": now,
    }
    if failed:
        updates["failure_count"] = feed_state.c.failure_count + 1
        updates["consecutive_failures"] = feed_state.c.consecutive_failures + 1
    else:
        updates.update(
            consecutive_failures=0, last_ok_at=now, etag=etag, last_modified=last_modified
        )
        if title:
            updates["title"] = title
    connection.execute(statement.on_conflict_do_update(index_elements=["url"], set_=updates))


def _existing(connection: sa.Connection, column: sa.Column[Any], values: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(values)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        found.update(connection.execute(sa.select(column).where(column.in_(chunk))).scalars())
    return found


def add_items(connection: sa.Connection, entries: Sequence[NewEntry], now: datetime) -> list[str]:
    """Store the entries not seen before (by guid, URL or content hash, in the store or
    earlier in ``entries``); returns the ids of the items added."""
    guids = _existing(connection, feed_items.c.guid, {e.guid for e in entries if e.guid})
    urls = _existing(connection, feed_items.c.url, {e.item.url for e in entries if e.item.url})
    hashes = _existing(connection, feed_items.c.content_hash, {e.content_hash for e in entries})
    ids = _existing(connection, feed_items.c.id, {e.item.id for e in entries})
    rows: list[dict[str, Any]] = []
    for entry in entries:
        item = entry.item
        if (
            item.id in ids
            or (entry.guid and entry.guid in guids)
            or (item.url and item.url in urls)
            # An empty entry hashes the same as every other empty entry: not a duplicate.
            or (entry.content_hash in hashes and (item.title or item.text))
        ):
            continue
        ids.add(item.id)
        if entry.guid:
            guids.add(entry.guid)
        if item.url:
            urls.add(item.url)
        hashes.add(entry.content_hash)
        rows.append(
            {
                "id": item.id,
                "source": item.source,
                "guid": entry.guid,
                "url": item.url,
                "title": item.title,
                "text": item.text,
                "html": entry.html,
                "author": item.author,
                "published": item.published,
                "language": item.language,
                "tags": list(item.tags),
                "links": list(entry.links),
                "content_hash": entry.content_hash,
                "fetched_at": now,
                "platform": entry.social.platform if entry.social else None,
                "post_id": entry.social.post_id if entry.social else None,
                "author_id": entry.social.author_id if entry.social else None,
                "kind": entry.social.kind if entry.social else None,
                "counts": dict(entry.social.counts) if entry.social else None,
            }
        )
    if rows:
        connection.execute(feed_items.insert(), rows)
    return [r["id"] for r in rows]


def _stored(row: Any) -> StoredItem:
    item = FeedItem(
        id=row.id,
        source=row.source,
        title=row.title or "",
        text=row.text or "",
        url=row.url,
        author=row.author,
        published=row.published,
        language=row.language,
        tags=tuple(row.tags or ()),
    )
    social = (
        SocialPost(row.platform, row.post_id, row.author_id, row.kind, dict(row.counts or {}))
        if row.platform is not None and row.post_id is not None
        else None
    )
    return StoredItem(item, row.html, tuple(row.links or ()), row.fetched_at, social)


def items(
    connection: sa.Connection,
    ids: Iterable[str] | None = None,
    since: datetime | None = None,
) -> Iterator[StoredItem]:
    """Stored items: those with ``ids``, or all (fetched or published since ``since``)."""
    if ids is not None:
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for row in connection.execute(sa.select(feed_items).where(feed_items.c.id.in_(chunk))):
                yield _stored(row)
        return
    query = sa.select(feed_items).order_by(feed_items.c.fetched_at, feed_items.c.id)
    if since is not None:
        query = query.where(
            sa.func.coalesce(feed_items.c.published, feed_items.c.fetched_at) >= since
        )
    for row in connection.execute(query):
        yield _stored(row)


def feed_span(connection: sa.Connection) -> DataSpan:
    """When the stored feed items were published (or fetched): the data feed views anchor
    their default windows to."""
    when = sa.func.coalesce(feed_items.c.published, feed_items.c.fetched_at)
    first, last = connection.execute(sa.select(sa.func.min(when), sa.func.max(when))).one()
    if first is None or last is None:
        return DataSpan()
    kind = feed_items.c.fetched_at.type
    first = kind.process_result_value(first, connection.dialect)  # type: ignore[attr-defined]
    last = kind.process_result_value(last, connection.dialect)  # type: ignore[attr-defined]
    return DataSpan(first, last)


def item_count(connection: sa.Connection) -> int:
    """How many feed items are stored."""
    return int(connection.execute(sa.select(sa.func.count()).select_from(feed_items)).scalar_one())


def save_decisions(
    connection: sa.Connection, decisions: Iterable[dict[str, Any]], rules_digest: str, now: datetime
) -> int:
    """Store decisions (the JSON shape of :class:`kompas.rules.Decision`), replacing any
    earlier decision about the same items."""
    rows = [
        {
            "item_id": d["id"],
            "kept": bool(d["kept"]),
            "score": int(d["score"]),
            "tags": list(d["tags"]),
            "routes": list(d["routes"]),
            "fired": list(d["fired"]),
            "decided_by": d.get("decided_by"),
            "rules_digest": rules_digest,
            "decided_at": now,
        }
        for d in decisions
    ]
    if not rows:
        return 0
    statement = insert_for(connection, rule_decisions)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["item_id"],
        set_={c.name: excluded[c.name] for c in rule_decisions.columns if c.name != "item_id"},
    )
    for start in range(0, len(rows), 1000):
        connection.execute(statement, rows[start : start + 1000])
    return len(rows)


def _decision(row: Any) -> StoredDecision:
    return StoredDecision(
        item_id=row.item_id,
        kept=bool(row.kept),
        score=int(row.score),
        tags=tuple(row.tags or ()),
        routes=tuple(row.routes or ()),
        fired=list(row.fired or ()),
        decided_by=row.decided_by,
        rules_digest=row.rules_digest,
        decided_at=row.decided_at,
    )


def decision(connection: sa.Connection, item_id: str) -> StoredDecision | None:
    """The stored decision about one item (``None`` if the rules never saw it)."""
    row = connection.execute(
        sa.select(rule_decisions).where(rule_decisions.c.item_id == item_id)
    ).first()
    return None if row is None else _decision(row)


def decided_items(
    connection: sa.Connection,
    since: datetime | None = None,
    kept_only: bool = True,
    until: datetime | None = None,
) -> list[tuple[StoredItem, StoredDecision]]:
    """Items with their decisions (kept ones by default), newest first, published (or
    fetched) in ``[since, until)``."""
    when = sa.func.coalesce(feed_items.c.published, feed_items.c.fetched_at)
    query = (
        sa.select(feed_items, *[c.label(f"d_{c.name}") for c in rule_decisions.columns])
        .join(rule_decisions, rule_decisions.c.item_id == feed_items.c.id)
        .order_by(when.desc(), feed_items.c.id)
    )
    if since is not None:
        query = query.where(when >= since)
    if until is not None:
        query = query.where(when < until)
    if kept_only:
        query = query.where(rule_decisions.c.kept)
    found: list[tuple[StoredItem, StoredDecision]] = []
    for row in connection.execute(query):
        mapping = row._mapping
        decided = StoredDecision(
            item_id=mapping["d_item_id"],
            kept=bool(mapping["d_kept"]),
            score=int(mapping["d_score"]),
            tags=tuple(mapping["d_tags"] or ()),
            routes=tuple(mapping["d_routes"] or ()),
            fired=list(mapping["d_fired"] or ()),
            decided_by=mapping["d_decided_by"],
            rules_digest=mapping["d_rules_digest"],
            decided_at=mapping["d_decided_at"],
        )
        found.append((_stored(row), decided))
    return found


def feed_statuses(connection: sa.Connection) -> list[FeedStatus]:
    """Every followed or fetched feed with its state and item count."""
    counts: dict[str, int] = dict(
        connection.execute(
            sa.select(feed_items.c.source, sa.func.count()).group_by(feed_items.c.source)
        ).all()
    )
    states = {r.url: r for r in connection.execute(sa.select(feed_state))}
    urls = sorted(set(states) | {s.url for s in subscriptions(connection)})
    titles = {s.url: s.title for s in subscriptions(connection)}
    found: list[FeedStatus] = []
    for url in urls:
        state = states.get(url)
        found.append(
            FeedStatus(
                url=url,
                title=(state.title if state is not None and state.title else titles.get(url)),
                last_status=state.last_status if state is not None else None,
                last_error=state.last_error if state is not None else None,
                last_fetched_at=state.last_fetched_at if state is not None else None,
                last_ok_at=state.last_ok_at if state is not None else None,
                failure_count=int(state.failure_count) if state is not None else 0,
                consecutive_failures=int(state.consecutive_failures) if state is not None else 0,
                items=int(counts.get(url, 0)),
                etag=state.etag if state is not None else None,
                last_modified=state.last_modified if state is not None else None,
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class OwnAction:
    """One of the user's own posts or interactions, with the post it acts on (if stored)."""

    platform: str
    id: str
    kind: str
    created_at: datetime | None
    text: str
    language: str | None
    url: str | None
    links: tuple[str, ...]
    hashtags: tuple[str, ...]
    counts: dict[str, int]
    target_text: str | None
    target_hashtags: tuple[str, ...]
    target_author: str | None


def own_activity(
    connection: sa.Connection, since: datetime | None = None, until: datetime | None = None
) -> Iterator[OwnAction]:
    """The user's own posts and interactions (likes, bookmarks, reposts, replies…) in a
    time window, each with the text and hashtags of the post it answers or acts on."""
    own = sa.select(accounts.c.platform, accounts.c.id).where(accounts.c.is_self).subquery()
    target = posts.alias("target")

    def window(column: Any, query: Any) -> Any:
        if since is not None:
            query = query.where(column >= since)
        if until is not None:
            query = query.where(column < until)
        return query

    mine = window(
        posts.c.created_at,
        sa.select(
            posts,
            target.c.text.label("t_text"),
            target.c.hashtags.label("t_tags"),
            target.c.author_id.label("t_author"),
        )
        .join(own, sa.and_(posts.c.platform == own.c.platform, posts.c.author_id == own.c.id))
        .outerjoin(
            target,
            sa.and_(
                target.c.platform == posts.c.platform,
                target.c.id
                == sa.func.coalesce(posts.c.reply_to_id, posts.c.quote_of_id, posts.c.repost_of_id),
            ),
        )
        .order_by(posts.c.platform, posts.c.id),
    )
    for row in connection.execute(mine):
        counts = {
            name: int(value)
            for name, value in (
                ("likes", row.like_count),
                ("reposts", row.repost_count),
                ("replies", row.reply_count),
                ("quotes", row.quote_count),
            )
            if value is not None
        }
        yield OwnAction(
            platform=row.platform,
            id=row.id,
            kind=row.kind,
            created_at=row.created_at,
            text=row.text or "",
            language=row.language,
            url=row.url,
            links=tuple(row.links or ()),
            hashtags=tuple(row.hashtags or ()),
            counts=counts,
            target_text=row.t_text,
            target_hashtags=tuple(row.t_tags or ()),
            target_author=row.t_author,
        )
    # Posts already cover replies, reposts and quotes; the rest are interactions only.
    acted = (
        InteractionKind.LIKE.value,
        InteractionKind.BOOKMARK.value,
        InteractionKind.FOLLOW.value,
    )
    theirs = window(
        interactions.c.created_at,
        sa.select(
            interactions,
            target.c.text.label("t_text"),
            target.c.hashtags.label("t_tags"),
            target.c.author_id.label("t_author"),
            target.c.url.label("t_url"),
        )
        .join(
            own,
            sa.and_(interactions.c.platform == own.c.platform, interactions.c.actor_id == own.c.id),
        )
        .outerjoin(
            target,
            sa.and_(
                target.c.platform == interactions.c.platform,
                target.c.id == interactions.c.target_post_id,
            ),
        )
        .where(interactions.c.kind.in_(acted))
        .order_by(interactions.c.platform, interactions.c.id),
    )
    for row in connection.execute(theirs):
        yield OwnAction(
            platform=row.platform,
            id=row.id,
            kind=row.kind,
            created_at=row.created_at,
            text="",
            language=None,
            url=row.t_url,
            links=(),
            hashtags=(),
            counts={},
            target_text=row.t_text,
            target_hashtags=tuple(row.t_tags or ()),
            target_author=row.t_author or row.target_account_id,
        )


@dataclass(frozen=True, slots=True)
class RoutedPost:
    """A kept timeline post that the rules routed somewhere, with its score and time."""

    item_id: str
    post_id: str
    score: int
    published: datetime | None


def routed_posts(connection: sa.Connection, route: str, platform: str) -> list[RoutedPost]:
    """Kept items of ``platform`` that the rules routed to ``route`` (e.g. ``feed:best``)."""
    text = sa.cast(rule_decisions.c.routes, sa.Text)
    pattern = '%"' + route.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"%'
    query = (
        sa.select(
            feed_items.c.id,
            feed_items.c.post_id,
            rule_decisions.c.score,
            feed_items.c.published,
            rule_decisions.c.routes,
        )
        .join(rule_decisions, rule_decisions.c.item_id == feed_items.c.id)
        .where(
            rule_decisions.c.kept,
            feed_items.c.platform == platform,
            feed_items.c.post_id.is_not(None),
            text.like(pattern, escape="\\"),  # narrows in SQL; the exact test is below
        )
    )
    return [
        RoutedPost(row.id, row.post_id, int(row.score), row.published)
        for row in connection.execute(query)
        if route in (row.routes or ())
    ]


def timeline_post_counts(
    connection: sa.Connection, days: int
) -> tuple[dict[str, int], datetime | None]:
    """Posts per author (``platform:account_id``) among the stored timeline items of the
    ``days`` before the newest one, and that newest time (``None``: no timeline item)."""
    timeline = feed_items.c.platform.is_not(None) & feed_items.c.author_id.is_not(None)
    newest = connection.execute(
        sa.select(sa.func.max(feed_items.c.published)).where(timeline)
    ).scalar_one_or_none()
    if newest is None:
        return {}, None
    kind = feed_items.c.published.type
    end: datetime = kind.process_result_value(newest, connection.dialect)  # type: ignore[attr-defined]
    rows = connection.execute(
        sa.select(feed_items.c.platform, feed_items.c.author_id, sa.func.count())
        .where(timeline, feed_items.c.published > end - timedelta(days=days))
        .group_by(feed_items.c.platform, feed_items.c.author_id)
    )
    return {f"{platform}:{author}": int(n) for platform, author, n in rows}, end


def routed_authors(connection: sa.Connection, route: str, platform: str) -> dict[str, str | None]:
    """The authors (account id → handle) of the kept ``platform`` posts that the rules
    routed to ``route`` (``list:NAME``, ``people-to-meet``), the user's own excepted."""
    text = sa.cast(rule_decisions.c.routes, sa.Text)
    pattern = '%"' + route.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"%'
    own = sa.select(accounts.c.id).where(accounts.c.is_self, accounts.c.platform == platform)
    query = (
        sa.select(feed_items.c.author_id, feed_items.c.author, rule_decisions.c.routes)
        .join(rule_decisions, rule_decisions.c.item_id == feed_items.c.id)
        .where(
            rule_decisions.c.kept,
            feed_items.c.platform == platform,
            feed_items.c.author_id.is_not(None),
            feed_items.c.author_id.not_in(own),
            text.like(pattern, escape="\\"),  # narrows in SQL; the exact test is below
        )
        .order_by(feed_items.c.author_id)
    )
    found: dict[str, str | None] = {}
    for row in connection.execute(query):
        if route in (row.routes or ()):
            found[row.author_id] = found.get(row.author_id) or row.author
    return found


def list_routes(connection: sa.Connection) -> dict[str, set[str]]:
    """Every ``list:NAME`` route of kept timeline posts → the platforms of those posts."""
    text = sa.cast(rule_decisions.c.routes, sa.Text)
    query = (
        sa.select(feed_items.c.platform, rule_decisions.c.routes)
        .join(rule_decisions, rule_decisions.c.item_id == feed_items.c.id)
        .where(
            rule_decisions.c.kept,
            feed_items.c.platform.is_not(None),
            text.like('%"list:%'),
        )
    )
    found: dict[str, set[str]] = {}
    for row in connection.execute(query):
        for route in row.routes or ():
            if isinstance(route, str) and route.startswith("list:"):
                found.setdefault(route.removeprefix("list:"), set()).add(row.platform)
    return found


def handles(connection: sa.Connection, platform: str, ids: Iterable[str]) -> dict[str, str]:
    """The stored handles of ``platform`` accounts (those with one)."""
    wanted = sorted(set(ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        rows = connection.execute(
            sa.select(accounts.c.id, accounts.c.handle).where(
                accounts.c.platform == platform,
                accounts.c.id.in_(wanted[start : start + 500]),
                accounts.c.handle.is_not(None),
            )
        )
        found.update({row.id: row.handle for row in rows})
    return found
