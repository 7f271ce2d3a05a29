"""Community figures from the user's rows: pure functions, no I/O.

Everything is computed over a set of platforms; the per-platform figures use one platform
and ``all`` uses every platform at once. People are identified by their *person key*
(the linked person's name, else ``platform:id``), so a person linked across platforms is
one person in ``all`` and merged counts never exceed the sum of per-platform counts.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from kompas.community.report import (
    HALF_LIFE_DAYS,
    LURKER_POSTS_PER_WEEK,
    STYLE_SHARE,
    CommunityReport,
    Figures,
    Mix,
    Period,
    Relationship,
    Trends,
)
from kompas.model import InteractionKind, Post, PostKind
from kompas.store.community import CommunityData

_OUT = "given"
_IN = "received"
_ADDRESSING = (InteractionKind.REPLY, InteractionKind.MENTION)
_LEARNING = (InteractionKind.LIKE, InteractionKind.BOOKMARK)


@dataclass(frozen=True, slots=True)
class Contact:
    """One interaction between the user and another person (``person`` is ``None`` when
    the export does not say whom, e.g. an X like)."""

    platform: str
    direction: str
    kind: InteractionKind
    person: str | None
    account: str | None
    when: datetime | None
    via_post_id: str | None
    target_post_id: str | None


@dataclass
class _Index:
    """The rows, sorted out once: own posts, others' posts, contacts, per platform."""

    selves: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    self_persons: set[str] = field(default_factory=set)
    contacts: list[Contact] = field(default_factory=list)
    received_known: set[str] = field(default_factory=set)
    quote_authors: dict[tuple[str, str], str | None] = field(default_factory=dict)
    persons: dict[tuple[str, str], str] = field(default_factory=dict)

    keys: dict[tuple[str, str], str] = field(default_factory=dict)
    own: dict[tuple[str, str], bool] = field(default_factory=dict)

    def person(self, platform: str, account: str) -> str:
        """The account's person key (memoised: called for every exchange)."""
        key = self.keys.get((platform, account))
        if key is None:
            key = self.persons.get((platform, account)) or f"{platform}:{account}"
            self.keys[(platform, account)] = key
        return key

    def is_self(self, platform: str, account: str | None) -> bool:
        """Whether the account is the user's own (or linked to the user's person)."""
        if account is None:
            return False
        found = self.own.get((platform, account))
        if found is None:
            found = account in self.selves[platform] or (
                self.person(platform, account) in self.self_persons
            )
            self.own[(platform, account)] = found
        return found


def _contacts_of(index: _Index, post: Post) -> list[Contact]:
    """Whom one of the user's posts interacts with: a repost its author; otherwise whom it
    replies to, quotes and mentions, each person once per post (never the user)."""
    platform = post.platform.value
    if post.kind is PostKind.REPOST:
        found = [(post.repost_of_author_id, InteractionKind.REPOST)]
    else:
        found = [(post.reply_to_author_id, InteractionKind.REPLY)]
        if post.kind is PostKind.QUOTE:
            found.append((index.quote_authors.get((platform, post.id)), InteractionKind.QUOTE))
        found += [(m, InteractionKind.MENTION) for m in post.mentions]
    contacts: dict[str, Contact] = {}
    for account, kind in found:
        if account is None or index.is_self(platform, account):
            continue
        person = index.person(platform, account)
        if person not in contacts:
            contacts[person] = Contact(
                platform, _OUT, kind, person, account, post.created_at, post.id, None
            )
    return list(contacts.values())


