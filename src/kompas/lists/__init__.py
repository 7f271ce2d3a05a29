"""Lists that maintain themselves: Mastodon and Bluesky lists whose members come from the
user's rules (``route: list:NAME``), relationships or ``people-to-meet``.

:func:`plan` reads what the lists should hold from the store and what they hold from the
platform, and returns the diff; :func:`apply` makes exactly that diff, one write at a time,
so an interrupted apply leaves a smaller diff for the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from kompas.lists.config import ListSpec, load_lists, routed_lists
from kompas.lists.plan import Current, ListPlan, Member, diff

__all__ = [
    "ApplyReport",
    "Current",
    "ListPlan",
    "ListSpec",
    "ListsClient",
    "Member",
    "apply",
    "plan",
    "specs",
    "wanted",
]

LISTS_FILE = "lists.yaml"


class ListsClient(Protocol):
    """What a platform adapter does for lists."""

    platform: str
    refusal: str

    def current(self, spec: ListSpec) -> Current: ...

    def addable(self, accounts: Iterable[str]) -> dict[str, str]: ...

    def create(self, spec: ListSpec) -> str: ...

    def set_exclusive(self, list_id: str, spec: ListSpec, current: Current) -> None: ...

    def add(self, list_id: str, spec: ListSpec, account: str, ref: str) -> None: ...

    def remove(self, list_id: str, spec: ListSpec, account: str, ref: str) -> None: ...


def specs(home: Path, connection: sa.Connection) -> list[ListSpec]:
    """The lists of ``lists.yaml`` in the workspace, else one per ``list:NAME`` route."""
    from kompas.store.feeds import list_routes

    path = home / LISTS_FILE
    if path.exists():
        return load_lists(path)
    return routed_lists(list_routes(connection))


def wanted(connection: sa.Connection, spec: ListSpec) -> dict[str, str | None]:
    """The accounts (id → handle) ``spec`` says its list should hold, from the store."""
    from kompas.rules.signals import talk_counts
    from kompas.store import feeds as store

    if spec.members == "talked":
        talk, _ = talk_counts(connection, spec.days)
        prefix = f"{spec.platform}:"
        ids = [key.removeprefix(prefix) for key in talk if key.startswith(prefix)]
        names = store.handles(connection, spec.platform, ids)
        return {i: names.get(i) for i in sorted(ids)}
    route = (
        "people-to-meet" if spec.members == "people-to-meet" else f"list:{spec.route or spec.name}"
    )
    found = store.routed_authors(connection, route, spec.platform)
    names = store.handles(connection, spec.platform, found)
    return {i: names.get(i) or found[i] for i in sorted(found)}


def plan(engine: sa.Engine, home: Path, clients: Mapping[str, ListsClient]) -> list[ListPlan]:
    """The diff of every list: what it should hold (store) against what it holds
    (platform). Changes nothing."""
    with engine.connect() as connection:
        lists = [(spec, wanted(connection, spec)) for spec in specs(home, connection)]
    plans = []
    for spec, accounts in lists:
        client = clients[spec.platform]
        current = client.current(spec)
        addable = client.addable(a for a in accounts if a not in current.members)
        plans.append(diff(spec, accounts, current, addable, client.refusal))
    return plans


@dataclass
class ApplyReport:
    """What an apply did, per list (``platform:name`` → counts)."""

    lists: dict[str, dict[str, int]]

    def as_json(self) -> dict[str, Any]:
        """``kompas lists apply --json``."""
        total = {
            key: sum(counts[key] for counts in self.lists.values())
            for key in ("created", "updated", "added", "removed")
        }
        return {**total, "lists": self.lists}


def apply(
    plans: Iterable[ListPlan],
    clients: Mapping[str, ListsClient],
    on_step: Callable[[str], None] | None = None,
) -> ApplyReport:
    """Make the ``plans``: create lists, set the exclusive flag, add, then remove, one
    write at a time. A failure stops there; what was written stays written, and the next
    plan is smaller by exactly that."""
    report = ApplyReport({})
    say = on_step or (lambda _: None)
    for p in plans:
        client = clients[p.spec.platform]
        counts = report.lists.setdefault(
            f"{p.spec.platform}:{p.spec.name}",
            {"created": 0, "updated": 0, "added": 0, "removed": 0},
        )
        list_id = p.current.list_id
        if list_id is None:
            list_id = client.create(p.spec)
            counts["created"] += 1
            say(f"created the {p.spec.platform} list {p.spec.name!r}")
        if p.set_exclusive is not None:
            client.set_exclusive(list_id, p.spec, p.current)
            counts["updated"] += 1
        for member in p.add:
            client.add(list_id, p.spec, member.shown, p.refs[member.account])
            counts["added"] += 1
        for member in p.remove:
            client.remove(list_id, p.spec, member.shown, p.current.members[member.account])
            counts["removed"] += 1
    return report
