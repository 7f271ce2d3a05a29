"""The lists plan on the Feeds & rules page: the diff ``kompas lists plan`` prints, and the
Apply button that makes it (``POST /lists/apply``, CSRF-checked like every POST).

The plan reads the platforms, so it is fetched when the user asks (an HTMX fragment),
never on page load; a platform that cannot be reached is said on the page, not raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from kompas.errors import KompasError


@dataclass(frozen=True, slots=True)
class ListsView:
    """The plans (``None``: none could be made), what was applied, and what went wrong."""

    plans: list[Any] | None = None
    applied: dict[str, Any] | None = None
    problem: str | None = None
    unreachable: bool = False
    changes: int = field(default=0)


def _clients(engine: sa.Engine, home: Path, write: bool) -> dict[str, Any]:
    from kompas.lists import specs
    from kompas.sync.bluesky_lists import BlueskyLists
    from kompas.sync.http import policy_from_env
    from kompas.sync.mastodon_lists import MastodonLists

    with engine.connect() as connection:
        platforms = {s.platform for s in specs(home, connection)}
    policy = policy_from_env()
    return {
        p: (MastodonLists if p == "mastodon" else BlueskyLists)(home, policy, write=write)
        for p in sorted(platforms)
    }


def view(engine: sa.Engine, home: Path | None, apply: bool = False) -> ListsView:
    """The plan of every list, and with ``apply`` the plan made (then the plan after it)."""
    from kompas.lists import apply as apply_plans
    from kompas.lists import plan
    from kompas.sync.http import PlatformUnreachable

    if home is None:
        return ListsView(problem="no workspace")
    applied: dict[str, Any] | None = None
    try:
        clients = _clients(engine, home, write=apply)
        plans = plan(engine, home, clients)
        if apply:
            applied = apply_plans(plans, clients).as_json()
            clients = _clients(engine, home, write=False)
            plans = plan(engine, home, clients)
    except PlatformUnreachable as error:
        return ListsView(applied=applied, problem=str(error), unreachable=True)
    except KompasError as error:
        return ListsView(applied=applied, problem=str(error))
    return ListsView(plans, applied, changes=sum(p.changes for p in plans))
