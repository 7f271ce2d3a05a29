"""The community pillar's grouped queries: the same figures as loading every row, counted
by the database (SQLite or PostgreSQL) and returned as a few numbers per figure.

:class:`CommunityQueries` first derives, once per connection, three temporary tables:

- ``kompas_own``: one row per post of the user, with what the reference reads off it (its
  kind in the mix, whom it shares, whether it answers someone else, its thread);
- ``kompas_contacts``: one row per exchange between the user and someone else, both ways
  (reply, mention, quote, repost, like, bookmark), keyed by *person*, as
  :func:`kompas.community.contacts.index_of` builds them;
- ``kompas_threads``: per thread, whether the user started it and whether someone else
  took part.

Every figure of a period is then one grouped query over them. :mod:`kompas.community
.aggregate` turns the answers into the figures; the reference over loaded rows stays in
:mod:`kompas.community.compute`, and a property test holds the two to the same answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kompas.model import InteractionKind, PostKind
from kompas.store import sqlfn
from kompas.store.schema import UTCDateTime, identity_links, interactions, posts

_temp = sa.MetaData()


def _table(name: str, *columns: sa.Column[Any] | sa.Index) -> sa.Table:
    return sa.Table(name, _temp, *columns, prefixes=["TEMPORARY"])


_S = sa.String(512)
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
OWN = _table(
    "kompas_own",
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("id", _S, primary_key=True),
    sa.Column("at", UTCDateTime),
    sa.Column("at_s", sa.Float),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("reply_to_id", _S),
    sa.Column("reply_to_author_id", _S),
    sa.Column("answers_other", sa.Boolean, nullable=False),
    #: conversation, sharing, broadcast (a repost or quote of the user's own), links
    #: (decided by whose links they are) or other
    sa.Column("base", sa.String(16), nullable=False),
    sa.Column("owned_link", sa.Boolean, nullable=False),
    sa.Column("shared_person", sa.String(1040)),
    sa.Column("reply_count", sa.Integer),
    sa.Column("amplification", sa.Integer),
    sa.Column("like_count", sa.Integer),
    sa.Column("thread", sa.Text),
    sa.Index("ix_kompas_own_at", "platform", "at"),
)
CONTACTS = _table(
    "kompas_contacts",
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("given", sa.Boolean, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("person", sa.String(1040)),
    sa.Column("account", _S),
    sa.Column("at", UTCDateTime),
    sa.Column("at_s", sa.Float),
    sa.Column("via_post_id", _S),
    sa.Column("target_post_id", _S),
    sa.Index("ix_kompas_contacts_at", "platform", "at"),
)
THREADS = _table(
    "kompas_threads",
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("thread", sa.String(1040), primary_key=True),
    sa.Column("root_own", sa.Boolean, nullable=False),
    sa.Column("with_others", sa.Boolean, nullable=False),
)
ENDS = _table(
    "kompas_ends",
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("id", _S, primary_key=True),
    sa.Column("thread", sa.Text),
)
_TABLES = (SELVES, QUOTES, TREE, OWN, CONTACTS, THREADS, ENDS)
#: How far up a reply chain SQL walks; longer chains and loops are walked in Python.
_DEPTH = 64
_ADDRESSING = (InteractionKind.REPLY.value, InteractionKind.MENTION.value)
_LEARNING = (InteractionKind.LIKE.value, InteractionKind.BOOKMARK.value)


@dataclass(frozen=True, slots=True)
class Window:
    """A period as the queries take it: bounds as datetimes and epoch seconds."""

    since: datetime | None
    until: datetime | None

    @property
    def all_time(self) -> bool:
        """Unbounded: undated rows count too."""
        return self.since is None and self.until is None

    def holds(self, column: Any) -> sa.ColumnElement[bool]:
        """Rows whose ``column`` falls in the window (dated rows only when bounded)."""
        if self.all_time:
            return sa.true()
        found: sa.ColumnElement[bool] = column.is_not(None)
        if self.since is not None:
            found &= column >= self.since
        if self.until is not None:
            found &= column < self.until
        return found


@dataclass(frozen=True, slots=True)
class PersonRow:
    """What one person and the user exchanged through one account (rows of a person are
    added up by the caller)."""

    person: str
    platform: str
    account: str
    exchanges: int
    received_ever: int
    given: int
    received: int
    strength: float
    strength_before: float
    first_seen: datetime | None
    last_seen: datetime | None
    first_dated: datetime | None
    undated: bool


@dataclass
class OwnCounts:
    """Counts over the user's posts of a period."""

    posts: int = 0
    replies_given: int = 0
    mix: dict[str, int] = field(default_factory=dict)
    self_promotion: int = 0
    links_shared: int = 0
    reposts: int = 0
    quotes: int = 0
    rates: tuple[tuple[int, int], tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0), (0, 0))


