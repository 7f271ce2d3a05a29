"""Your own clubs: the communities in the graph of your interactions and follows, how much
of your attention each gets, who bridges them, and who outside your usual club answered
you or follows you back (lesson 3: popular circles talk inside themselves; so may you).

The graph holds the people you interact with or follow, or who interact with or follow
you, and the ties among them (interactions and follows both ways); you are left out of
it, since you touch everyone. Communities are found with networkx's Louvain method
(weighted, fixed seed: the same store gives the same clubs). A community of one is no
club: such accounts are "outside any club".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import networkx as nx

from kompas.store.people import Tie

#: Interaction kinds in which someone answers or addresses you.
ANSWERS = frozenset(("reply", "mention", "quote"))


@dataclass(frozen=True, slots=True)
class Member:
    """An account of a club, with how often you interacted with it."""

    account: str
    handle: str | None
    attention: int


@dataclass(frozen=True, slots=True)
class Club:
    """One community: its members (most of your attention first) and your attention."""

    number: int
    size: int
    #: Your interactions with its members, and their share of all your interactions.
    interactions: int
    attention: float | None
    members: list[Member]


@dataclass(frozen=True, slots=True)
class Bridge:
    """An account tied to several clubs."""

    account: str
    handle: str | None
    club: int | None
    clubs: list[int]


@dataclass(frozen=True, slots=True)
class Outsider:
    """Someone outside your usual club who answered you or follows you back."""

    account: str
    handle: str | None
    club: int | None
    answered: int
    follows_back: bool


@dataclass(frozen=True)
class Clubs:
    """Everything ``kompas people clubs`` reports."""

    accounts: int
    interactions: int
    clubs: list[Club]
    #: Your interactions with accounts in no club (communities of one), and their share.
    unclustered: int
    unclustered_attention: float | None
    usual: int | None
    bridges: list[Bridge] = field(default_factory=list)
    outside: list[Outsider] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The ``kompas people clubs --json`` shape."""
        return asdict(self)


def _key(platform: str, account: str) -> str:
    return f"{platform}:{account}"


def clubs(
    own: Mapping[str, str],
    ties: Sequence[Tie],
    handles: Mapping[str, str] | None = None,
    seed: int = 0,
) -> Clubs:
    """Communities around the user (``own``: platform → the user's account id) from
    ``ties`` (see :func:`kompas.store.people.own_graph`)."""
    handles = handles or {}
    me = {_key(p, a) for p, a in own.items()}
    graph = nx.Graph()
    given: Counter[str] = Counter()
    answered: Counter[str] = Counter()
    i_follow: set[str] = set()
    follow_me: set[str] = set()
    for tie in ties:
        source, target = _key(tie.platform, tie.source), _key(tie.platform, tie.target)
        if source in me and target in me:
            continue
        if source in me:
            graph.add_node(target)
            if tie.kind == "follow":
                i_follow.add(target)
            else:
                given[target] += tie.count
            continue
        if target in me:
            graph.add_node(source)
            if tie.kind == "follow":
                follow_me.add(source)
            elif tie.kind in ANSWERS:
                answered[source] += tie.count
            continue
        weight = graph.get_edge_data(source, target, {}).get("weight", 0)
        graph.add_edge(source, target, weight=weight + tie.count)
    found = nx.community.louvain_communities(graph, weight="weight", seed=seed)
    groups = sorted(
        (sorted(c) for c in found if len(c) > 1),
        key=lambda c: (-sum(given[a] for a in c), -len(c), c[0]),
    )
    number_of = {account: n for n, group in enumerate(groups, start=1) for account in group}
    total = sum(given.values())

    def share(count: int) -> float | None:
        return round(count / total, 4) if total else None

    listed = []
    for n, group in enumerate(groups, start=1):
        attention = sum(given[a] for a in group)
        members = sorted(group, key=lambda a: (-given[a], a))
        listed.append(
            Club(
                number=n,
                size=len(group),
                interactions=attention,
                attention=share(attention),
                members=[Member(a, handles.get(a), given[a]) for a in members],
            )
        )
    unclustered = sum(count for a, count in given.items() if a not in number_of)
    usual = max(listed, key=lambda c: (c.interactions, -c.number)).number if listed else None
    if usual is not None and not listed[usual - 1].interactions:
        usual = None
    bridges = []
    for account in sorted(graph.nodes):
        touched = {number_of[n] for n in graph.neighbors(account) if n in number_of}
        if account in number_of:
            touched.add(number_of[account])
        if len(touched) >= 2:
            bridges.append(
                Bridge(account, handles.get(account), number_of.get(account), sorted(touched))
            )
    bridges.sort(key=lambda b: (-len(b.clubs), b.account))
    mutual = i_follow & follow_me
    outside = [
        Outsider(a, handles.get(a), number_of.get(a), answered[a], a in mutual)
        for a in sorted(set(answered) | mutual)
        if usual is None or number_of.get(a) != usual
    ]
    outside.sort(key=lambda o: (-o.answered, not o.follows_back, o.account))
    return Clubs(
        accounts=graph.number_of_nodes(),
        interactions=total,
        clubs=listed,
        unclustered=unclustered,
        unclustered_attention=share(unclustered),
        usual=usual,
        bridges=bridges,
        outside=outside,
    )
