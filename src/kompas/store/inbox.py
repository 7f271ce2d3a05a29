"""The inbox's rows: what others addressed to the user (replies, mentions, quotes), whether
and when the user answered, and the marks the user set (done, snoozed, ignored).

Everything is read through indexes: what was addressed to the user is an index range per
own account (``interactions`` by target and time, ``posts`` by the account they reply to),
and each answer is an index lookup (``posts`` by ``reply_to_id``, ``quote_of_id`` and
``conversation_id``). The community figures ``median_reply_minutes`` and
``unanswered_share`` read the same rows (:func:`addressed`), so they and the inbox list can
never disagree. Marks are the user's own: a sync never writes them.
"""

from __future__ import annotations

import hashlib
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from kompas.store import schema
from kompas.store.schema import accounts, follows, interactions, posts
from kompas.store.upsert import insert_for

#: The kinds of interaction that address the user and wait for an answer, strongest first
#: (a post that both replies to and quotes the user is one reply).
ADDRESSING = ("reply", "quote", "mention")
STATES = ("done", "snoozed", "ignored")
#: How many ids one ``IN (...)`` list holds.
CHUNK = 500

inbox_marks = sa.Table(
    "inbox_marks",
    schema.metadata,
    sa.Column("platform", sa.String(16), primary_key=True),
    #: The post that addressed the user (the platform's id or URI).
    sa.Column("post", sa.String(512), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    #: Until when a snoozed item stays out of the inbox.
    sa.Column("until", schema.UTCDateTime),
    sa.Column("marked_at", schema.UTCDateTime, nullable=False),
)

#: What others addressed to the user in a time window: an index range per own account.
ix_interactions_target_time = sa.Index(
    "ix_interactions_platform_target_account_id_created_at",
    interactions.c.platform,
    interactions.c.target_account_id,
    interactions.c.created_at,
)
#: What others addressed to the user, by kind, without reading the likes in between.
ix_interactions_target_kind_time = sa.Index(
    "ix_interactions_platform_target_account_id_kind_created_at",
    interactions.c.platform,
    interactions.c.target_account_id,
    interactions.c.kind,
    interactions.c.created_at,
)
ix_posts_reply_author_time = sa.Index(
    "ix_posts_platform_reply_to_author_id_created_at",
    posts.c.platform,
    posts.c.reply_to_author_id,
    posts.c.created_at,
)
#: The user's answers: a quote of the post, or a later reply in its thread.
ix_posts_quote = sa.Index("ix_posts_platform_quote_of_id", posts.c.platform, posts.c.quote_of_id)
ix_posts_conversation = sa.Index(
    "ix_posts_platform_conversation_id", posts.c.platform, posts.c.conversation_id
)


def item_id(platform: str, post: str) -> str:
    """The short id of the item ``post`` (what ``kompas inbox done ID`` takes): the same
    on every sync and import of the same post."""
    return hashlib.blake2b(f"{platform}\x1f{post}".encode(), digest_size=5).hexdigest()


@dataclass(frozen=True, slots=True)
class Addressed:
    """One post that addressed the user, and whether the user answered it.

    ``answered`` holds when the user replied to it, quoted it, or replied to its author
    later in the same thread; ``answered_at`` is the first such answer's time (``None``
    when unanswered or when the answer has no time).
    """

    platform: str
    post: str
    actor: str
    kind: str
    at: datetime | None
    target_post: str | None
    answered: bool
    answered_at: datetime | None

    @property
    def id(self) -> str:
        """The item's short id."""
        return item_id(self.platform, self.post)

    @property
    def delay_minutes(self) -> float | None:
        """Minutes from the post to the user's first answer (``None``: not known)."""
        if self.at is None or self.answered_at is None:
            return None
        return max(0.0, (self.answered_at - self.at).total_seconds() / 60)


def responsiveness(items: Iterable[Addressed]) -> tuple[float | None, float | None]:
    """Median minutes the user took to answer, and the share of items left unanswered
    (``None`` when nothing was addressed to the user): the community figures
    ``median_reply_minutes`` and ``unanswered_share``, from the rows the inbox lists."""
    total = unanswered = 0
    delays: list[float] = []
    for item in items:
        total += 1
        if not item.answered:
            unanswered += 1
        elif item.delay_minutes is not None:
            delays.append(item.delay_minutes)
    median = statistics.median(delays) if delays else None
    return median, (unanswered / total if total else None)


@dataclass(frozen=True, slots=True)
class Mark:
    """The user's mark on an item."""

    state: str
    until: datetime | None
    marked_at: datetime


@dataclass(frozen=True, slots=True)
class PostText:
    """What the inbox shows of a post."""

    text: str
    url: str | None
    language: str | None
    hashtags: tuple[str, ...]
    conversation_id: str | None
    reply_to_id: str | None
    created_at: datetime | None


def selves(connection: sa.Connection, platform: str | None = None) -> dict[str, list[str]]:
    """The user's own accounts, per platform."""
    query = sa.select(accounts.c.platform, accounts.c.id).where(accounts.c.is_self)
    if platform is not None:
        query = query.where(accounts.c.platform == platform)
    found: dict[str, list[str]] = defaultdict(list)
    for row in connection.execute(query):
        found[row.platform].append(row.id)
    return dict(found)


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _window(column: Any, since: datetime | None, until: datetime | None) -> sa.ColumnElement[bool]:
    condition: sa.ColumnElement[bool] = sa.true()
    if since is not None:
        condition = condition & (column >= since)
    if until is not None:
        condition = condition & (column < until)
    return condition


def addressed(
    connection: sa.Connection,
    own: dict[str, list[str]],
    since: datetime | None = None,
    until: datetime | None = None,
    answers: bool = True,
) -> list[Addressed]:
    """Every post by someone else that replied to, mentioned or quoted the user in
    ``[since, until)`` (all time when both are ``None``; undated posts only then), each once,
    with whether the user answered it (not looked up when ``answers`` is false)."""
    found: list[Addressed] = []
    for platform, ids in own.items():
        candidates: dict[str, tuple[str, str, datetime | None, str | None]] = {}
        rank = {kind: n for n, kind in enumerate(ADDRESSING)}
        rows = connection.execute(
            sa.select(
                interactions.c.kind,
                interactions.c.actor_id,
                interactions.c.target_post_id,
                interactions.c.via_post_id,
                interactions.c.created_at,
            ).where(
                (interactions.c.platform == platform)
                & interactions.c.target_account_id.in_(ids)
                & _window(interactions.c.created_at, since, until)
                & interactions.c.kind.in_(ADDRESSING)
                & interactions.c.via_post_id.is_not(None)
                & interactions.c.actor_id.not_in(ids)
            )
        ).all()
        for kind, actor, target, via, at in rows:
            known = candidates.get(via)
            if known is None or rank[kind] < rank[known[1]]:
                candidates[via] = (actor, kind, at, target)
        # Replies to the user known only as posts (no interaction row): a synced thread.
        replies = connection.execute(
            sa.select(posts.c.id, posts.c.author_id, posts.c.created_at, posts.c.reply_to_id).where(
                (posts.c.platform == platform)
                & posts.c.reply_to_author_id.in_(ids)
                & _window(posts.c.created_at, since, until)
                & posts.c.author_id.not_in(ids)
            )
        ).all()
        for post, author, at, parent in replies:
            known = candidates.get(post)
            if known is None or known[1] != "reply":
                candidates[post] = (author, "reply", at, parent)
        answered = _answers(connection, platform, ids, candidates) if answers else {}
        for post, (actor, kind, at, target) in candidates.items():
            times = [t for t in answered.get(post, ()) if at is None or t is None or t >= at]
            dated = [t for t in times if t is not None]
            found.append(
                Addressed(
                    platform, post, actor, kind, at, target, bool(times), min(dated, default=None)
                )
            )
    return found


def ever_addressed(connection: sa.Connection, own: dict[str, list[str]]) -> bool:
    """Whether the store holds anything addressed to the user at all: exports hold what
    the user did, so an empty inbox from them means "no data", not "nobody wrote"."""
    for platform, ids in own.items():
        interaction = sa.select(interactions.c.id).where(
            (interactions.c.platform == platform)
            & interactions.c.target_account_id.in_(ids)
            & interactions.c.kind.in_(ADDRESSING)
            & interactions.c.actor_id.not_in(ids)
        )
        reply = sa.select(posts.c.id).where(
            (posts.c.platform == platform)
            & posts.c.reply_to_author_id.in_(ids)
            & posts.c.author_id.not_in(ids)
        )
        for query in (interaction, reply):
            if connection.execute(query.limit(1)).first() is not None:
                return True
    return False


def _answers(
    connection: sa.Connection,
    platform: str,
    ids: list[str],
    candidates: dict[str, tuple[str, str, datetime | None, str | None]],
) -> dict[str, list[datetime | None]]:
    """For each candidate post, the times of the user's answers: replies to it, quotes of
    it, and replies to its author in the same thread (conversation)."""
    times: dict[str, list[datetime | None]] = defaultdict(list)
    keys = list(candidates)
    mine = set(ids)
    # Each lookup goes by the answered post's own index; whose post it is, is checked here
    # (an ``author_id IN`` in SQL would let the planner walk every post of the user).
    for chunk in _chunks(keys):
        for column in (posts.c.reply_to_id, posts.c.quote_of_id):
            for answered, author, at in connection.execute(
                sa.select(column, posts.c.author_id, posts.c.created_at).where(
                    (posts.c.platform == platform) & column.in_(chunk)
                )
            ).all():
                if author in mine:
                    times[answered].append(at)
    threads: dict[str, list[str]] = defaultdict(list)
    for chunk in _chunks(keys):
        for post, conversation in connection.execute(
            sa.select(posts.c.id, posts.c.conversation_id).where(
                (posts.c.platform == platform)
                & posts.c.id.in_(chunk)
                & posts.c.conversation_id.is_not(None)
            )
        ):
            threads[conversation].append(post)
    conversations = list(threads)
    for chunk in _chunks(conversations):
        for conversation, author, to_author, at in connection.execute(
            sa.select(
                posts.c.conversation_id,
                posts.c.author_id,
                posts.c.reply_to_author_id,
                posts.c.created_at,
            ).where((posts.c.platform == platform) & posts.c.conversation_id.in_(chunk))
        ):
            if author not in mine or to_author is None:
                continue
            for post in threads[conversation]:
                actor, _, when, _ = candidates[post]
                # A later reply to the same person in the thread answers them.
                if actor == to_author and (when is None or at is None or at >= when):
                    times[post].append(at)
    return times


def post_texts(connection: sa.Connection, platform: str, ids: Iterable[str]) -> dict[str, PostText]:
    """The text (and what else the inbox shows) of some posts of one platform."""
    found: dict[str, PostText] = {}
    for chunk in _chunks(list(dict.fromkeys(ids))):
        for row in connection.execute(
            sa.select(
                posts.c.id,
                posts.c.text,
                posts.c.url,
                posts.c.language,
                posts.c.hashtags,
                posts.c.conversation_id,
                posts.c.reply_to_id,
                posts.c.created_at,
            ).where((posts.c.platform == platform) & posts.c.id.in_(chunk))
        ).all():
            found[row.id] = PostText(
                row.text or "",
                row.url,
                row.language,
                tuple(row.hashtags or ()),
                row.conversation_id,
                row.reply_to_id,
                row.created_at,
            )
    return found


@dataclass(frozen=True, slots=True)
class Person:
    """What the store knows of one account that addressed the user."""

    handle: str | None
    display_name: str | None
    is_bot: bool | None
    created_at: datetime | None
    followers_count: int | None
    following_count: int | None
    posts_count: int | None
    bio: str | None


def people(connection: sa.Connection, platform: str, ids: Iterable[str]) -> dict[str, Person]:
    """The stored profiles of some accounts of one platform."""
    found: dict[str, Person] = {}
    for chunk in _chunks(list(dict.fromkeys(ids))):
        for row in connection.execute(
            sa.select(
                accounts.c.id,
                accounts.c.handle,
                accounts.c.display_name,
                accounts.c.is_bot,
                accounts.c.created_at,
                accounts.c.followers_count,
                accounts.c.following_count,
                accounts.c.posts_count,
                accounts.c.bio,
            ).where((accounts.c.platform == platform) & accounts.c.id.in_(chunk))
        ).all():
            found[row.id] = Person(
                row.handle,
                row.display_name,
                row.is_bot,
                row.created_at,
                row.followers_count,
                row.following_count,
                row.posts_count,
                row.bio,
            )
    return found


@dataclass(frozen=True, slots=True)
class Exchanges:
    """Every dated exchange between the user and one account (given: by the user to
    them; received: by them to the user), and whether they follow the user."""

    given: tuple[datetime | None, ...]
    received: tuple[datetime | None, ...]
    follows_user: bool


def exchanges(
    connection: sa.Connection, platform: str, own: list[str], others: Iterable[str]
) -> dict[str, Exchanges]:
    """What the user and each of ``others`` exchanged, read through the interaction
    indexes (by target account, by actor)."""
    given_by_post: dict[str, dict[str, datetime | None]] = defaultdict(dict)
    received: dict[str, list[datetime | None]] = defaultdict(list)
    wanted = list(dict.fromkeys(others))
    mine = set(own)
    # Each query goes by the other account's index; the user's side is checked here.
    for chunk in _chunks(wanted):
        for number, (other, actor, via, at) in enumerate(
            connection.execute(
                sa.select(
                    interactions.c.target_account_id,
                    interactions.c.actor_id,
                    interactions.c.via_post_id,
                    interactions.c.created_at,
                ).where(
                    (interactions.c.platform == platform)
                    & interactions.c.target_account_id.in_(chunk)
                )
            )
        ):
            if actor in mine:
                given_by_post[other][via or f"\x00{number}"] = at
        # The user's replies read off their own posts (an archive has no interaction row).
        for other, author, post, at in connection.execute(
            sa.select(
                posts.c.reply_to_author_id, posts.c.author_id, posts.c.id, posts.c.created_at
            ).where((posts.c.platform == platform) & posts.c.reply_to_author_id.in_(chunk))
        ):
            if author in mine:
                given_by_post[other][post] = at
        for other, target, at in connection.execute(
            sa.select(
                interactions.c.actor_id, interactions.c.target_account_id, interactions.c.created_at
            ).where((interactions.c.platform == platform) & interactions.c.actor_id.in_(chunk))
        ):
            if target in mine:
                received[other].append(at)
    followers: set[str] = set()
    for chunk in _chunks(wanted):
        followers.update(
            connection.execute(
                sa.select(follows.c.follower_id).where(
                    (follows.c.platform == platform)
                    & follows.c.followee_id.in_(own)
                    & follows.c.follower_id.in_(chunk)
                    & schema.current_follow
                )
            ).scalars()
        )
    return {
        other: Exchanges(
            tuple(given_by_post[other].values()), tuple(received[other]), other in followers
        )
        for other in wanted
    }


def marks(connection: sa.Connection) -> dict[tuple[str, str], Mark]:
    """Every mark the user set, by (platform, post)."""
    return {
        (row.platform, row.post): Mark(row.state, row.until, row.marked_at)
        for row in connection.execute(sa.select(inbox_marks))
    }


def set_mark(
    connection: sa.Connection,
    platform: str,
    post: str,
    state: str,
    marked_at: datetime,
    until: datetime | None = None,
) -> None:
    """Mark one item ``done``, ``snoozed`` (until ``until``) or ``ignored``."""
    if state not in STATES:
        raise ValueError(f"unknown inbox state {state!r}")
    insert = insert_for(connection, inbox_marks)
    statement = insert.values(
        platform=platform, post=post, state=state, until=until, marked_at=marked_at
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["platform", "post"],
            set_={
                "state": statement.excluded.state,
                "until": statement.excluded.until,
                "marked_at": statement.excluded.marked_at,
            },
        )
    )


