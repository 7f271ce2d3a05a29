"""Community figures from the user's loaded rows: the reference implementation, pure, no I/O.

Everything is computed over a set of platforms; the per-platform figures use one platform
and ``all`` uses every platform at once. People are identified by their *person key*
(the linked person's name, else ``platform:id``), so a person linked across platforms is
one person in ``all`` and merged counts never exceed the sum of per-platform counts.

:mod:`kompas.community.aggregate` computes the same figures with grouped queries (what
the CLI and the dashboard use); a property test holds the two to the same answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from kompas.community.contacts import GIVEN, RECEIVED, Contact, index_of
from kompas.community.conversation import threads
from kompas.community.figures import Scope, Tallies, Vanity, assemble, weeks
from kompas.community.follows import Follows
from kompas.community.mix import SHARING, OwnPlaces, classify, style_of
from kompas.community.relationships import Knowledge, relationships
from kompas.community.report import HALF_LIFE_DAYS, CommunityReport, Figures, Relationship
from kompas.model import InteractionKind, Post, PostKind
from kompas.period import Period
from kompas.store.community import CommunityData
from kompas.store.inbox import responsiveness

__all__ = ["compute", "style_of"]

LEARNING = (InteractionKind.LIKE, InteractionKind.BOOKMARK)


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
        self.scope = Scope(period, weeks(start, end))
        self.follows = Follows(self.index, data.follows, data.selves)

    def vanity(self, platforms: set[str]) -> Vanity:
        """Follow counts, mutuals, and where the scope's data ends."""
        ends = [self.ends[p] for p in platforms if p in self.ends]
        followers, following = self.follows.vanity(platforms)
        return Vanity(
            followers,
            following,
            self.follows.mutuals(platforms),
            max(ends) if ends else None,
            self.follows.series(self.scope, platforms),
        )

    def figures(self, platforms: set[str]) -> tuple[Figures, list[Relationship]]:
        index, period, scope = self.index, self.period, self.scope
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
            + sum(1 for c in contacts if c.direction == GIVEN and c.kind in LEARNING and not c.when)
        )
        t = Tallies(has_data, undated, relations, self.vanity(platforms))
        if not has_data:
            return assemble(scope, t, platforms), relations

        replies = [
            p
            for p in own_now
            if p.kind is PostKind.REPLY
            and not index.is_self(p.platform.value, p.reply_to_author_id)
        ]
        received = [c for c in contacts_now if c.direction == RECEIVED]
        t.posts, t.replies_given, t.received_known = len(own_now), len(replies), received_known
        if received_known:
            t.replies_received = sum(1 for c in received if c.kind is InteractionKind.REPLY)
        t.started, t.joined = threads(index, period, own, others, contacts)
        if received_known:  # the inbox's own rows, so its figures and `kompas inbox` agree
            t.median_reply_minutes, t.unanswered_share = responsiveness(
                a for a in self.data.addressed if a.platform in platforms and period.contains(a.at)
            )
        shared_posts = self._mix(t, own_now)
        learned = [c for c in contacts_now if c.direction == GIVEN and c.kind in LEARNING]
        if not period.all_time:
            anonymous.clear()  # undated: in no bounded period
        t.likes = anonymous[InteractionKind.LIKE.value] + sum(
            1 for c in learned if c.kind is InteractionKind.LIKE
        )
        t.bookmarks = anonymous[InteractionKind.BOOKMARK.value] + sum(
            1 for c in learned if c.kind is InteractionKind.BOOKMARK
        )
        t.sources_learned = len({c.person for c in learned if c.person is not None})
        for c in contacts:
            if c.person is None:
                continue
            if c.when is None:
                t.undated_people.add(c.person)
            elif c.person not in t.first_dated or c.when < t.first_dated[c.person]:
                t.first_dated[c.person] = c.when
        t.follow_back = self.follows.follow_back(
            (
                (p.platform.value, p.reply_to_author_id or "")
                for p in replies
                if p.reply_to_author_id
            ),
            platforms,
        )
        rated = [p for p in own_now if p.kind is not PostKind.REPOST]
        t.rates = (
            _rate(p.reply_count for p in rated),
            _rate(
                None if p.repost_count is None else p.repost_count + (p.quote_count or 0)
                for p in rated
            ),
            _rate(p.like_count for p in rated),
        )
        bots = {r.person for r in relations if r.automated}
        people: list[set[str]] = [set() for _ in scope.week_starts]
        for c in contacts_now:
            week = scope.week(c.when)
            if week is not None and c.person is not None and c.person not in bots:
                people[week].add(c.person)
        t.series = {
            "posts": scope.count(p.created_at for p in own_now),
            "replies_given": scope.count(p.created_at for p in replies),
            "replies_received": scope.count(
                c.when for c in received if c.kind is InteractionKind.REPLY
            )
            if received_known
            else None,
            "reposts_of_others": scope.count(p.created_at for p in shared_posts),
            "people_interacted": [len(s) for s in people],
        }
        return assemble(scope, t, platforms), relations

    def _mix(self, t: Tallies, own_now: list[Post]) -> list[Post]:
        """Counts each post's kind in the mix, what was shared and whose; returns the posts
        that share someone else's post."""
        index = self.index
        shared_posts: list[Post] = []
        for post in own_now:
            platform = post.platform.value
            found = classify(post, index, self.own_places)
            t.mix[found.kind] = t.mix.get(found.kind, 0) + 1
            t.self_promotion += found.self_promotion
            t.links_shared += found.shared_link
            if found.kind != SHARING or found.shared_link:
                continue
            shared_posts.append(post)
            if post.kind is PostKind.REPOST:
                t.reposts += 1
                author = post.repost_of_author_id
            else:
                t.quotes += 1
                author = index.quote_authors.get((platform, post.id))
            if author is not None:
                t.shared_people[index.person(platform, author)] += 1
        return shared_posts

    def _relationships(self, contacts: list[Contact], platforms: set[str]) -> list[Relationship]:
        known = Knowledge(
            received=frozenset(platforms & self.index.received_known),
            follower_lists=frozenset(platforms & set(self.follows.followers)),
            followers=self.follows.everyone_following(),
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


def _rate(values: Iterable[int | None]) -> tuple[int, int]:
    known = [v for v in values if v is not None]
    return sum(known), len(known)


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
