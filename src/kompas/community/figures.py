"""From counts to figures: what one scope (a platform, or ``all``) adds up to, whichever
path counted it. The reference (:mod:`kompas.community.compute`, over loaded rows) and the
SQL path (:mod:`kompas.community.aggregate`, grouped queries) both fill a :class:`Tallies`;
:func:`assemble` turns it into :class:`Figures`, so the style, reciprocity and connection
rules exist once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kompas.community.mix import KINDS, style_of
from kompas.community.report import (
    ONE_WAY_RECIPROCITY,
    TWO_WAY,
    UNKNOWN_WAY,
    Figures,
    Mix,
    Relationship,
    Trends,
)
from kompas.i18n import Message, message
from kompas.period import Period

#: The weekly series every scope with data has (``followers_gained`` and
#: ``following_gained`` come with the follow edges).
SERIES = (
    "posts",
    "replies_given",
    "replies_received",
    "reposts_of_others",
    "people_interacted",
    "people_reached",
    "new_connections",
)
WEEK_SECONDS = 7 * 86400


def weeks(start: datetime, end: datetime) -> list[datetime]:
    """Monday 00:00 UTC of every week that overlaps ``[start, end)``."""
    first = (start - timedelta(days=start.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    found = []
    moment = first
    while moment < end:
        found.append(moment)
        moment += timedelta(weeks=1)
    return found or [first]


def share(part: int, whole: int) -> float | None:
    """``part / whole``, or ``None`` (no data) when ``whole`` is 0."""
    return part / whole if whole else None


@dataclass
class Scope:
    """The period and its weeks, shared by every scope of one report."""

    period: Period
    week_starts: list[datetime]

    def week(self, when: datetime | None) -> int | None:
        """The index of the week ``when`` falls in, if the period holds it."""
        if when is None or not self.period.contains(when):
            return None
        number = int((when - self.week_starts[0]).total_seconds() // WEEK_SECONDS)
        return number if 0 <= number < len(self.week_starts) else None

    def count(self, times: Iterable[datetime | None]) -> list[int]:
        """How many of ``times`` fall in each week."""
        series = [0] * len(self.week_starts)
        for when in times:
            number = self.week(when)
            if number is not None:
                series[number] += 1
        return series

    @property
    def labels(self) -> tuple[str, ...]:
        """The weeks as ISO days."""
        return tuple(w.date().isoformat() for w in self.week_starts)


@dataclass
class Vanity:
    """What describes now rather than the period: follower and following counts, mutuals,
    where the scope's data ends, and the follow edges gained per week."""

    followers: int | None = None
    following: int | None = None
    mutuals: int | None = None
    data_end: datetime | None = None
    follow_series: dict[str, list[int] | None] = field(default_factory=dict)


@dataclass
class Tallies:
    """Everything counted for one scope over the period, before any rule is applied."""

    has_data: bool
    undated: int
    relations: list[Relationship]
    vanity: Vanity
    posts: int = 0
    replies_given: int = 0
    replies_received: int | None = None
    received_known: bool = False
    started: int = 0
    joined: int = 0
    median_reply_minutes: float | None = None
    unanswered_share: float | None = None
    mix: dict[str, int] = field(default_factory=dict)
    self_promotion: int = 0
    links_shared: int = 0
    reposts: int = 0
    quotes: int = 0
    shared_people: Counter[str] = field(default_factory=Counter)
    likes: int = 0
    bookmarks: int = 0
    sources_learned: int = 0
    #: Each person's first dated exchange (any time), and who has an undated one.
    first_dated: dict[str, datetime] = field(default_factory=dict)
    undated_people: set[str] = field(default_factory=set)
    #: (share, people replied to on platforms with a follower list, of them followers)
    follow_back: tuple[float | None, int, int] = (None, 0, 0)
    #: (sum, posts carrying the count) for replies, reposts + quotes and likes received.
    rates: tuple[tuple[int, int], tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0), (0, 0))
    #: Weekly: posts, replies_given, replies_received, reposts_of_others, people_interacted.
    series: dict[str, list[int] | None] = field(default_factory=dict)


def connections(
    relations: list[Relationship],
    first_dated: dict[str, datetime],
    undated_people: set[str],
    period: Period,
) -> tuple[list[Relationship], int, list[str]]:
    """The people exchanged with in the period (automated accounts apart, and counted),
    and those reached for the first time in it (someone with an undated exchange may be
    older: not counted)."""
    people = [r for r in relations if r.given + r.received > 0 and not r.automated]
    automated = sum(1 for r in relations if r.given + r.received > 0 and r.automated)
    if period.all_time:
        return people, automated, [r.person for r in people]
    reached = [
        r.person
        for r in people
        if r.person not in undated_people and period.contains(first_dated.get(r.person))
    ]
    return people, automated, reached


