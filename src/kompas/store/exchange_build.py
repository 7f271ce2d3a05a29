"""Deriving the user's exchanges (:mod:`kompas.store.exchanges`) from posts and
interactions, in SQL, into either set of derived tables: the store's own or a request's
temporary ones. What each row means is what the reference over loaded rows reads off the
records (:mod:`kompas.community.contacts`, :mod:`kompas.community.conversation`); a
property test holds the figures counted from these tables to the reference's."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from kompas import notice
from kompas.model import InteractionKind, PostKind
from kompas.store import exchanges, identities, sqlfn
from kompas.store.exchanges import (
    DAY_SECONDS,
    MONDAY,
    SUMMARY_HALF_LIFE_DAYS,
    WEEK_SECONDS,
    Derived,
)
from kompas.store.schema import UTCDateTime, identity_links, interactions, posts

_helpers = sa.MetaData()


def _table(name: str, *columns: sa.Column[Any]) -> sa.Table:
    return sa.Table(name, _helpers, *columns, prefixes=["TEMPORARY"])


_S = sa.String(512)
#: The user's accounts while deriving: their own (strict) and those linked to them.
SELVES = _table(
    "kompas_selves",
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("account", _S, primary_key=True),
    sa.Column("strict", sa.Boolean, nullable=False),
)
QUOTES = _table(
    "kompas_quotes",
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("post_id", _S, primary_key=True),
    sa.Column("author", _S),
)
TREE = _table(
    "kompas_tree",
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("id", _S, primary_key=True),
    sa.Column("reply_to_id", _S),
    sa.Column("conversation_id", _S),
    sa.Column("own", sa.Boolean, nullable=False),
    sa.Column("thread", sa.Text),
)
ENDS = _table(
    "kompas_ends",
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("id", _S, primary_key=True),
    sa.Column("thread", sa.Text),
)
_HELPERS = (SELVES, QUOTES, TREE, ENDS)
#: How far up a reply chain SQL walks; longer chains and loops are walked in Python.
_DEPTH = 64
_ADDRESSING = (InteractionKind.REPLY.value, InteractionKind.MENTION.value)
_LEARNING = (InteractionKind.LIKE.value, InteractionKind.BOOKMARK.value)
_LENGTH = {"week": WEEK_SECONDS, "day": DAY_SECONDS}
#: The decay rate (per second, negative) the weekly summary carries.
RATE = -math.log(2) / 86400 / SUMMARY_HALF_LIFE_DAYS


#: What the user is told while the store's derived tables are rebuilt.
REBUILDING = "Counting your exchanges once after new data (~2 min per million posts)"


class Builder:
    """Fills one set of derived tables on ``connection`` (inside its transaction)."""

    def __init__(self, connection: sa.Connection, tables: Derived) -> None:
        self.connection = connection
        self.t = tables
        self._linked = True

    def _self(self, platform: Any, account: Any, strict: bool = False) -> sa.ColumnElement[bool]:
        found = (SELVES.c.platform == platform) & (SELVES.c.account == account)
        if strict:
            found &= SELVES.c.strict
        return sa.exists(sa.select(sa.literal(1)).where(found).correlate_except(SELVES))

    def _person(self, platform: Any, account: Any) -> sa.ColumnElement[str]:
        if not self._linked:  # no account linked to another: each is its own person
            own: sa.ColumnElement[str] = platform + ":" + account
            return own
        linked = (
            sa.select(identity_links.c.person)
            .where(
                (identity_links.c.platform == platform) & (identity_links.c.account_id == account)
            )
            .correlate_except(identity_links)
            .scalar_subquery()
        )
        return sa.func.coalesce(linked, platform + ":" + account)

    def build(self, selves: dict[tuple[str, str], bool], linked: bool) -> None:
        """Derive every table from scratch: ``selves`` are the accounts that are the user
        (see :func:`kompas.store.exchanges.self_rows`), ``linked`` whether any account is
        linked to another."""
        c = self.connection
        self._linked = linked
        for table in reversed(_HELPERS):
            c.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))
        for table in _HELPERS:
            table.create(c)
        if self.t.persisted:
            for table in reversed(self.t.tables):
                c.execute(sa.delete(table))
        else:
            for table in reversed(self.t.tables):
                c.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))
            for table in self.t.tables:
                table.create(c)
        if selves:
            c.execute(
                sa.insert(SELVES),
                [{"platform": p, "account": a, "strict": s} for (p, a), s in selves.items()],
            )
        self._analyze(SELVES)
        self._fill_quotes()
        self._analyze(QUOTES)
        self._fill_own()
        self._analyze(self.t.own)
        self._fill_tree()
        self._analyze(TREE)
        self._fill_contacts()
        self._analyze(self.t.contacts)
        self._fill_threads()
        self._fill_own_links()
        self._fill_sums(self.t.weeks, "week")
        self._fill_sums(self.t.days, "day")
        self._fill_own_sums(self.t.own_weeks, "week")
        self._fill_own_sums(self.t.own_days, "day")
        self._fill_sums(self.t.totals, "dated")
        self._fill_own_sums(self.t.own_totals, "dated")
        self._fill_people()
        self._fill_spans()
        for table in self.t.tables:
            if table is not self.t.own and table is not self.t.contacts:
                self._analyze(table)
        for table in reversed(_HELPERS):
            c.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))

    def _analyze(self, table: sa.Table) -> None:
        """PostgreSQL plans the next steps from the table's statistics, which a table just
        emptied and filled again does not have (a nested loop over thousands of rows)."""
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(sa.text(f"ANALYZE {table.name}"))

    def _fill_quotes(self) -> None:
        """Whom each of the user's quotes quotes: the smallest known author."""
        i = interactions.c
        self.connection.execute(
            sa.insert(QUOTES).from_select(
                ["platform", "post_id", "author"],
                sa.select(i.platform, i.via_post_id, sa.func.min(i.target_account_id))
                .where(
                    (i.kind == InteractionKind.QUOTE.value)
                    & i.via_post_id.is_not(None)
                    & self._self(i.platform, i.actor_id, strict=True)
                )
                .group_by(i.platform, i.via_post_id),
            )
        )

    def _fill_own(self) -> None:
        p, c = posts.c, self.connection
        quoted = (
            sa.select(QUOTES.c.author)
            .where((QUOTES.c.platform == p.platform) & (QUOTES.c.post_id == p.id))
            .correlate_except(QUOTES)
            .scalar_subquery()
        )
        author = sa.case((p.kind == PostKind.REPOST.value, p.repost_of_author_id), else_=quoted)
        sharing = p.kind.in_((PostKind.REPOST.value, PostKind.QUOTE.value))
        answers_other = (p.kind == PostKind.REPLY.value) & ~self._self(
            p.platform, p.reply_to_author_id
        )
        base = sa.case(
            (
                sharing,
                sa.case((self._self(p.platform, author), "broadcast"), else_="sharing"),
            ),
            (answers_other, "conversation"),
            (sqlfn.json_length(c, p.links) > 0, "links"),
            else_="other",
        )
        shared = sa.case(
            (
                sharing & author.is_not(None) & ~self._self(p.platform, author),
                self._person(p.platform, author),
            ),
            else_=None,
        )
        c.execute(
            sa.insert(self.t.own).from_select(
                [
                    "platform",
                    "id",
                    "at",
                    "at_s",
                    "kind",
                    "reply_to_id",
                    "reply_to_author_id",
                    "answers_other",
                    "base",
                    "shared_person",
                    "reply_count",
                    "amplification",
                    "like_count",
                ],
                sa.select(
                    p.platform,
                    p.id,
                    p.created_at,
                    sqlfn.epoch(c, p.created_at),
                    p.kind,
                    p.reply_to_id,
                    p.reply_to_author_id,
                    answers_other,
                    base,
                    shared,
                    p.reply_count,
                    p.repost_count + sa.func.coalesce(p.quote_count, 0),
                    p.like_count,
                ).where(self._self(p.platform, p.author_id, strict=True)),
            )
        )

    def _fill_tree(self) -> None:
        """The posts threads are walked through: the user's, and others' replying to them."""
        p, c = posts.c, self.connection
        c.execute(
            sa.insert(TREE).from_select(
                ["platform", "id", "reply_to_id", "conversation_id", "own"],
                sa.select(p.platform, p.id, p.reply_to_id, p.conversation_id, sa.true()).where(
                    self._self(p.platform, p.author_id, strict=True)
                ),
            )
        )
        mine = sa.exists(
            sa.select(sa.literal(1))
            .where((self.t.own.c.platform == p.platform) & (self.t.own.c.id == p.reply_to_id))
            .correlate_except(self.t.own)
        )
        c.execute(
            sa.insert(TREE).from_select(
                ["platform", "id", "reply_to_id", "conversation_id", "own"],
                sa.select(p.platform, p.id, p.reply_to_id, p.conversation_id, sa.false()).where(
                    ~self._self(p.platform, p.author_id, strict=True)
                    & (self._self(p.platform, p.reply_to_author_id, strict=True) | mine)
                ),
            )
        )
        self._walk_threads()

    def _walk_threads(self) -> None:
        """Each post's thread: its conversation, else the oldest post its reply chain
        reaches in the tree (see :func:`kompas.community.conversation.thread_of`)."""
        c, t = self.connection, TREE
        c.execute(
            sa.update(t)
            .where(t.c.conversation_id.is_not(None) & (t.c.conversation_id != ""))
            .values(thread="c:" + t.c.conversation_id)
        )
        start = (
            sa.select(
                t.c.platform,
                t.c.id.label("start"),
                t.c.id.label("current"),
                t.c.reply_to_id.label("next"),
                sa.literal(0).label("depth"),
            )
            .where(t.c.thread.is_(None))
            .cte("walk", recursive=True)
        )
        up = t.alias("up")
        walk = start.union_all(
            sa.select(
                start.c.platform, start.c.start, up.c.id, up.c.reply_to_id, start.c.depth + 1
            ).where(
                (up.c.platform == start.c.platform)
                & (up.c.id == start.c.next)
                & (start.c.depth < _DEPTH)
            )
        )
        parent = t.alias("parent")
        ends = sa.select(
            walk.c.platform, walk.c.start, ("r:" + sa.func.coalesce(walk.c.next, walk.c.current))
        ).where(
            walk.c.next.is_(None)
            | ~sa.exists(
                sa.select(sa.literal(1))
                .where((parent.c.platform == walk.c.platform) & (parent.c.id == walk.c.next))
                .correlate_except(parent)
            )
        )
        c.execute(sa.insert(ENDS).from_select(["platform", "id", "thread"], ends))
        e = ENDS.c
        c.execute(
            sa.update(t)
            .values(
                thread=sa.select(e.thread)
                .where((e.platform == t.c.platform) & (e.id == t.c.id))
                .correlate_except(ENDS)
                .scalar_subquery()
            )
            .where(t.c.thread.is_(None))
        )
        rows = list(c.execute(sa.select(t.c.platform, t.c.id).where(t.c.thread.is_(None))))
        if rows:  # a loop, or a chain deeper than _DEPTH: walked here
            chains = {
                (r[0], r[1]): r[2]
                for r in c.execute(sa.select(t.c.platform, t.c.id, t.c.reply_to_id))
            }
            c.execute(
                sa.update(t)
                .where((t.c.platform == sa.bindparam("p")) & (t.c.id == sa.bindparam("i")))
                .values(thread=sa.bindparam("t_")),
                [{"p": p, "i": i, "t_": _walk(chains, p, i)} for p, i in rows],
            )
        c.execute(
            sa.update(self.t.own)
            .values(
                thread=sa.select(t.c.thread)
                .where((t.c.platform == self.t.own.c.platform) & (t.c.id == self.t.own.c.id))
                .scalar_subquery()
            )
            .where(self.t.own.c.kind != PostKind.REPOST.value)
        )

    def _fill_contacts(self) -> None:
        c = self.connection
        i, p = interactions.c, posts.c
        columns = [
            "platform",
            "given",
            "kind",
            "person",
            "account",
            "at",
            "at_s",
            "via_post_id",
            "target_post_id",
        ]
        anonymous = i.target_account_id.is_(None) & i.created_at.is_(None) & i.kind.in_(_LEARNING)
        on_own_post = sa.exists(
            sa.select(sa.literal(1))
            .where(
                (self.t.own.c.platform == i.platform)
                & (self.t.own.c.id == sa.func.coalesce(i.via_post_id, ""))
            )
            .correlate_except(self.t.own)
        )
        # what the user did (read off the user's own posts below when it came with one)
        c.execute(
            sa.insert(self.t.contacts).from_select(
                columns,
                sa.select(
                    i.platform,
                    sa.true(),
                    i.kind,
                    sa.case(
                        (i.target_account_id.is_(None), None),
                        else_=self._person(i.platform, i.target_account_id),
                    ),
                    i.target_account_id,
                    i.created_at,
                    sqlfn.epoch(c, i.created_at),
                    i.via_post_id,
                    i.target_post_id,
                ).where(
                    self._self(i.platform, i.actor_id, strict=True)
                    & ~anonymous
                    & ~on_own_post
                    & ~self._self(i.platform, i.target_account_id)
                ),
            )
        )
        # what others did to the user
        c.execute(
            sa.insert(self.t.contacts).from_select(
                columns,
                sa.select(
                    i.platform,
                    sa.false(),
                    i.kind,
                    self._person(i.platform, i.actor_id),
                    i.actor_id,
                    i.created_at,
                    sqlfn.epoch(c, i.created_at),
                    i.via_post_id,
                    i.target_post_id,
                ).where(
                    ~self._self(i.platform, i.actor_id, strict=True)
                    & self._self(i.platform, i.target_account_id, strict=True)
                    & ~self._self(i.platform, i.actor_id)
                ),
            )
        )
        self._contacts_of_own_posts(columns)
        # others' replies to the user, unless an interaction already said so
        seen = sa.exists(
            sa.select(sa.literal(1))
            .where(
                (i.platform == p.platform)
                & (i.kind == InteractionKind.REPLY.value)
                & (i.actor_id == p.author_id)
                & (i.via_post_id == p.id)
                & self._self(i.platform, i.target_account_id, strict=True)
                & ~self._self(i.platform, i.actor_id, strict=True)
            )
            .correlate_except(interactions)
        )
        c.execute(
            sa.insert(self.t.contacts).from_select(
                columns,
                sa.select(
                    p.platform,
                    sa.false(),
                    sa.literal(InteractionKind.REPLY.value),
                    self._person(p.platform, p.author_id),
                    p.author_id,
                    p.created_at,
                    sqlfn.epoch(c, p.created_at),
                    p.id,
                    p.reply_to_id,
                )
                .select_from(
                    posts.join(TREE, (TREE.c.platform == p.platform) & (TREE.c.id == p.id))
                )
                .where(~TREE.c.own & ~self._self(p.platform, p.author_id) & ~seen),
            )
        )

    def _contacts_of_own_posts(self, columns: list[str]) -> None:
        """Whom each of the user's posts interacts with: a repost its author; otherwise
        whom it replies to, quotes and mentions; each person once per post (the first)."""
        c, p = self.connection, posts.c
        quoted = (
            sa.select(QUOTES.c.author)
            .where((QUOTES.c.platform == p.platform) & (QUOTES.c.post_id == p.id))
            .correlate_except(QUOTES)
            .scalar_subquery()
        )
        own = self._self(p.platform, p.author_id, strict=True)
        repost = p.kind == PostKind.REPOST.value

        def each(account: Any, kind: str, rank: Any, *where: Any) -> sa.Select[Any]:
            return sa.select(
                p.platform.label("platform"),
                p.id.label("post"),
                p.created_at.label("at"),
                sa.literal(kind).label("kind"),
                account.label("account"),
                rank.label("rank"),
            ).where(own, *where)

        mention = sqlfn.json_items(c, p.mentions, "mention")
        candidates = sa.union_all(
            each(p.repost_of_author_id, "repost", sa.literal(0), repost),
            each(p.reply_to_author_id, "reply", sa.literal(0), ~repost),
            each(quoted, "quote", sa.literal(1), p.kind == PostKind.QUOTE.value),
            each(
                sa.cast(mention.c.value, sa.String),
                "mention",
                2 + sa.cast(mention.c.key, sa.Integer),
                ~repost,
            ).select_from(posts.join(mention, sa.true())),
        ).subquery("candidates")
        k = candidates.c
        person = self._person(k.platform, k.account)
        ranked = (
            sa.select(
                k.platform,
                k.post,
                k.at,
                k.kind,
                k.account,
                person.label("person"),
                sa.func.row_number()
                .over(partition_by=(k.platform, k.post, person), order_by=k.rank)
                .label("n"),
            )
            .where(k.account.is_not(None) & ~self._self(k.platform, k.account))
            .subquery("ranked")
        )
        r = ranked.c
        c.execute(
            sa.insert(self.t.contacts).from_select(
                columns,
                sa.select(
                    r.platform,
                    sa.true(),
                    r.kind,
                    r.person,
                    r.account,
                    sa.type_coerce(r.at, UTCDateTime),
                    sqlfn.epoch(c, r.at),
                    r.post,
                    sa.null(),
                ).where(r.n == 1),
            )
        )

    def _fill_threads(self) -> None:
        """Per thread: started by the user (a post of theirs that answers nothing) and
        whether someone else took part (the user answered or mentioned someone, someone's
        post is in it, or someone replied to or mentioned one of its posts)."""
        c, o, t = self.connection, self.t.own.c, TREE.c
        p = posts.c
        mention = sqlfn.json_items(c, p.mentions, "mention")
        mentions_other = (
            sa.select(sa.literal(1))
            .select_from(posts.join(mention, sa.true()))
            .where(
                (p.platform == o.platform)
                & (p.id == o.id)
                & ~self._self(p.platform, sa.cast(mention.c.value, sa.String))
            )
            .correlate_except(posts)
            .exists()
        )
        others = sa.select(
            t.platform,
            t.thread,
            sa.false().label("root"),
            sa.true().label("with"),
            sa.false().label("mine"),
        )
        mine = sa.select(
            o.platform,
            o.thread,
            o.reply_to_id.is_(None).label("root"),
            (
                (o.reply_to_id.is_not(None) & ~self._self(o.platform, o.reply_to_author_id))
                | mentions_other
            ).label("with"),
            sa.true().label("mine"),
        ).where(o.thread.is_not(None))
        k = self.t.contacts.c
        addressed = (
            sa.select(
                o.platform,
                o.thread,
                sa.false().label("root"),
                sa.true().label("with"),
                sa.true().label("mine"),
            )
            .select_from(
                self.t.contacts.join(
                    self.t.own, (o.platform == k.platform) & (o.id == k.target_post_id)
                )
            )
            .where(~k.given & k.kind.in_(_ADDRESSING) & o.thread.is_not(None))
        )
        both = sa.union_all(mine, others.where(~t.own), addressed).subquery("both")
        b = both.c
        c.execute(
            sa.insert(self.t.threads).from_select(
                ["platform", "thread", "root_own", "with_others", "own"],
                sa.select(
                    b.platform,
                    b.thread,
                    sa.func.max(sa.cast(b.root, sa.Integer)) > 0,
                    sa.func.max(sa.cast(b["with"], sa.Integer)) > 0,
                    sa.func.max(sa.cast(b.mine, sa.Integer)) > 0,
                ).group_by(b.platform, b.thread),
            )
        )

    def _fill_own_links(self) -> None:
        """The links of the user's posts whose kind depends on whose links they are."""
        c, p, o = self.connection, posts.c, self.t.own.c
        link = sqlfn.json_items(c, p.links, "link")
        c.execute(
            sa.insert(self.t.own_links).from_select(
                ["platform", "id", "position", "url"],
                sa.select(
                    p.platform,
                    p.id,
                    sa.cast(link.c.key, sa.Integer),
                    sa.cast(link.c.value, sa.Text),
                )
                .select_from(
                    posts.join(self.t.own, (o.platform == p.platform) & (o.id == p.id)).join(
                        link, sa.true()
                    )
                )
                .where(o.base == "links"),
            )
        )

    def _number(self, seconds: Any, unit: str) -> Any:
        """The week or day (counted from MONDAY) that epoch ``seconds`` fall in; for the
        whole history (``dated``), 1 for every dated moment."""
        if unit == "dated":
            return sa.case((seconds.is_not(None), 1), else_=None)
        return sqlfn.week_number(self.connection, seconds, MONDAY, _LENGTH[unit])

    def _start(self, number: Any, unit: str) -> Any:
        return MONDAY + sa.cast(number, sa.Float) * _LENGTH[unit]

    def _moment(self, number: Any, unit: str) -> Any:
        return sa.type_coerce(
            sa.case(
                (
                    number.is_not(None),
                    sqlfn.moment(self.connection, self._start(number, unit)),
                ),
                else_=None,
            ),
            UTCDateTime,
        )

    def _fill_sums(self, table: sa.Table, unit: str) -> None:
        """The exchanges added up per person, account, way, kind and week (or day, or the
        whole history: ``dated``, whose ``at`` is the last moment, what the all-time
        figures compare)."""
        c, k = self.connection, self.t.contacts.c
        rows = sa.select(
            k.platform,
            k.person,
            k.account,
            k.given,
            k.kind,
            self._number(k.at_s, unit).label("number"),
            k.at,
            k.at_s,
        ).subquery("dated")
        r = rows.c
        start = r.at_s if unit == "dated" else self._start(r.number, unit)
        grouped = (
            sa.select(
                r.platform,
                r.person,
                r.account,
                r.given,
                r.kind,
                r.number,
                sa.func.count().label("exchanges"),
                sa.func.min(r.at).label("first_at"),
                sa.func.max(r.at).label("last_at"),
                sa.func.max(r.at_s).label("last_s"),
                sa.func.coalesce(
                    sa.func.sum(
                        sa.case(
                            (r.at_s.is_not(None), sa.func.exp(RATE * (start - r.at_s))),
                            else_=0.0,
                        )
                    ),
                    0.0,
                ).label("decayed"),
            )
            .group_by(r.platform, r.person, r.account, r.given, r.kind, r.number)
            .subquery("grouped")
        )
        g = grouped.c
        c.execute(
            sa.insert(table).from_select(
                [
                    "platform",
                    "person",
                    "account",
                    "given",
                    "kind",
                    unit,
                    "at",
                    "at_s",
                    "exchanges",
                    "first_at",
                    "last_at",
                    "decayed",
                ],
                sa.select(
                    g.platform,
                    g.person,
                    g.account,
                    g.given,
                    g.kind,
                    g.number,
                    g.last_at if unit == "dated" else self._moment(g.number, unit),
                    g.last_s if unit == "dated" else self._start(g.number, unit),
                    g.exchanges,
                    g.first_at,
                    g.last_at,
                    g.decayed,
                ),
            )
        )

    def _fill_own_sums(self, table: sa.Table, unit: str) -> None:
        """The user's posts added up per week (or day), kind, place in the mix, shared
        person and answered account."""
        c, o = self.connection, self.t.own.c

        def known(column: Any) -> Any:
            return sa.func.sum(sa.case((column.is_not(None), 1), else_=0))

        rows = sa.select(
            o.platform,
            self._number(o.at_s, unit).label("number"),
            o.at,
            o.at_s,
            o.kind,
            o.base,
            o.answers_other,
            o.shared_person,
            sa.case((o.answers_other, o.reply_to_author_id), else_=None).label("replied"),
            o.reply_count,
            o.amplification,
            o.like_count,
        ).subquery("posts")
        r = rows.c
        c.execute(
            sa.insert(table).from_select(
                [
                    "platform",
                    unit,
                    "at",
                    "at_s",
                    "kind",
                    "base",
                    "answers_other",
                    "shared_person",
                    "replied",
                    "posts",
                    "replies_known",
                    "replies",
                    "amplification_known",
                    "amplification",
                    "likes_known",
                    "likes",
                ],
                sa.select(
                    r.platform,
                    r.number,
                    sa.func.max(r.at) if unit == "dated" else self._moment(r.number, unit),
                    sa.func.max(r.at_s) if unit == "dated" else self._start(r.number, unit),
                    r.kind,
                    r.base,
                    r.answers_other,
                    r.shared_person,
                    r.replied,
                    sa.func.count(),
                    known(r.reply_count),
                    sa.func.sum(r.reply_count),
                    known(r.amplification),
                    sa.func.sum(r.amplification),
                    known(r.like_count),
                    sa.func.sum(r.like_count),
                ).group_by(
                    r.platform,
                    r.number,
                    r.kind,
                    r.base,
                    r.answers_other,
                    r.shared_person,
                    r.replied,
                ),
            )
        )

    def _fill_people(self) -> None:
        """Per person and account: the first exchange, the first the other side started,
        and whether undated ones exist."""
        k = self.t.contacts.c
        received = ~k.given
        self.connection.execute(
            sa.insert(self.t.people).from_select(
                [
                    "platform",
                    "person",
                    "account",
                    "first_at",
                    "first_received_at",
                    "undated",
                    "undated_received",
                ],
                sa.select(
                    k.platform,
                    k.person,
                    k.account,
                    sa.func.min(k.at),
                    sa.func.min(sa.case((received, k.at), else_=None)),
                    sa.func.max(sa.case((k.at.is_(None), 1), else_=0)) > 0,
                    sa.func.max(sa.case((received & k.at.is_(None), 1), else_=0)) > 0,
                )
                .where(k.person.is_not(None))
                .group_by(k.platform, k.person, k.account),
            )
        )

    def _fill_spans(self) -> None:
        """Per platform: the first and newest dated activity (the user's posts and every
        exchange), and whether what others did to the user is known."""
        o, k = self.t.own.c, self.t.contacts.c
        both = sa.union_all(
            sa.select(o.platform, o.at, sa.literal(0).label("received")),
            sa.select(k.platform, k.at, sa.case((k.given, 0), else_=1).label("received")),
        ).subquery("both")
        b = both.c
        self.connection.execute(
            sa.insert(self.t.spans).from_select(
                ["platform", "first_at", "last_at", "received"],
                sa.select(
                    b.platform,
                    sa.func.min(b.at),
                    sa.func.max(b.at),
                    sa.func.max(b.received) > 0,
                ).group_by(b.platform),
            )
        )


