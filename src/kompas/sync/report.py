"""What a sync did, stream by stream: the figures the CLI prints and tests check."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from kompas.model import Record
from kompas.store.feeds import NewEntry
from kompas.store.sync import ListWalk, write_page


@dataclass
class StreamReport:
    """One stream (statuses, notifications, followers, ...) of one sync run."""

    stream: str
    pages: int = 0
    items: int = 0
    added: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    skipped: str | None = None
    #: Follow edges a complete list no longer showed (unfollows), and edges back again.
    ended: int = 0
    resumed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` shape of a stream."""
        return {
            "pages": self.pages,
            "items": self.items,
            "added": dict(sorted(self.added.items())),
            "ended": self.ended,
            "resumed": self.resumed,
            "warnings": list(self.warnings),
            "skipped": self.skipped,
        }


@dataclass
class SyncReport:
    """A whole sync run of one connected account."""

    platform: str
    account: str
    streams: dict[str, StreamReport] = field(default_factory=dict)
    #: Feed items stored for the first time (timeline posts), for the rules to decide.
    new_items: list[str] = field(default_factory=list)

    def stream(self, name: str) -> StreamReport:
        """The report of ``name``, created on first use."""
        return self.streams.setdefault(name, StreamReport(name))

    def merge(self, prefix: str, into: str) -> None:
        """Fold the streams named ``PREFIX…`` (a repository's collections, a timeline's
        lists) into one stream ``into``, as the report shows them."""
        total = self.stream(into)
        for name, entry in list(self.streams.items()):
            if name.startswith(prefix) and name != into:
                total.pages += entry.pages
                total.items += entry.items
                for table, count in entry.added.items():
                    total.added[table] = total.added.get(table, 0) + count
                total.warnings += entry.warnings
                total.ended += entry.ended
                total.resumed += entry.resumed
                del self.streams[name]

    def added(self) -> dict[str, int]:
        """Rows added per table over every stream."""
        totals: dict[str, int] = {}
        for report in self.streams.values():
            for table, count in report.added.items():
                totals[table] = totals.get(table, 0) + count
        return dict(sorted(totals.items()))

    def as_dict(self) -> dict[str, Any]:
        """The ``kompas sync ... --json`` shape."""
        return {
            "platform": self.platform,
            "account": self.account,
            "added": self.added(),
            "streams": {name: s.as_dict() for name, s in self.streams.items()},
        }


class Committer:
    """Writes each page with its cursor (one transaction) and keeps the report."""

    def __init__(self, engine: sa.Engine, report: SyncReport) -> None:
        self.engine = engine
        self.report = report

    def page(
        self,
        stream: str,
        items: int,
        records: Iterable[Record],
        cursor: Any,
        walk: ListWalk | None = None,
        entries: Sequence[NewEntry] = (),
    ) -> None:
        """Commit one page of ``stream``: its records and the cursor after it (and, for a
        page of a complete follower/following list, what that says about unfollows; for a
        page of a timeline, its posts as feed items)."""
        written = write_page(
            self.engine,
            list(records),
            platform=self.report.platform,
            account_id=self.report.account,
            stream=stream,
            cursor=cursor,
            walk=walk,
            entries=entries,
        )
        self.report.new_items += written.new_items
        entry = self.report.stream(stream)
        entry.pages += 1
        entry.items += items
        entry.ended += written.ended
        entry.resumed += written.resumed
        for table, count in written.added.items():
            entry.added[table] = entry.added.get(table, 0) + count


def resume_walk(state: Any, key: str) -> tuple[Any, datetime]:
    """Where a walk of a complete follower/following list resumes (the position stored
    under ``key``) and when that walk started. A walk stored without its start (or none)
    begins again from the top, now: only a whole walk may say who unfollowed."""
    if isinstance(state, Mapping) and state.get(key) is not None:
        try:
            return state[key], datetime.fromisoformat(str(state["started"]))
        except (KeyError, ValueError):
            pass
    return None, datetime.now(UTC)