def _rate(pair: tuple[int, int]) -> float | None:
    total, n = pair
    return total / n if n else None


def _one_way(reciprocity: float | None, basis: str | None, t: Tallies) -> Message | None:
    """Why a mostly replying user is a one-way replier, when few answer or follow back."""
    if reciprocity is None or reciprocity >= ONE_WAY_RECIPROCITY:
        return None
    _, replied, back = t.follow_back
    if basis != "follow_back":
        return message("community.style.one_way_interactions", share=reciprocity)
    if back:
        return message("community.style.one_way_follow_back", n=back, of=replied, share=reciprocity)
    return message("community.style.one_way_follow_back_none", of=replied)


def no_data(scope: Scope, t: Tallies, platforms: set[str]) -> Figures:
    """Figures of a scope with no activity in the period: no data, and why."""
    end = t.vanity.data_end
    name = next(iter(platforms)) if len(platforms) == 1 else "any platform"
    reason = (
        message("community.style.no_data", platform=name, data_end=end)
        if end is not None
        else message("community.style.no_data_at_all", platform=name)
    )
    return Figures(
        style=None,
        style_reasons=(reason,),
        followers=t.vanity.followers,
        following=t.vanity.following,
        mutuals=t.vanity.mutuals,
        undated_excluded=t.undated,
        has_data=False,
        data_end=end,
        trends=Trends(scope.labels, dict.fromkeys(SERIES, None)),
    )


def assemble(scope: Scope, t: Tallies, platforms: set[str]) -> Figures:
    """The figures of one scope from its tallies."""
    if not t.has_data:
        return no_data(scope, t, platforms)
    people, automated, reached = connections(
        t.relations, t.first_dated, t.undated_people, scope.period
    )
    ways = {r.person: r.way for r in people}
    # Unknown when everyone reached is someone the data cannot say answered or not.
    knowable = not reached or any(ways[p] != UNKNOWN_WAY for p in reached)
    new = [p for p in reached if ways[p] == TWO_WAY]
    follow_back, replied_known, _ = t.follow_back
    reciprocity: float | None
    if t.received_known:
        both = sum(1 for r in people if r.given and r.received)
        reciprocity, basis = share(both, len(people)), "interactions"
    elif follow_back is not None:
        reciprocity, basis = follow_back, "follow_back"
    else:
        reciprocity, basis = None, None
    mix = Counter(dict.fromkeys(KINDS, 0))
    mix.update(t.mix)
    total = t.posts
    shares = Mix(**{k: v / total for k, v in mix.items()}) if total else Mix()
    one_way = _one_way(reciprocity, basis, t)
    style, reasons = style_of(shares, total, total / max(1.0, len(scope.week_starts)), one_way)
    first: Callable[[Iterable[str]], list[int]] = lambda found: scope.count(  # noqa: E731
        t.first_dated.get(person) for person in found
    )
    series = {
        **t.series,
        "people_reached": first(reached),
        "new_connections": first(new),
        **t.vanity.follow_series,
    }
    rates = [_rate(pair) for pair in t.rates]
    return Figures(
        replies_given=t.replies_given,
        replies_received=t.replies_received,
        conversations=t.started + t.joined,
        conversations_started=t.started,
        conversations_joined=t.joined,
        median_reply_minutes=t.median_reply_minutes,
        unanswered_share=t.unanswered_share,
        reposts_of_others=t.reposts + t.quotes,
        reposts=t.reposts,
        quotes=t.quotes,
        links_shared=t.links_shared,
        self_promotion=t.self_promotion,
        distinct_people_shared=len(t.shared_people),
        top_source_share=share(
            max(t.shared_people.values(), default=0), sum(t.shared_people.values())
        ),
        likes_given=t.likes,
        bookmarks_given=t.bookmarks,
        distinct_sources_learned=t.sources_learned,
        undated_excluded=t.undated,
        people_interacted=len(people),
        people_reached=len(reached),
        new_connections=len(new) if knowable else None,
        reciprocity=reciprocity,
        reciprocity_basis=basis,
        follow_back=follow_back,
        follow_back_of=replied_known,
        mutuals=t.vanity.mutuals,
        automated_accounts=automated,
        conversation_rate=rates[0],
        amplification_rate=rates[1],
        applause_rate=rates[2],
        rated_posts=max(n for _, n in t.rates),
        mix=shares,
        mix_counts=dict(mix),
        style=style,
        style_reasons=reasons,
        followers=t.vanity.followers,
        following=t.vanity.following,
        posts=total,
        received_data=t.received_known,
        trends=Trends(scope.labels, series),
        has_data=True,
        data_end=t.vanity.data_end,
    )
