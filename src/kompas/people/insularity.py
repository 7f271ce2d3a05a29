"""Insularity ("the club"): how much of an account's talk stays inside a small closed
set of accounts that mostly talk to each other, and whether it answers anyone else.

The input is a weighted interaction graph: ``graph[a][b]`` is how many times ``a``
replied to, mentioned or reposted ``b``. The club of an account is found by peeling:
start from everyone it interacts with, then repeatedly drop partners whose known
interactions go mostly (more than half) outside the club and the account itself, until
nothing changes. Partners whose own interactions are unknown cannot be shown to be in a
club, so they count as outside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kompas.people.texts import say

#: A partner belongs to the club when at least this share of its interactions stays inside.
CLOSED_SHARE = 0.5
#: A club is small: at most this many accounts (the heaviest partners are kept).
MAX_CLUB = 20

Graph = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True, slots=True)
class Insularity:
    """The club and the share of interactions that stay in it, with the counts."""

    account: str
    interactions: int
    partners: int
    club: tuple[str, ...]
    inside: int
    share_inside: float | None
    outsiders_answered: int
    answers_user: int | None
    reason: str
    #: The reason as a code and its numbers, for any language (:func:`texts.say`).
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)


def club_of(account: str, graph: Graph, max_club: int = MAX_CLUB) -> set[str]:
    """The closed set of partners around ``account`` (see the module's docstring)."""
    own = graph.get(account, {})
    ranked = sorted((p for p in own if p != account), key=lambda p: (-own[p], p))
    club = set(ranked[:max_club])
    changed = True
    while changed:
        changed = False
        circle = club | {account}
        for partner in sorted(club):
            edges = graph.get(partner, {})
            total = sum(edges.values())
            inside = sum(n for target, n in edges.items() if target in circle)
            if total == 0 or inside / total < CLOSED_SHARE:
                club.discard(partner)
                changed = True
    return club


def insularity(account: str, graph: Graph, user: str | None = None) -> Insularity:
    """How insular ``account`` is in ``graph``; ``user`` is the reader, if known."""
    own = {p: n for p, n in graph.get(account, {}).items() if p != account}
    total = sum(own.values())
    club = club_of(account, graph)
    inside = sum(n for p, n in own.items() if p in club)
    outsiders = [p for p in own if p not in club]
    share = inside / total if total else None
    answers_user = own.get(user, 0) if user is not None else None
    params: dict[str, Any] = {}
    if share is None:
        code = "insularity.unknown"
    else:
        code = "insularity.insular" if not outsiders else "insularity.found"
        params = {
            "inside": inside,
            "total": total,
            "share": round(share, 4),
            "club": len(club),
            "outsiders": len(outsiders),
        }
        if answers_user is not None:
            code += "_you"
            params["times"] = answers_user
    reason = say(code, **params)
    return Insularity(
        account=account,
        interactions=total,
        partners=len(own),
        club=tuple(sorted(club)),
        inside=inside,
        share_inside=share,
        outsiders_answered=len(outsiders),
        answers_user=answers_user,
        reason=reason,
        code=code,
        params=params,
    )