def _walk(chains: dict[tuple[str, str], str | None], platform: str, post_id: str) -> str:
    """The thread of a post whose chain SQL did not finish (a loop, or a very long one),
    exactly as :func:`kompas.community.conversation.thread_of` walks it."""
    current, seen = post_id, set()
    parent = chains.get((platform, current))
    while parent is not None:
        key = (platform, parent)
        if key not in chains or key in seen:
            break
        seen.add(key)
        current = parent
        parent = chains[key]
    return "r:" + (parent or current)


def derived(
    connection: sa.Connection,
    selves: Sequence[tuple[str, str]],
    persons: dict[tuple[str, str], str],
    platforms: Sequence[str],
) -> Derived:
    """The derived tables a request for ``platforms`` reads, with ``selves`` its own
    accounts: the store's, rebuilt first when stale; or, when the request's accounts
    differ from the store's or the store cannot be written now (another process holds
    it, a read-only file), its own temporary ones on ``connection``."""
    wanted = exchanges.self_rows(selves, persons)
    stored = exchanges.self_rows(exchanges.every_self(connection), persons)
    if exchanges.serves(platforms, wanted, stored):
        with _building(connection.engine):  # the dashboard's other requests wait here
            version, built = exchanges.state(connection)
            if built == exchanges.stamp(version, stored, persons):
                return exchanges.STORED
            try:
                _refresh(connection, stored, persons)
            except sa.exc.OperationalError:
                pass  # busy or read-only: this request derives its own below
            else:
                return exchanges.STORED
    tables = exchanges.temporary()
    Builder(connection, tables).build(wanted, bool(persons))
    return tables


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def _building(engine: sa.Engine) -> threading.Lock:
    """One lock per database in this process: threads that find the tables stale wait for
    the one rebuilding them, instead of each deriving its own."""
    key = engine.url.render_as_string(hide_password=False)
    with _LOCKS_LOCK:
        return _LOCKS.setdefault(key, threading.Lock())


