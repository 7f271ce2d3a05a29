"""Relationship-aware ranking: the points ``score_by: relationship`` and ``quiet_first``
add to an item, and the reason for each, from what the store knows about its author.

Pure: :class:`Ranking` holds counts per account (``platform:account_id``) that
:func:`kompas.rules.signals.ranking_of` reads from the store, and every figure it gives
comes with a :class:`~kompas.i18n.Message` saying where it came from, so ``rules explain``
can say why an item ranked where it did.

- ``score_by: relationship`` adds one point per exchange (a reply, mention, repost or
  quote, either way) between the user and the author in the ``talk_days`` before the
  data's end, up to :data:`RELATIONSHIP_CAP`: people you talk with rank higher.
- ``quiet_first`` adds :data:`QUIET_MAX` points to an author seen once in the timelines in
  the ``posts_days`` before the newest timeline post, one point less each time that count
  doubles (2-3 posts: 4, 4-7: 3, … 32 or more: 0): the quiet are not drowned by the loud.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from kompas.i18n import Message, message

#: ``score_by`` values a rule may name.
SCORE_BY = ("relationship",)
#: The most points ``score_by: relationship`` adds.
RELATIONSHIP_CAP = 10
#: The points ``quiet_first`` adds to an author seen once.
QUIET_MAX = 5
#: The windows the counts cover, in days before the data's end.
TALK_DAYS = 90
POSTS_DAYS = 30


@dataclass(frozen=True, slots=True)
class Ranking:
    """Per account (``platform:account_id``): exchanges with the user in the ``talk_days``
    to ``talk_until``, and posts seen in the timelines in the ``posts_days`` to
    ``posts_until``. An empty ranking (no store: ``rules test``) adds nothing, and says so."""

    talk: Mapping[str, int] = field(default_factory=dict)
    posts: Mapping[str, int] = field(default_factory=dict)
    talk_until: datetime | None = None
    posts_until: datetime | None = None
    talk_days: int = TALK_DAYS
    posts_days: int = POSTS_DAYS

    def points(self, account: str | None, relationship: bool, quiet: bool) -> int:
        """The points alone (the batch path: no reasons built), the same as
        :meth:`relationship` and :meth:`quiet` give."""
        if account is None:
            return 0
        total = 0
        if relationship and self.talk_until is not None:
            total += min(self.talk.get(account, 0), RELATIONSHIP_CAP)
        if quiet and self.posts_until is not None:
            count = self.posts.get(account, 0)
            total += quiet_points(count) if count else 0
        return total

    def relationship(self, account: str | None, author: str | None) -> tuple[int, Message]:
        """The points ``score_by: relationship`` gives an item by ``account``, and why."""
        who = author or account or "?"
        if account is None:
            return 0, message("rules.why.rank_no_account", rule="score_by relationship")
        count = self.talk.get(account, 0)
        if not count or self.talk_until is None:
            return 0, message("rules.why.relationship_none", author=who)
        points = min(count, RELATIONSHIP_CAP)
        return points, message(
            "rules.why.relationship",
            author=who,
            count=count,
            days=self.talk_days,
            until=self.talk_until.date().isoformat(),
            points=points,
            cap=RELATIONSHIP_CAP,
        )

    def quiet(self, account: str | None, author: str | None) -> tuple[int, Message]:
        """The points ``quiet_first`` gives an item by ``account``, and why."""
        who = author or account or "?"
        if account is None:
            return 0, message("rules.why.rank_no_account", rule="quiet_first")
        count = self.posts.get(account, 0)
        if not count or self.posts_until is None:
            return 0, message("rules.why.quiet_unseen", author=who, days=self.posts_days)
        points = quiet_points(count)
        return points, message(
            "rules.why.quiet",
            author=who,
            count=count,
            days=self.posts_days,
            until=self.posts_until.date().isoformat(),
            points=points,
            most=QUIET_MAX,
        )


def quiet_points(posts: int) -> int:
    """:data:`QUIET_MAX` for one post, one less each time the count doubles, never < 0."""
    return max(0, QUIET_MAX - (max(posts, 1).bit_length() - 1))


#: What a rule file asks of a ranking when it names neither: no store read at all.
NO_RANKING = Ranking()
