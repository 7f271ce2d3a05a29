"""The diff between the lists the user's rules and relationships call for and the lists
on the platform: pure, so ``plan`` prints exactly what ``apply`` will do.

A platform adapter (:mod:`kompas.sync.mastodon_lists`, :mod:`kompas.sync.bluesky_lists`)
reads the list as it stands (:class:`Current`) and says which wanted accounts it can add
(Mastodon lists hold only accounts the user follows); :func:`diff` does the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kompas.lists.config import ListSpec


@dataclass(frozen=True, slots=True)
class Member:
    """An account, by its id in the store (actor URI, DID), with a handle to show."""

    account: str
    handle: str | None = None

    @property
    def shown(self) -> str:
        """The handle, else the account id."""
        return self.handle or self.account

    def as_json(self) -> dict[str, Any]:
        """``{account, handle}``."""
        return {"account": self.account, "handle": self.handle}


@dataclass(frozen=True, slots=True)
class Current:
    """A list as it stands on the platform (``list_id`` ``None``: it does not exist):
    members by account id → what the platform needs to remove them (an API id, a record
    key), and, on Mastodon, whether it is exclusive."""

    list_id: str | None = None
    members: Mapping[str, str] = field(default_factory=dict)
    handles: Mapping[str, str] = field(default_factory=dict)
    exclusive: bool | None = None
    replies_policy: str | None = None


@dataclass(frozen=True, slots=True)
class ListPlan:
    """What applying one list changes: create it, set its exclusive flag, add and remove
    members; ``skipped`` are wanted accounts the platform cannot take, with the reason."""

    spec: ListSpec
    current: Current
    create: bool
    set_exclusive: bool | None
    add: tuple[Member, ...]
    remove: tuple[Member, ...]
    skipped: tuple[tuple[Member, str], ...] = ()
    #: Account id → the reference the platform adds it by (Mastodon API id, DID).
    refs: Mapping[str, str] = field(default_factory=dict)

    @property
    def changes(self) -> int:
        """How many writes applying it makes."""
        return (
            int(self.create)
            + int(self.set_exclusive is not None)
            + len(self.add)
            + len(self.remove)
        )

    @property
    def unchanged(self) -> int:
        """Members that stay."""
        return len(self.current.members) - len(self.remove)

    def as_json(self) -> dict[str, Any]:
        """One list of ``kompas lists plan --json``."""
        return {
            **self.spec.as_json(),
            "exists": self.current.list_id is not None,
            "create": self.create,
            "set_exclusive": self.set_exclusive,
            "add": [m.as_json() for m in self.add],
            "remove": [m.as_json() for m in self.remove],
            "skipped": [{**m.as_json(), "reason": why} for m, why in self.skipped],
            "unchanged": self.unchanged,
            "changes": self.changes,
        }


def diff(
    spec: ListSpec,
    wanted: Mapping[str, str | None],
    current: Current,
    addable: Mapping[str, str],
    refusal: str = "",
) -> ListPlan:
    """The plan that makes ``current`` hold exactly the ``wanted`` accounts (id → handle)
    that the platform can take (``addable``: id → the reference it adds them by);
    ``refusal`` says why the others cannot be added."""
    add = tuple(
        Member(a, wanted[a]) for a in sorted(wanted) if a not in current.members and a in addable
    )
    skipped = tuple(
        (Member(a, wanted[a]), refusal)
        for a in sorted(wanted)
        if a not in current.members and a not in addable
    )
    remove = tuple(
        Member(a, current.handles.get(a)) for a in sorted(current.members) if a not in wanted
    )
    exists = current.list_id is not None
    set_exclusive: bool | None = None
    if spec.platform == "mastodon" and exists and bool(current.exclusive) != spec.exclusive:
        set_exclusive = spec.exclusive
    return ListPlan(
        spec=spec,
        current=current,
        create=not exists,
        set_exclusive=set_exclusive,
        add=add,
        remove=remove,
        skipped=skipped,
        refs={a: addable[a] for a in wanted if a in addable},
    )