def refresh(engine: sa.Engine) -> None:
    """Rebuild the store's derived tables now if they are stale (what the dashboard does
    when it starts, so its first pages find them fresh; a page asking meanwhile waits for
    this build instead of deriving its own)."""
    with engine.connect() as connection:
        selves = exchanges.every_self(connection)
        if selves:
            persons = identities.person_keys(connection)
            derived(connection, selves, persons, sorted({p for p, _ in selves}))


def _writing(connection: sa.Connection) -> bool:
    """Whether ``connection`` is inside a transaction that has written: its uncommitted
    rows are what it must read, and another connection would wait on its locks."""
    if connection.dialect.name == "sqlite":
        return bool(connection.connection.dbapi_connection.in_transaction)  # type: ignore[union-attr]
    if not connection.in_transaction():
        return False
    found = connection.execute(sa.text("SELECT pg_current_xact_id_if_assigned()")).scalar()
    return found is not None


def _refresh(
    connection: sa.Connection,
    stored: dict[tuple[str, str], bool],
    persons: dict[tuple[str, str], str],
) -> None:
    """Rebuild the store's derived tables, in their own transaction (or in the caller's,
    when it has written), unless another process just did."""

    def build(c: sa.Connection) -> None:
        exchanges.lock(c)
        version, built = exchanges.state(c)
        want = exchanges.stamp(version, stored, persons)
        if built != want:
            with notice.waiting(REBUILDING):
                Builder(c, exchanges.STORED).build(stored, bool(persons))
            exchanges.mark_built(c, want)

    if _writing(connection):
        build(connection)
        return
    with connection.engine.begin() as own:
        if own.dialect.name == "postgresql":
            own.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
        build(own)