def _index(data: CommunityData) -> _Index:
    index = _Index(persons=data.persons)
    for me in data.selves:
        index.selves[me.platform.value].add(me.id)
        index.self_persons.add(index.person(me.platform.value, me.id))
    own_ids = {
        (p.platform.value, p.id)
        for p in data.posts
        if p.author_id in index.selves[p.platform.value]
    }
    seen_in: set[tuple[str, str, str, str | None]] = set()
    for act in data.interactions:
        platform = act.platform.value
        if act.actor_id in index.selves[platform]:
            other = act.target_account_id
            if act.kind is InteractionKind.QUOTE and act.via_post_id:
                index.quote_authors[(platform, act.via_post_id)] = other
            if (platform, act.via_post_id or "") in own_ids or index.is_self(platform, other):
                continue  # read off the user's own post below; or the user to themselves
            direction, person = _OUT, None if other is None else index.person(platform, other)
            account = other
        elif index.is_self(platform, act.target_account_id):
            if index.is_self(platform, act.actor_id):
                continue
            direction, account = _IN, act.actor_id
            person = index.person(platform, act.actor_id)
            index.received_known.add(platform)
            seen_in.add((platform, act.kind.value, act.actor_id, act.via_post_id))
        else:
            continue
        index.contacts.append(
            Contact(
                platform,
                direction,
                act.kind,
                person,
                account,
                act.created_at,
                act.via_post_id,
                act.target_post_id,
            )
        )
    for post in data.posts:
        platform = post.platform.value
        if (platform, post.id) in own_ids:
            index.contacts.extend(_contacts_of(index, post))
    for post in data.posts:
        platform = post.platform.value
        if post.author_id in index.selves[platform] or index.is_self(platform, post.author_id):
            continue
        index.received_known.add(platform)
        replies_to_user = index.is_self(platform, post.reply_to_author_id) or (
            (platform, post.reply_to_id or "") in own_ids
        )
        key = (platform, InteractionKind.REPLY.value, post.author_id, post.id)
        if replies_to_user and key not in seen_in:
            index.contacts.append(
                Contact(
                    platform,
                    _IN,
                    InteractionKind.REPLY,
                    index.person(platform, post.author_id),
                    post.author_id,
                    post.created_at,
                    post.id,
                    post.reply_to_id,
                )
            )
    return index


@dataclass
class _Tally:
    """What the user and one person exchanged, while it is being counted."""

    accounts: set[tuple[str, str]] = field(default_factory=set)
    strength: float = 0.0
    before: float = 0.0
    given: int = 0
    received: int = 0
    first: datetime | None = None
    last: datetime | None = None


