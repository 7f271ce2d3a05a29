"""Community figures from the user's rows: pure functions, no I/O.

Everything is computed over a set of platforms; the per-platform figures use one platform
and ``all`` uses every platform at once. People are identified by their *person key*
(the linked person's name, else ``platform:id``), so a person linked across platforms is
one person in ``all`` and merged counts never exceed the sum of per-platform counts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from kompas.community.contacts import GIVEN, RECEIVED, Contact, index_of
from kompas.community.mix import KINDS, SHARING, OwnPlaces, classify, style_of
from kompas.community.relationships import Knowledge, relationships
from kompas.community.report import (
    HALF_LIFE_DAYS,
    ONE_WAY_RECIPROCITY,
    TWO_WAY,
    UNKNOWN_WAY,
    CommunityReport,
    Figures,
    Mix,
    Relationship,
    Trends,
)
from kompas.i18n import Message, message
from kompas.model import InteractionKind, Post, PostKind
from kompas.period import Period
from kompas.store.community import CommunityData
from kompas.store.inbox import responsiveness

_ADDRESSING = (InteractionKind.REPLY, InteractionKind.MENTION)
_LEARNING = (InteractionKind.LIKE, InteractionKind.BOOKMARK)
_SERIES = (
    "posts",
    "replies_given",
    "replies_received",
    "reposts_of_others",
    "people_interacted",
    "people_reached",
    "new_connections",
)


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


class _Computer:
    """Computes :class:`Figures` and relationships for a set of platforms."""

    def __init__(
        self, data: CommunityData, period: Period, half_life_days: float, own: OwnPlaces
    ) -> None:
        self.data = data
        self.period = period
        self.half_life = half_life_days
        self.own_places = own
        self.index = index_of(data)
        self.ends: dict[str, datetime] = {}
        dated: list[datetime] = []
        for platform, when in (
            *((p.platform.value, p.created_at) for p in data.posts if self.index.authored(p)),
            *((c.platform, c.when) for c in self.index.contacts),
        ):
            if when is None:
                continue
            dated.append(when)
            if platform not in self.ends or when > self.ends[platform]:
                self.ends[platform] = when
        self.data_start = min(dated) if dated else None
        self.data_end = max(dated) if dated else None
        start = period.since or self.data_start or datetime.now(UTC)
        end = period.until or (
            self.data_end + timedelta(seconds=1) if self.data_end else datetime.now(UTC)
        )
        self.reference = end
        self.week_starts = _weeks(start, end)
        self.followers, self.following = self._follow_lists()

    def _follow_lists(self) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        """Per platform, the people who follow the user and whom the user follows, as the
        store's current follow edges say (a platform is absent when it has no such list)."""
        index = self.index
        followers: dict[str, set[str]] = defaultdict(set)
        following: dict[str, set[str]] = defaultdict(set)
        for edge in self.data.follows:
            platform = edge.platform.value
            if edge.followee_id in index.selves[platform]:
                if not index.is_self(platform, edge.follower_id):
                    followers[platform].add(index.person(platform, edge.follower_id))
            elif edge.follower_id in index.selves[platform] and not index.is_self(
                platform, edge.followee_id
            ):
                following[platform].add(index.person(platform, edge.followee_id))
        return dict(followers), dict(following)

    def _week(self, when: datetime | None) -> int | None:
        if when is None or not self.period.contains(when):
            return None
        first = self.week_starts[0]
        number = int((when - first).total_seconds() // (7 * 86400))
        return number if 0 <= number < len(self.week_starts) else None

    def _data_end(self, platforms: set[str]) -> datetime | None:
        ends = [self.ends[p] for p in platforms if p in self.ends]
        return max(ends) if ends else None

    def _no_data(self, platforms: set[str], undated: int) -> Figures:
        """Figures of a scope with no activity in the period: no data, and why."""
        end = self._data_end(platforms)
        name = next(iter(platforms)) if len(platforms) == 1 else "any platform"
        reason = (
            message("community.style.no_data", platform=name, data_end=end)
            if end is not None
            else message("community.style.no_data_at_all", platform=name)
        )
        followers, following = self._vanity(platforms)
        return Figures(
            style=None,
            style_reasons=(reason,),
            followers=followers,
            following=following,
            mutuals=self._mutuals(platforms),
            undated_excluded=undated,
            has_data=False,
            data_end=end,
            trends=Trends(
                tuple(w.date().isoformat() for w in self.week_starts),
                dict.fromkeys(_SERIES, None),
            ),
        )

    def figures(self, platforms: set[str]) -> tuple[Figures, list[Relationship]]:
        index, period = self.index, self.period
        own = [p for p in self.data.posts if p.platform.value in platforms and index.authored(p)]
        others = [
            p for p in self.data.posts if p.platform.value in platforms and not index.authored(p)
        ]
        own_now = [p for p in own if period.contains(p.created_at)]
        contacts = [c for c in self.index.contacts if c.platform in platforms]
        contacts_now = [c for c in contacts if period.contains(c.when)]
        received_known = bool(platforms & index.received_known)
        anonymous = Counter[str]()
        for (platform, kind), number in self.data.anonymous.items():
            if platform in platforms:
                anonymous[kind] += number
        relations = self._relationships(contacts, platforms)
        has_data = bool(own_now or contacts_now) or (
            period.all_time and bool(own or contacts or anonymous)
        )
        # Undated records (X likes) fit no bounded period: counted apart, known either way.
        undated = (
            0
            if period.all_time
            else sum(anonymous.values())
            + sum(
                1 for c in contacts if c.direction == GIVEN and c.kind in _LEARNING and not c.when
            )
        )
        if not has_data:
            return self._no_data(platforms, undated), relations

        def to_others(platform: str, author: str | None) -> bool:
            return not index.is_self(platform, author)

        # conversation
        replies = [
            p
            for p in own_now
            if p.kind is PostKind.REPLY and to_others(p.platform.value, p.reply_to_author_id)
        ]
        received = [c for c in contacts_now if c.direction == RECEIVED]
        replies_received = (
            sum(1 for c in received if c.kind is InteractionKind.REPLY) if received_known else None
        )
        started, joined = self._threads(own, others, contacts)
        median, unanswered = self._responsiveness(platforms, received_known)

        # sharing, and the mix
        shared_people: Counter[str] = Counter()
        shared_posts: list[Post] = []
        reposts = quotes = links_shared = self_promotion = 0
        mix = Counter(dict.fromkeys(KINDS, 0))
        for post in own_now:
            platform = post.platform.value
            found = classify(post, index, self.own_places)
            mix[found.kind] += 1
            self_promotion += found.self_promotion
            links_shared += found.shared_link
            if found.kind != SHARING or found.shared_link:
                continue
            shared_posts.append(post)
            if post.kind is PostKind.REPOST:
                reposts += 1
                author = post.repost_of_author_id
            else:
                quotes += 1
                author = index.quote_authors.get((platform, post.id))
            if author is not None:
                shared_people[index.person(platform, author)] += 1
        total = len(own_now)
        shares = Mix(**{k: v / total for k, v in mix.items()}) if total else Mix()

        # learning
        learned = [c for c in contacts_now if c.direction == GIVEN and c.kind in _LEARNING]
        if not period.all_time:
            anonymous.clear()  # undated: in no bounded period

        # connections
        people = [r for r in relations if r.given + r.received > 0 and not r.automated]
        automated = sum(1 for r in relations if r.given + r.received > 0 and r.automated)
        first_dated, reached = self._first_contacts(contacts, people)
        ways = {r.person: r.way for r in people}
        # Unknown when everyone reached is someone the data cannot say answered or not.
        knowable = not reached or any(ways[p] != UNKNOWN_WAY for p in reached)
        new = [p for p in reached if ways[p] == TWO_WAY]
        follow_back, replied_known, followed_back = self._follow_back(replies, platforms)
        if received_known:
            both = sum(1 for r in people if r.given and r.received)
            reciprocity, basis = _share(both, len(people)), "interactions"
        elif follow_back is not None:
            reciprocity, basis = follow_back, "follow_back"
        else:
            reciprocity, basis = None, None

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

        one_way: Message | None = None
        if reciprocity is not None and reciprocity < ONE_WAY_RECIPROCITY:
            if basis != "follow_back":
                one_way = message("community.style.one_way_interactions", share=reciprocity)
            elif followed_back:
                one_way = message(
                    "community.style.one_way_follow_back",
                    n=followed_back,
                    of=replied_known,
                    share=reciprocity,
                )
            else:
                one_way = message("community.style.one_way_follow_back_none", of=replied_known)
        style, reasons = style_of(shares, total, total / max(1.0, len(self.week_starts)), one_way)
        followers, following = self._vanity(platforms)
        bots = {r.person for r in relations if r.automated}
        trends = self._trends(
            own_now,
            replies,
            shared_posts,
            [c for c in contacts_now if c.person not in bots],
            reached,
            new,
            first_dated,
            received_known,
        )
        return (
            Figures(
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
                links_shared=links_shared,
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
                people_interacted=len(people),
                people_reached=len(reached),
                new_connections=len(new) if knowable else None,
                reciprocity=reciprocity,
                reciprocity_basis=basis,
                follow_back=follow_back,
                follow_back_of=replied_known,
                mutuals=self._mutuals(platforms),
                automated_accounts=automated,
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
                trends=Trends(trends.weeks, {**trends.series, **self._follow_trends(platforms)}),
                has_data=True,
                data_end=self._data_end(platforms),
            ),
            relations,
        )

    def _relationships(self, contacts: list[Contact], platforms: set[str]) -> list[Relationship]:
        followers = frozenset(p for ps in self.followers.values() for p in ps)
        known = Knowledge(
            received=frozenset(platforms & self.index.received_known),
            follower_lists=frozenset(platforms & set(self.followers)),
            followers=followers,
        )
        return relationships(
            contacts,
            self.period,
            self.reference,
            self.half_life,
            self.data.handles,
            known,
            self.data.automated,
        )

    def _first_contacts(
        self, contacts: list[Contact], people: list[Relationship]
    ) -> tuple[dict[str, datetime], list[str]]:
        """Each person's first dated exchange, and the people reached for the first time in
        the period (someone with an undated exchange may be older: not counted)."""
        first_dated: dict[str, datetime] = {}
        has_undated: set[str] = set()
        for c in contacts:
            if c.person is None:
                continue
            if c.when is None:
                has_undated.add(c.person)
            elif c.person not in first_dated or c.when < first_dated[c.person]:
                first_dated[c.person] = c.when
        if self.period.all_time:
            return first_dated, [r.person for r in people]
        reached = [
            r.person
            for r in people
            if r.person not in has_undated and self.period.contains(first_dated.get(r.person))
        ]
        return first_dated, reached

    def _follow_back(
        self, replies: list[Post], platforms: set[str]
    ) -> tuple[float | None, int, int]:
        """Of the distinct people the user replied to in the period on platforms whose
        follower list the store holds, the share that follows the user (and the counts)."""
        index = self.index
        replied: set[str] = set()
        for post in replies:
            platform = post.platform.value
            if platform in self.followers and post.reply_to_author_id is not None:
                replied.add(index.person(platform, post.reply_to_author_id))
        if not replied:
            return None, 0, 0
        followers = {p for platform in platforms for p in self.followers.get(platform, ())}
        back = len(replied & followers)
        return back / len(replied), len(replied), back

    def _mutuals(self, platforms: set[str]) -> int | None:
        """People the user follows who follow the user, where both lists are known."""
        both = [p for p in platforms if p in self.followers and p in self.following]
        if not both:
            return None
        followers = {p for platform in both for p in self.followers[platform]}
        following = {p for platform in both for p in self.following[platform]}
        return len(followers & following)

    def _threads(
        self, own: list[Post], others: list[Post], contacts: list[Contact]
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
            if contact.direction == RECEIVED and contact.kind in _ADDRESSING:
                addressed = post_thread.get((contact.platform, contact.target_post_id or ""))
                if addressed is not None:
                    with_others.add(addressed)
        talking = active & with_others
        started = len(talking & root_own)
        return started, len(talking) - started

    def _responsiveness(
        self, platforms: set[str], known: bool
    ) -> tuple[float | None, float | None]:
        """Median minutes to answer people who addressed the user, and the share left
        unanswered: the inbox's own rows (:mod:`kompas.store.inbox`) of the period, so these
        figures and ``kompas inbox`` never disagree."""
        if not known:
            return None, None
        return responsiveness(
            a for a in self.data.addressed if a.platform in platforms and self.period.contains(a.at)
        )

    def _vanity(self, platforms: set[str]) -> tuple[int | None, int | None]:
        """Followers and following now: the follow lists (distinct people), else the
        profile's counts, else ``None``."""
        results: list[int | None] = []
        for lists, attribute in (
            (self.followers, "followers_count"),
            (self.following, "following_count"),
        ):
            people = {p for platform in platforms for p in lists.get(platform, ())}
            total: int | None = len(people) if any(p in lists for p in platforms) else None
            for account in self.data.selves:
                platform = account.platform.value
                if platform in platforms and platform not in lists:
                    count = getattr(account, attribute)
                    if count is not None:
                        total = (total or 0) + count
            results.append(total)
        return results[0], results[1]

    def _follow_trends(self, platforms: set[str]) -> dict[str, list[int] | None]:
        """New followers and new follows per week, where the data dates follow edges
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
        reached: list[str],
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
                if c.direction == RECEIVED and c.kind is InteractionKind.REPLY
            )
            if received_known
            else None,
            "reposts_of_others": count(p.created_at for p in shared),
            "people_interacted": [len(s) for s in people],
            "people_reached": count(first_dated.get(person) for person in reached),
            "new_connections": count(first_dated.get(person) for person in new),
        }
        return Trends(tuple(w.date().isoformat() for w in self.week_starts), series)


def compute(
    data: CommunityData,
    period: Period,
    half_life_days: float = HALF_LIFE_DAYS,
    platform: str | None = None,
    own_domains: Iterable[str] = (),
) -> CommunityReport:
    """The community report of ``period``: per platform (or only ``platform``) plus ``all``.

    ``own_domains`` are the user's own sites (strategy.yaml ``domains``): links to them, or
    to the user's own profile pages, are self-promotion; other links are sharing.
    """
    if half_life_days <= 0:
        raise ValueError("the half-life must be positive")
    own = OwnPlaces.of(own_domains, data.profile_pages)
    computer = _Computer(data, period, half_life_days, own)
    present = sorted({a.platform.value for a in data.selves})
    if platform is not None:
        present = [p for p in present if p == platform]
    figures: dict[str, Figures] = {}
    relations: dict[str, list[Relationship]] = {}
    for name, scope in [*((p, {p}) for p in present), ("all", set(present))]:
        figures[name], relations[name] = computer.figures(scope)
    return CommunityReport(
        period=period,
        half_life_days=half_life_days,
        figures=figures,
        relationships=relations,
        data_start=computer.data_start,
        data_end=computer.data_end,
    )
