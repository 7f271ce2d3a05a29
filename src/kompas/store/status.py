"""What ``kompas status`` counts, as one portable SQL statement: the same text runs through
SQLAlchemy on any store and through the standard library's ``sqlite3`` on a SQLite store
already at the newest schema (so ``status`` starts without importing SQLAlchemy)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

#: kompas.model's InteractionKind.LIKE and .BOOKMARK and PostKind.REPLY and .REPOST, written
#: out so that `status` does not import the record types (tests/test_startup.py checks them).
LIKE, BOOKMARK, REPLY, REPOST = "like", "bookmark", "reply", "repost"


@dataclass(frozen=True, slots=True)
class PlatformCounts:
    """What the store holds for one platform, from the user's side.

    ``posts`` counts all of the user's own posts (replies and reposts included);
    ``likes`` and ``bookmarks`` are what the user gave. ``followers`` and ``following``
    are ``None`` (no data) when nothing imported or synced lists them: a Mastodon archive
    or a Bluesky repository holds no follower list, and that is not zero followers.
    """

    posts: int = 0
    replies: int = 0
    reposts: int = 0
    likes: int = 0
    bookmarks: int = 0
    followers: int | None = 0
    following: int | None = 0
    accounts: int = 0

    def as_dict(self) -> dict[str, int | None]:
        """The counts as a plain dict (the ``kompas status --json`` shape)."""
        return asdict(self)


def _own(table: str, column: str) -> str:
    # Rows of `table` whose `column` is one of the user's own accounts.
    return (
        f"FROM {table} AS t JOIN accounts AS a"
        f" ON a.platform = t.platform AND a.id = t.{column} WHERE a.is_self"
    )


#: Rows of (platform, figure, post kind or NULL, count). The kinds are kompas's own
#: constants, written in as literals so the text needs no parameters on either driver.
STATUS_SQL = " UNION ALL ".join(
    (
        f"SELECT t.platform, 'posts', t.kind, count(*) {_own('posts', 'author_id')}"
        " GROUP BY t.platform, t.kind",
        f"SELECT t.platform, 'likes', NULL, count(*) {_own('interactions', 'actor_id')}"
        f" AND t.kind = '{LIKE}' GROUP BY t.platform",
        f"SELECT t.platform, 'bookmarks', NULL, count(*) {_own('interactions', 'actor_id')}"
        f" AND t.kind = '{BOOKMARK}' GROUP BY t.platform",
        f"SELECT t.platform, 'followers', NULL, count(*) {_own('follows', 'followee_id')}"
        " AND t.ended_at IS NULL GROUP BY t.platform",
        f"SELECT t.platform, 'following', NULL, count(*) {_own('follows', 'follower_id')}"
        " AND t.ended_at IS NULL GROUP BY t.platform",
        "SELECT platform, 'accounts', NULL, count(*) FROM accounts GROUP BY platform",
        # What could list followers and following: the imports by kind, the sync streams.
        "SELECT source, 'imported', NULL, count(*) FROM imports GROUP BY source",
        "SELECT platform, 'synced', stream, count(*) FROM sync_state GROUP BY platform, stream",
    )
)

#: The export kinds that list the user's followers and whom the user follows, by platform.
#: A Mastodon archive lists whom the user follows only with ``following_accounts.csv``, a
#: LinkedIn export its connections only with ``Connections.csv`` (then the counts are above
#: zero); an X archive always has both lists, even empty.
LISTED_BY_IMPORT = {
    "x-archive": ("x", ("followers", "following")),
    "bluesky-car": ("bluesky", ("following",)),
}
#: The sync streams that walk those lists whole (Mastodon's and Bluesky's).
LISTED_BY_STREAM = {"followers": "followers", "following": "following", "follows": "following"}

#: How many feeds the user subscribes to (from OPML).
FEEDS_SQL = "SELECT count(*) FROM feed_subscriptions"


def counts_by_platform(rows: Iterable[Any]) -> dict[str, PlatformCounts]:
    """The :data:`STATUS_SQL` rows folded into counts per platform, for every platform that
    has any data, sorted by platform; a follow list no import or sync could give is
    ``None``."""
    figures: dict[str, dict[str, int | None]] = {}
    listed: set[tuple[str, str]] = set()
    for platform, figure, kind, count in rows:
        if figure == "imported":
            where, lists = LISTED_BY_IMPORT.get(platform, ("", ()))
            listed.update((where, side) for side in lists)
            continue
        if figure == "synced":
            if kind in LISTED_BY_STREAM:
                listed.add((platform, LISTED_BY_STREAM[kind]))
            continue
        bucket = figures.setdefault(platform, {})
        if figure != "posts":
            bucket[figure] = int(count)
            continue
        bucket["posts"] = (bucket.get("posts") or 0) + int(count)
        if kind == REPLY:
            bucket["replies"] = int(count)
        elif kind == REPOST:
            bucket["reposts"] = int(count)
    for platform, bucket in figures.items():
        for side in ("followers", "following"):
            if not bucket.get(side) and (platform, side) not in listed:
                bucket[side] = None
    return {platform: PlatformCounts(**values) for platform, values in sorted(figures.items())}  # type: ignore[arg-type]