def _weeks(start: datetime, end: datetime) -> list[datetime]:
    """Monday 00:00 UTC of every week that overlaps ``[start, end)``."""
    first = (start - timedelta(days=start.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    weeks = []
    moment = first
    while moment < end:
        weeks.append(moment)
        moment += timedelta(weeks=1)
    return weeks or [first]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _decay(age: timedelta, half_life_days: float) -> float:
    return float(0.5 ** (age.total_seconds() / 86400 / half_life_days))


class _Computer:
    """Computes :class:`Figures` and relationships for a set of platforms."""

    def __init__(self, data: CommunityData, period: Period, half_life_days: float) -> None:
        self.data = data
        self.period = period
        self.half_life = half_life_days
        self.index = _index(data)
        dated = [p.created_at for p in data.posts if p.created_at] + [
            c.when for c in self.index.contacts if c.when
        ]
        self.data_start = min(dated) if dated else None
        self.data_end = max(dated) if dated else None
        start = period.since or self.data_start or datetime.now(UTC)
        end = period.until or (
            self.data_end + timedelta(seconds=1) if self.data_end else datetime.now(UTC)
        )
        self.reference = end
        self.week_starts = _weeks(start, end)

    def _week(self, when: datetime | None) -> int | None:
        if when is None or not self.period.contains(when):
            return None
        first = self.week_starts[0]
        number = int((when - first).total_seconds() // (7 * 86400))
        return number if 0 <= number < len(self.week_starts) else None

    def figures(self, platforms: set[str]) -> tuple[Figures, list[Relationship]]:
        index, period = self.index, self.period
        own = [
            p
            for p in self.data.posts
            if p.platform.value in platforms and p.author_id in index.selves[p.platform.value]
        ]
        others = [
            p
            for p in self.data.posts
            if p.platform.value in platforms and p.author_id not in index.selves[p.platform.value]
        ]
        own_now = [p for p in own if period.contains(p.created_at)]
        contacts = [c for c in self.index.contacts if c.platform in platforms]
        contacts_now = [c for c in contacts if period.contains(c.when)]
        received_known = bool(platforms & index.received_known)

        def to_others(platform: str, author: str | None) -> bool:
            return not index.is_self(platform, author)

        # conversation
        replies = [
            p
            for p in own_now
            if p.kind is PostKind.REPLY and to_others(p.platform.value, p.reply_to_author_id)
        ]
        received = [c for c in contacts_now if c.direction == _IN]
        replies_received = (
            sum(1 for c in received if c.kind is InteractionKind.REPLY) if received_known else None
        )
        started, joined = self._threads(own, others, contacts, platforms)
        median, unanswered = self._responsiveness(own, received, received_known)

        # sharing
        shared_people: Counter[str] = Counter()
        shared_posts: list[Post] = []
        reposts = quotes = self_promotion = unknown_source = 0
        mix = Counter({"conversation": 0, "sharing": 0, "broadcast": 0, "other": 0})
        for post in own_now:
            platform = post.platform.value
            if post.kind in (PostKind.REPOST, PostKind.QUOTE):
                author = (
                    post.repost_of_author_id
                    if post.kind is PostKind.REPOST
                    else index.quote_authors.get((platform, post.id))
                )
                if index.is_self(platform, author):
                    self_promotion += 1
                    mix["broadcast"] += 1
                    continue
                mix["sharing"] += 1
                shared_posts.append(post)
                if post.kind is PostKind.REPOST:
                    reposts += 1
                else:
                    quotes += 1
                if author is None:
                    unknown_source += 1
                else:
                    shared_people[index.person(platform, author)] += 1
            elif post.kind is PostKind.REPLY and to_others(platform, post.reply_to_author_id):
                mix["conversation"] += 1
            else:
                mentions_others = any(not index.is_self(platform, m) for m in post.mentions)
                if post.links:
                    self_promotion += 1
                mix["broadcast" if post.links and not mentions_others else "other"] += 1
        total = len(own_now)
        shares = Mix(**{k: v / total for k, v in mix.items()}) if total else Mix()

        # learning
        learned = [c for c in contacts_now if c.direction == _OUT and c.kind in _LEARNING]
        anonymous = Counter[str]()
        for (platform, kind), number in self.data.anonymous.items():
            if platform in platforms:
                anonymous[kind] += number
        undated = (
            0
            if period.all_time
            else sum(anonymous.values())
            + sum(
                1
                for c in contacts
                if c.direction == _OUT and c.kind in _LEARNING and c.when is None
            )
        )
        if not period.all_time:
            anonymous.clear()  # undated: in no bounded period

        # connections
        relationships = self._relationships(contacts)
        interacted = [r for r in relationships if r.given + r.received > 0]
        first_dated: dict[str, datetime] = {}
        has_undated: set[str] = set()
        for c in contacts:
            if c.person is None:
                continue
            if c.when is None:
                has_undated.add(c.person)
            elif c.person not in first_dated or c.when < first_dated[c.person]:
                first_dated[c.person] = c.when
        new = [
            r.person
            for r in interacted
            if r.person not in has_undated and period.contains(first_dated.get(r.person))
        ]
        if period.all_time:
            new = [r.person for r in interacted]
        reciprocal = sum(1 for r in interacted if r.given and r.received)

        # rates
        rated = [p for p in own_now if p.kind is not PostKind.REPOST]

        def rate(values: Iterable[int | None]) -> tuple[float | None, int]:
            known = [v for v in values if v is not None]
            return (sum(known) / len(known) if known else None), len(known)

        conversation_rate, n_conv = rate(p.reply_count for p in rated)
        amplification_rate, n_amp = rate(
            None if p.repost_count is None else p.repost_count + (p.quote_count or 0) for p in rated
        )
        applause_rate, n_app = rate(p.like_count for p in rated)

        weeks = max(1.0, len(self.week_starts))
        style, reasons = style_of(shares, total, total / weeks)
        followers, following = self._vanity(platforms)
        trends = self._trends(
            own_now, replies, shared_posts, contacts_now, new, first_dated, received_known
        )
        trends = Trends(trends.weeks, {**trends.series, **self._follow_trends(platforms)})
        figures = Figures(
            replies_given=len(replies),
            replies_received=replies_received,
            conversations=started + joined,
            conversations_started=started,
            conversations_joined=joined,
            median_reply_minutes=median,
            unanswered_share=unanswered,
            reposts_of_others=reposts + quotes,
            reposts=reposts,
            quotes=quotes,
            self_promotion=self_promotion,
            distinct_people_shared=len(shared_people),
            top_source_share=_share(
                max(shared_people.values(), default=0), sum(shared_people.values())
            ),
            likes_given=anonymous[InteractionKind.LIKE.value]
            + sum(1 for c in learned if c.kind is InteractionKind.LIKE),
            bookmarks_given=anonymous[InteractionKind.BOOKMARK.value]
            + sum(1 for c in learned if c.kind is InteractionKind.BOOKMARK),
            distinct_sources_learned=len({c.person for c in learned if c.person is not None}),
            undated_excluded=undated,
            people_interacted=len(interacted),
            new_connections=len(new),
            reciprocity=_share(reciprocal, len(interacted)) if received_known else None,
            conversation_rate=conversation_rate,
            amplification_rate=amplification_rate,
            applause_rate=applause_rate,
            rated_posts=max(n_conv, n_amp, n_app),
            mix=shares,
            mix_counts=dict(mix),
            style=style,
            style_reasons=reasons,
            followers=followers,
            following=following,
            posts=total,
            received_data=received_known,
            trends=trends,
        )
        return figures, relationships

    def _threads(
        self,
        own: list[Post],
        others: list[Post],
        contacts: list[Contact],
        platforms: set[str],
    ) -> tuple[int, int]:
        """Threads the user posted in during the period with at least one other person:
        (started by the user, joined)."""
        index, period = self.index, self.period
        by_id = {(p.platform.value, p.id): p for p in (*own, *others)}

        def thread(post: Post) -> tuple[str, str]:
            platform = post.platform.value
            if post.conversation_id:
                return (platform, "c:" + post.conversation_id)
            current, seen = post, set()
            while current.reply_to_id is not None:
                key = (platform, current.reply_to_id)
                if key not in by_id or key in seen:
                    break
                seen.add(key)
                current = by_id[key]
            return (platform, "r:" + (current.reply_to_id or current.id))

        active: set[tuple[str, str]] = set()
        root_own: set[tuple[str, str]] = set()
        with_others: set[tuple[str, str]] = set()
        post_thread: dict[tuple[str, str], tuple[str, str]] = {}
        for post in own:
            if post.kind is PostKind.REPOST:
                continue  # sharing, not conversation
            platform = post.platform.value
            key = thread(post)
            post_thread[(platform, post.id)] = key
            if period.contains(post.created_at):
                active.add(key)
            if post.reply_to_id is None:
                root_own.add(key)
            elif not index.is_self(platform, post.reply_to_author_id):
                with_others.add(key)
            if any(not index.is_self(platform, m) for m in post.mentions):
                with_others.add(key)
        for post in others:
            with_others.add(thread(post))
        for contact in contacts:
            if contact.direction == _IN and contact.kind in _ADDRESSING:
                addressed = post_thread.get((contact.platform, contact.target_post_id or ""))
                if addressed is not None:
                    with_others.add(addressed)
        talking = active & with_others
        started = len(talking & root_own)
        return started, len(talking) - started

    def _responsiveness(
        self,
        own: list[Post],
        received: list[Contact],
        known: bool,
    ) -> tuple[float | None, float | None]:
        """Median minutes to answer people who addressed the user, and the share left
        unanswered."""
        if not known:
            return None, None
        answers: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        for post in own:
            if post.reply_to_id and post.created_at:
                answers[(post.platform.value, post.reply_to_id)].append(post.created_at)
        delays: list[float] = []
        addressed = unanswered = 0
        for contact in received:
            if contact.kind not in _ADDRESSING or contact.via_post_id is None:
                continue
            addressed += 1
            times = answers.get((contact.platform, contact.via_post_id), [])
            later = [t for t in times if contact.when is None or t >= contact.when]
            if not later:
                unanswered += 1
            elif contact.when is not None:
                delays.append((min(later) - contact.when).total_seconds() / 60)
        median = statistics.median(delays) if delays else None
        return median, _share(unanswered, addressed)

    def _relationships(self, contacts: list[Contact]) -> list[Relationship]:
        """Every person the user ever exchanged anything with, strength decayed to the end
        of the period (and to its start, for the fading ones)."""
        period, reference = self.period, self.reference
        found: dict[str, _Tally] = {}
        for c in contacts:
            if c.person is None or (c.when is not None and c.when >= reference):
                continue
            tally = found.setdefault(c.person, _Tally())
            tally.accounts.add((c.platform, c.account or ""))
            if period.contains(c.when):
                if c.direction == _OUT:
                    tally.given += 1
                else:
                    tally.received += 1
            if c.when is None:
                continue
            tally.strength += _decay(reference - c.when, self.half_life)
            if period.since is not None and c.when < period.since:
                tally.before += _decay(period.since - c.when, self.half_life)
            tally.first = c.when if tally.first is None else min(tally.first, c.when)
            tally.last = c.when if tally.last is None else max(tally.last, c.when)
        handles = self.data.handles
        return [
            Relationship(
                person=person,
                accounts=tuple(f"{p}:{a}" for p, a in sorted(t.accounts)),
                handles=tuple(h for key in sorted(t.accounts) if (h := handles.get(key))),
                strength=t.strength,
                strength_before=t.before,
                given=t.given,
                received=t.received,
                first_seen=t.first,
                last_seen=t.last,
            )
            for person, t in found.items()
        ]

    def _vanity(self, platforms: set[str]) -> tuple[int | None, int | None]:
        """Followers and following now: the export's follow lists (distinct people), else
        the profile's counts, else ``None``."""
        index = self.index
        results: list[int | None] = []
        for incoming in (True, False):
            people: set[str] = set()
            with_edges: set[str] = set()
            for edge in self.data.follows:
                platform = edge.platform.value
                if platform not in platforms:
                    continue
                mine, other = (
                    (edge.followee_id, edge.follower_id)
                    if incoming
                    else (edge.follower_id, edge.followee_id)
                )
                if mine in index.selves[platform] and not index.is_self(platform, other):
                    people.add(index.person(platform, other))
                    with_edges.add(platform)
            total: int | None = len(people) if with_edges else None
            for account in self.data.selves:
                platform = account.platform.value
                if platform in platforms and platform not in with_edges:
                    count = account.followers_count if incoming else account.following_count
                    if count is not None:
                        total = (total or 0) + count
            results.append(total)
        return results[0], results[1]

    def _follow_trends(self, platforms: set[str]) -> dict[str, list[int] | None]:
        """New followers and new follows per week, where the export dates follow edges
        (Bluesky follows, LinkedIn connections); ``None`` where it does not."""
        found: dict[str, list[int] | None] = {}
        size = len(self.week_starts)
        for name, incoming in (("followers_gained", True), ("following_gained", False)):
            series: list[int] | None = None
            for edge in self.data.follows:
                platform = edge.platform.value
                mine = edge.followee_id if incoming else edge.follower_id
                if platform not in platforms or mine not in self.index.selves[platform]:
                    continue
                if edge.followed_at is None:
                    continue
                series = series or [0] * size
                week = self._week(edge.followed_at)
                if week is not None:
                    series[week] += 1
            found[name] = series
        return found

    def _trends(
        self,
        own_now: list[Post],
        replies: list[Post],
        shared: list[Post],
        contacts_now: list[Contact],
        new: list[str],
        first_dated: dict[str, datetime],
        received_known: bool,
    ) -> Trends:
        size = len(self.week_starts)

        def count(times: Iterable[datetime | None]) -> list[int]:
            series = [0] * size
            for when in times:
                week = self._week(when)
                if week is not None:
                    series[week] += 1
            return series

        people: list[set[str]] = [set() for _ in range(size)]
        for c in contacts_now:
            week = self._week(c.when)
            if week is not None and c.person is not None:
                people[week].add(c.person)
        series: dict[str, list[int] | None] = {
            "posts": count(p.created_at for p in own_now),
            "replies_given": count(p.created_at for p in replies),
            "replies_received": count(
                c.when
                for c in contacts_now
                if c.direction == _IN and c.kind is InteractionKind.REPLY
            )
            if received_known
            else None,
            "reposts_of_others": count(p.created_at for p in shared),
            "people_interacted": [len(s) for s in people],
            "new_connections": count(first_dated.get(person) for person in new),
        }
        return Trends(tuple(w.date().isoformat() for w in self.week_starts), series)


def style_of(mix: Mix, posts: int, per_week: float) -> tuple[str, tuple[str, ...]]:
    """The user's style from the mix, with the reasons (thresholds in report.py)."""
    if posts == 0 or per_week < LURKER_POSTS_PER_WEEK:
        return "lurker", (
            f"{per_week:.2f} posts per week, under {LURKER_POSTS_PER_WEEK:g}: "
            "mostly reading, not posting",
        )
    shares = {
        "connector": ("conversation", mix.conversation),
        "curator": ("sharing", mix.sharing),
        "promoter": ("broadcast", mix.broadcast),
    }
    style, (kind, share) = max(shares.items(), key=lambda item: item[1][1])
    if share >= STYLE_SHARE:
        return style, (f"{share:.0%} of posts are {kind} (at least {STYLE_SHARE:.0%})",)
    return "all-rounder", (
        f"no kind of post reaches {STYLE_SHARE:.0%} (largest: {kind}, {share:.0%})",
    )


def compute(
    data: CommunityData,
    period: Period,
    half_life_days: float = HALF_LIFE_DAYS,
    platform: str | None = None,
) -> CommunityReport:
    """The community report of ``period``: per platform (or only ``platform``) plus ``all``."""
    if half_life_days <= 0:
        raise ValueError("the half-life must be positive")
    computer = _Computer(data, period, half_life_days)
    present = sorted({a.platform.value for a in data.selves})
    if platform is not None:
        present = [p for p in present if p == platform]
    figures: dict[str, Figures] = {}
    relationships: dict[str, list[Relationship]] = {}
    for name, scope in [*((p, {p}) for p in present), ("all", set(present))]:
        figures[name], relationships[name] = computer.figures(scope)
    return CommunityReport(
        period=period,
        half_life_days=half_life_days,
        figures=figures,
        relationships=relationships,
        data_start=computer.data_start,
        data_end=computer.data_end,
    )