def clear_mark(connection: sa.Connection, platform: str, post: str) -> bool:
    """Take the user's mark off one item; whether there was one."""
    result = connection.execute(
        sa.delete(inbox_marks).where(
            (inbox_marks.c.platform == platform) & (inbox_marks.c.post == post)
        )
    )
    return bool(result.rowcount)


#: The exchanges that make a tie: talking (likes, bookmarks and reposts are reading and
#: sharing, not talking).
TALK = ("reply", "mention", "quote")


def fading(
    connection: sa.Connection,
    own: dict[str, list[str]],
    end: datetime,
    recent: timedelta,
    before: timedelta,
    limit: int = 20,
) -> list[tuple[str, str, int]]:
    """People the user talked with most in the ``before`` span that ended ``recent`` ago,
    newest-first by count, as ``(platform, account, exchanges)``: the candidates for a
    fading tie (the caller checks they went quiet since). Read through the indexes by
    actor and time, and by target and time."""
    start, cut = end - recent - before, end - recent
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for platform, ids in own.items():
        for other, number in connection.execute(
            sa.select(interactions.c.target_account_id, sa.func.count())
            .where(
                (interactions.c.platform == platform)
                & interactions.c.actor_id.in_(ids)
                & (interactions.c.created_at >= start)
                & (interactions.c.created_at < cut)
                & interactions.c.kind.in_(TALK)
                & interactions.c.target_account_id.is_not(None)
                & interactions.c.target_account_id.not_in(ids)
            )
            .group_by(interactions.c.target_account_id)
        ):
            counts[(platform, other)] += int(number)
        for other, number in connection.execute(
            sa.select(posts.c.reply_to_author_id, sa.func.count())
            .where(
                (posts.c.platform == platform)
                & posts.c.author_id.in_(ids)
                & (posts.c.created_at >= start)
                & (posts.c.created_at < cut)
                & posts.c.reply_to_author_id.is_not(None)
                & posts.c.reply_to_author_id.not_in(ids)
            )
            .group_by(posts.c.reply_to_author_id)
        ):
            counts[(platform, other)] += int(number)
        for other, number in connection.execute(
            sa.select(interactions.c.actor_id, sa.func.count())
            .where(
                (interactions.c.platform == platform)
                & interactions.c.target_account_id.in_(ids)
                & (interactions.c.created_at >= start)
                & (interactions.c.created_at < cut)
                & interactions.c.kind.in_(TALK)
                & interactions.c.actor_id.not_in(ids)
            )
            .group_by(interactions.c.actor_id)
        ):
            counts[(platform, other)] += int(number)
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]
    return [(platform, other, number) for (platform, other), number in ranked]


def new_followers(
    connection: sa.Connection, own: dict[str, list[str]], since: datetime, limit: int = 20
) -> list[tuple[str, str, datetime]]:
    """Who started following the user since ``since`` (where the data dates follows),
    newest first, as ``(platform, account, followed_at)``."""
    found: list[tuple[str, str, datetime]] = []
    for platform, ids in own.items():
        for follower, at in connection.execute(
            sa.select(follows.c.follower_id, follows.c.followed_at)
            .where(
                (follows.c.platform == platform)
                & follows.c.followee_id.in_(ids)
                & (follows.c.followed_at >= since)
                & schema.current_follow
            )
            .order_by(follows.c.followed_at.desc())
            .limit(limit)
        ):
            found.append((platform, follower, at))
    return sorted(found, key=lambda row: row[2], reverse=True)[:limit]