def _i(value: Any) -> int:
    return int(value or 0)


class CommunityQueries:
    """Grouped queries over the user's exchanges on one connection; the derived tables are
    built on first use and kept for every later period (review windows, the dashboard)."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self._built = False
        self._linked = True
        self._owned_for: tuple[str, ...] | None = None

    # -- building -----------------------------------------------------------------------

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

    def build(self, selves: Sequence[tuple[str, str]], persons: dict[tuple[str, str], str]) -> None:
        """Derive the tables (once): ``selves`` are the user's accounts, ``persons`` the
        linked accounts' persons."""
        if self._built:
            return
        c = self.connection
        self._linked = bool(persons)
        for table in reversed(_TABLES):
            c.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))
        for table in _TABLES:
            table.create(c)
        self._fill_selves(selves, persons)
        self._fill_quotes()
        self._fill_own()
        self._fill_tree()
        self._fill_contacts()
        self._fill_threads()
        self._built = True

    def _fill_selves(
        self, selves: Sequence[tuple[str, str]], persons: dict[tuple[str, str], str]
    ) -> None:
        """The user's accounts (strict), and every account whose person is the user's."""
        strict = set(selves)
        mine = {persons.get(pair) or f"{pair[0]}:{pair[1]}" for pair in strict}
        rows = {pair: True for pair in strict}
        for pair, person in persons.items():
            if person in mine:
                rows.setdefault(pair, False)
        for person in mine:  # an unlinked account whose own key names the user's person
            platform, _, account = person.partition(":")
            if account and (platform, account) not in persons:
                rows.setdefault((platform, account), False)
        if rows:
            self.connection.execute(
                sa.insert(SELVES),
                [{"platform": p, "account": a, "strict": s} for (p, a), s in rows.items()],
            )

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
            sa.insert(OWN).from_select(
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
                    "owned_link",
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
                    sa.false(),
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
            .where((OWN.c.platform == p.platform) & (OWN.c.id == p.reply_to_id))
            .correlate_except(OWN)
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
            sa.update(OWN)
            .values(
                thread=sa.select(t.c.thread)
                .where((t.c.platform == OWN.c.platform) & (t.c.id == OWN.c.id))
                .scalar_subquery()
            )
            .where(OWN.c.kind != PostKind.REPOST.value)
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
                (OWN.c.platform == i.platform) & (OWN.c.id == sa.func.coalesce(i.via_post_id, ""))
            )
            .correlate_except(OWN)
        )
        # what the user did (read off the user's own posts below when it came with one)
        c.execute(
            sa.insert(CONTACTS).from_select(
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
            sa.insert(CONTACTS).from_select(
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
            sa.insert(CONTACTS).from_select(
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
            sa.insert(CONTACTS).from_select(
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
        c, o, t = self.connection, OWN.c, TREE.c
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
        others = sa.select(t.platform, t.thread, sa.false().label("root"), sa.true().label("with"))
        mine = sa.select(
            o.platform,
            o.thread,
            o.reply_to_id.is_(None).label("root"),
            (
                (o.reply_to_id.is_not(None) & ~self._self(o.platform, o.reply_to_author_id))
                | mentions_other
            ).label("with"),
        ).where(o.thread.is_not(None))
        k = CONTACTS.c
        addressed = (
            sa.select(o.platform, o.thread, sa.false().label("root"), sa.true().label("with"))
            .select_from(
                CONTACTS.join(OWN, (o.platform == k.platform) & (o.id == k.target_post_id))
            )
            .where(~k.given & k.kind.in_(_ADDRESSING) & o.thread.is_not(None))
        )
        both = sa.union_all(mine, others.where(~t.own), addressed).subquery("both")
        b = both.c
        c.execute(
            sa.insert(THREADS).from_select(
                ["platform", "thread", "root_own", "with_others"],
                sa.select(
                    b.platform,
                    b.thread,
                    sa.func.max(sa.cast(b.root, sa.Integer)) > 0,
                    sa.func.max(sa.cast(b["with"], sa.Integer)) > 0,
                ).group_by(b.platform, b.thread),
            )
        )

    def own_places(self, owns: Callable[[str], bool], key: tuple[str, ...]) -> None:
        """Mark the posts linking the user's own places (``owns``; ``key`` names them, so
        the same places are not marked twice)."""
        if self._owned_for == key:
            return
        c, p = self.connection, posts.c
        link = sqlfn.json_items(c, p.links, "link")
        urls = c.execute(
            sa.select(sa.cast(link.c.value, sa.String).label("url"), p.platform, p.id)
            .select_from(
                posts.join(OWN, (OWN.c.platform == p.platform) & (OWN.c.id == p.id)).join(
                    link, sa.true()
                )
            )
            .where(OWN.c.base == "links")
        )
        owned: set[tuple[str, str]] = set()
        decided: dict[str, bool] = {}
        for url, platform, post_id in urls:
            found = decided.get(url)
            if found is None:
                found = decided[url] = owns(url)
            if found:
                owned.add((platform, post_id))
        c.execute(sa.update(OWN).values(owned_link=False))
        if owned:
            c.execute(
                sa.update(OWN)
                .where((OWN.c.platform == sa.bindparam("p")) & (OWN.c.id == sa.bindparam("i")))
                .values(owned_link=True),
                [{"p": p_, "i": i_} for p_, i_ in owned],
            )
        self._owned_for = key

    # -- what the whole store says --------------------------------------------------------

    def ends(self) -> dict[str, tuple[datetime, datetime]]:
        """Per platform, the first and newest dated activity (the user's posts and every
        exchange)."""
        both = sa.union_all(
            sa.select(OWN.c.platform, OWN.c.at).where(OWN.c.at.is_not(None)),
            sa.select(CONTACTS.c.platform, CONTACTS.c.at).where(CONTACTS.c.at.is_not(None)),
        ).subquery()
        first = sa.type_coerce(sa.func.min(both.c.at), UTCDateTime)
        last = sa.type_coerce(sa.func.max(both.c.at), UTCDateTime)
        return {
            row[0]: (row[1], row[2])
            for row in self.connection.execute(
                sa.select(both.c.platform, first, last).group_by(both.c.platform)
            )
        }

    def received_known(self) -> set[str]:
        """Platforms where the data holds what others did to the user."""
        return {
            row[0]
            for row in self.connection.execute(
                sa.select(CONTACTS.c.platform).where(~CONTACTS.c.given).distinct()
            )
        }

    def anyone(self, platforms: Iterable[str]) -> bool:
        """Whether the scope holds any post of the user's or any exchange, at any time."""
        scope = list(platforms)
        for table in (OWN, CONTACTS):
            row = self.connection.execute(
                sa.select(sa.literal(1)).where(table.c.platform.in_(scope)).limit(1)
            ).first()
            if row is not None:
                return True
        return False

    # -- one period -------------------------------------------------------------------------

    def own_counts(self, platforms: Iterable[str], window: Window) -> OwnCounts:
        """The user's posts of the period: how many, replies to others, the mix, sharing
        and the public counts they carry."""
        o = OWN.c
        links = o.base == "links"
        kind = sa.case(
            (links & o.owned_link, "broadcast"),
            (links, "sharing"),
            else_=o.base,
        )
        shared = o.base == "sharing"
        rated = o.kind != PostKind.REPOST.value

        def total(condition: Any) -> Any:
            return sa.func.sum(sa.case((condition, 1), else_=0))

        rows = self.connection.execute(
            sa.select(
                kind.label("kind"),
                sa.func.count(),
                total(o.answers_other),
                total(links & ~o.owned_link),
                total(shared & (o.kind == PostKind.REPOST.value)),
                total(shared & (o.kind == PostKind.QUOTE.value)),
                total(rated & o.reply_count.is_not(None)),
                sa.func.sum(sa.case((rated, o.reply_count), else_=None)),
                total(rated & o.amplification.is_not(None)),
                sa.func.sum(sa.case((rated, o.amplification), else_=None)),
                total(rated & o.like_count.is_not(None)),
                sa.func.sum(sa.case((rated, o.like_count), else_=None)),
            )
            .where(o.platform.in_(list(platforms)) & window.holds(o.at))
            .group_by(kind)
        ).all()
        found = OwnCounts()
        rates = [[0, 0], [0, 0], [0, 0]]
        for row in rows:
            name, n = row[0], _i(row[1])
            found.posts += n
            found.mix[name] = n
            found.replies_given += _i(row[2])
            found.links_shared += _i(row[3])
            found.reposts += _i(row[4])
            found.quotes += _i(row[5])
            for number, (count, value) in enumerate(((6, 7), (8, 9), (10, 11))):
                rates[number][1] += _i(row[count])
                rates[number][0] += _i(row[value])
        found.self_promotion = found.mix.get("broadcast", 0)
        found.rates = (
            (rates[0][0], rates[0][1]),
            (rates[1][0], rates[1][1]),
            (rates[2][0], rates[2][1]),
        )
        return found

    def own_weekly(
        self, platforms: Iterable[str], window: Window, first: float
    ) -> list[tuple[int, int, int, int]]:
        """Per week: the user's posts, replies to others, and shares of others' posts."""
        o = OWN.c
        week = sqlfn.week_of(self.connection, o.at_s, first).label("week")
        rows = self.connection.execute(
            sa.select(
                week,
                sa.func.count(),
                sa.func.sum(sa.case((o.answers_other, 1), else_=0)),
                sa.func.sum(sa.case((o.base == "sharing", 1), else_=0)),
            )
            .where(o.platform.in_(list(platforms)) & window.holds(o.at) & o.at.is_not(None))
            .group_by(week)
        )
        return [(_i(r[0]), _i(r[1]), _i(r[2]), _i(r[3])) for r in rows]

    def shared_people(self, platforms: Iterable[str], window: Window) -> dict[str, int]:
        """Whose posts the user shared in the period, and how often."""
        o = OWN.c
        return {
            row[0]: _i(row[1])
            for row in self.connection.execute(
                sa.select(o.shared_person, sa.func.count())
                .where(
                    o.platform.in_(list(platforms))
                    & window.holds(o.at)
                    & (o.base == "sharing")
                    & o.shared_person.is_not(None)
                )
                .group_by(o.shared_person)
            )
        }

    def replied(self, platforms: Iterable[str], window: Window) -> list[tuple[str, str]]:
        """The distinct accounts the user answered in the period."""
        o = OWN.c
        return [
            (row[0], row[1])
            for row in self.connection.execute(
                sa.select(o.platform, o.reply_to_author_id)
                .where(
                    o.platform.in_(list(platforms))
                    & window.holds(o.at)
                    & o.answers_other
                    & o.reply_to_author_id.is_not(None)
                )
                .distinct()
            )
        ]

    def contact_counts(self, platforms: Iterable[str], window: Window) -> dict[str, int]:
        """Exchanges of the period: how many, replies received, likes and bookmarks given
        and from how many people; and undated likes and bookmarks (any time)."""
        k = CONTACTS.c
        scope = k.platform.in_(list(platforms))
        learning = k.given & k.kind.in_(_LEARNING)
        now = window.holds(k.at)
        row = self.connection.execute(
            sa.select(
                sa.func.sum(sa.case((now, 1), else_=0)),
                sa.func.sum(
                    sa.case((now & ~k.given & (k.kind == InteractionKind.REPLY.value), 1), else_=0)
                ),
                sa.func.sum(
                    sa.case((now & k.given & (k.kind == InteractionKind.LIKE.value), 1), else_=0)
                ),
                sa.func.sum(
                    sa.case(
                        (now & k.given & (k.kind == InteractionKind.BOOKMARK.value), 1), else_=0
                    )
                ),
                sa.func.count(sa.distinct(sa.case((now & learning, k.person), else_=None))),
                sa.func.sum(sa.case((learning & k.at.is_(None), 1), else_=0)),
            ).where(scope)
        ).one()
        names = ("now", "replies_received", "likes", "bookmarks", "sources", "undated_learning")
        return {name: _i(value) for name, value in zip(names, row, strict=True)}

    def contact_weekly(
        self, platforms: Iterable[str], window: Window, first: float, bots: Iterable[str]
    ) -> tuple[dict[int, int], dict[int, int]]:
        """Per week: replies received, and the distinct people exchanged with (automated
        accounts apart)."""
        k = CONTACTS.c
        c = self.connection
        week = sqlfn.week_of(c, k.at_s, first).label("week")
        where = k.platform.in_(list(platforms)) & window.holds(k.at) & k.at.is_not(None)
        replies = {
            _i(r[0]): _i(r[1])
            for r in c.execute(
                sa.select(week, sa.func.count())
                .where(where & ~k.given & (k.kind == InteractionKind.REPLY.value))
                .group_by(week)
            )
        }
        people = {
            _i(r[0]): _i(r[1])
            for r in c.execute(
                sa.select(week, sa.func.count(sa.distinct(k.person)))
                .where(where & k.person.is_not(None) & k.person.not_in(list(bots)))
                .group_by(week)
            )
        }
        return replies, people

    def people(
        self,
        platforms: Iterable[str],
        window: Window,
        reference: datetime,
        half_life_days: float,
        active_only: bool = False,
    ) -> list[PersonRow]:
        """Per person and account: exchanges up to ``reference`` and their strength there
        (and at the period's start), given and received in the period, and the person's
        first dated and any undated exchange (at any time). ``active_only``: only the
        people exchanged with in the period (what every figure needs; not the fading)."""
        k = CONTACTS.c
        c = self.connection
        scope = k.platform.in_(list(platforms)) & k.person.is_not(None)
        if active_only:
            active = CONTACTS.alias("active")
            scope &= k.person.in_(
                sa.select(active.c.person)
                .where(
                    active.c.platform.in_(list(platforms))
                    & window.holds(active.c.at)
                    & (active.c.at.is_(None) | (active.c.at < reference))
                )
                .distinct()
            )
        rate = -math.log(2) / 86400 / half_life_days
        before_end = k.at.is_(None) | (k.at < reference)
        if window.all_time:
            strength: Any = sa.func.sum(sa.case((before_end, 1.0), else_=0.0))
        else:
            strength = sa.func.sum(
                sa.case(
                    (
                        before_end & k.at.is_not(None),
                        sa.func.exp(rate * (reference.timestamp() - k.at_s)),
                    ),
                    else_=0.0,
                )
            )
        if window.since is not None:
            fading: Any = sa.func.sum(
                sa.case(
                    (
                        before_end & (k.at < window.since),
                        sa.func.exp(rate * (window.since.timestamp() - k.at_s)),
                    ),
                    else_=0.0,
                )
            )
        else:
            fading = sa.literal(0.0)
        now = window.holds(k.at)

        def total(condition: Any) -> Any:
            return sa.func.sum(sa.case((condition, 1), else_=0))

        dated_before = before_end & k.at.is_not(None)
        rows = c.execute(
            sa.select(
                k.person,
                k.platform,
                k.account,
                total(before_end),
                total(before_end & ~k.given),
                total(before_end & now & k.given),
                total(before_end & now & ~k.given),
                strength,
                fading,
                sa.type_coerce(sa.func.min(sa.case((dated_before, k.at), else_=None)), UTCDateTime),
                sa.type_coerce(sa.func.max(sa.case((dated_before, k.at), else_=None)), UTCDateTime),
                sa.type_coerce(sa.func.min(k.at), UTCDateTime),
                total(k.at.is_(None)),
            )
            .where(scope)
            .group_by(k.person, k.platform, k.account)
        )
        return [
            PersonRow(
                r[0],
                r[1],
                r[2] or "",
                _i(r[3]),
                _i(r[4]),
                _i(r[5]),
                _i(r[6]),
                float(r[7] or 0.0),
                float(r[8] or 0.0),
                r[9],
                r[10],
                r[11],
                _i(r[12]) > 0,
            )
            for r in rows
        ]

    def threads(self, platforms: Iterable[str], window: Window) -> tuple[int, int]:
        """Threads the user posted in during the period with someone else: (started,
        joined)."""
        o, h = OWN.c, THREADS.c
        active = (
            sa.select(o.platform, o.thread)
            .where(o.platform.in_(list(platforms)) & window.holds(o.at) & o.thread.is_not(None))
            .distinct()
            .subquery()
        )
        row = self.connection.execute(
            sa.select(sa.func.count(), sa.func.sum(sa.case((h.root_own, 1), else_=0)))
            .select_from(
                active.join(
                    THREADS,
                    (h.platform == active.c.platform) & (h.thread == active.c.thread),
                )
            )
            .where(h.with_others)
        ).one()
        talking, started = _i(row[0]), _i(row[1])
        return started, talking - started


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
