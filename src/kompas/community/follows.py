"""Who follows whom, now: followers and following per platform, mutuals, follow-back, and the
follow edges gained per week. Follow lists are small (people, not posts), so both the
reference and the SQL path read them the same way, from the loaded edges."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from kompas.community.contacts import Index
from kompas.community.figures import Scope
from kompas.model import Account, Follow


class Follows:
    """The store's current follow edges of the user, keyed by person."""

    def __init__(self, index: Index, edges: list[Follow], selves: list[Account]) -> None:
        self.index = index
        self.edges = edges
        self.selves = selves
        followers: dict[str, set[str]] = defaultdict(set)
        following: dict[str, set[str]] = defaultdict(set)
        for edge in edges:
            platform = edge.platform.value
            if edge.followee_id in index.selves[platform]:
                if not index.is_self(platform, edge.follower_id):
                    followers[platform].add(index.person(platform, edge.follower_id))
            elif edge.follower_id in index.selves[platform] and not index.is_self(
                platform, edge.followee_id
            ):
                following[platform].add(index.person(platform, edge.followee_id))
        #: Per platform (absent when the store holds no such list).
        self.followers = dict(followers)
        self.following = dict(following)

    def everyone_following(self) -> frozenset[str]:
        """Every person who follows the user, on any platform."""
        return frozenset(p for people in self.followers.values() for p in people)

    def follow_back(
        self, replied: Iterable[tuple[str, str]], platforms: set[str]
    ) -> tuple[float | None, int, int]:
        """Of the distinct people replied to (``(platform, account)`` pairs) on platforms
        whose follower list the store holds, the share that follows the user (and the
        counts)."""
        people = {
            self.index.person(platform, account)
            for platform, account in replied
            if platform in self.followers
        }
        if not people:
            return None, 0, 0
        followers = {p for platform in platforms for p in self.followers.get(platform, ())}
        back = len(people & followers)
        return back / len(people), len(people), back

    def mutuals(self, platforms: set[str]) -> int | None:
        """People the user follows who follow the user, where both lists are known."""
        both = [p for p in platforms if p in self.followers and p in self.following]
        if not both:
            return None
        followers = {p for platform in both for p in self.followers[platform]}
        following = {p for platform in both for p in self.following[platform]}
        return len(followers & following)

    def vanity(self, platforms: set[str]) -> tuple[int | None, int | None]:
        """Followers and following now: the follow lists (distinct people), else the
        profile's counts, else ``None``."""
        results: list[int | None] = []
        for lists, attribute in (
            (self.followers, "followers_count"),
            (self.following, "following_count"),
        ):
            people = {p for platform in platforms for p in lists.get(platform, ())}
            total: int | None = len(people) if any(p in lists for p in platforms) else None
            for account in self.selves:
                platform = account.platform.value
                if platform in platforms and platform not in lists:
                    count = getattr(account, attribute)
                    if count is not None:
                        total = (total or 0) + count
            results.append(total)
        return results[0], results[1]

    def series(self, scope: Scope, platforms: set[str]) -> dict[str, list[int] | None]:
        """New followers and new follows per week, where the data dates follow edges
        (Bluesky follows, LinkedIn connections); ``None`` where it does not."""
        found: dict[str, list[int] | None] = {}
        size = len(scope.week_starts)
        for name, incoming in (("followers_gained", True), ("following_gained", False)):
            series: list[int] | None = None
            for edge in self.edges:
                platform = edge.platform.value
                mine = edge.followee_id if incoming else edge.follower_id
                if platform not in platforms or mine not in self.index.selves[platform]:
                    continue
                if edge.followed_at is None:
                    continue
                series = series or [0] * size
                week = scope.week(edge.followed_at)
                if week is not None:
                    series[week] += 1
            found[name] = series
        return found
