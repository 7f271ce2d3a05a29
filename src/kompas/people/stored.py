"""The people pillar over the store: a stored account as a profile, research on it, and
whether it looks automated (:func:`automation`, for the other pillars).

Only store queries are used (``kompas.store.people``); the judgments are the pure ones of
:mod:`~kompas.people.verdict` and :mod:`~kompas.people.authenticity`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import sqlalchemy as sa

from kompas.people import authenticity, texts
from kompas.people.engagement import merge_tiers, tiers_from_model, tiers_from_network
from kompas.people.profiles import Profile, from_stored
from kompas.people.signals import columns_from_profiles
from kompas.people.train import TIERS
from kompas.people.verdict import Research, research
from kompas.store import people as store


def profile(connection: sa.Connection, platform: str, account_id: str) -> Profile | None:
    """A stored account with its recent posts; for the user's own account, the counts the
    store holds (follow edges, posts) fill what the profile lacks."""
    row = store.account(connection, platform, account_id)
    if row is None:
        return None
    posts = store.recent_posts(connection, platform, account_id)
    found = from_stored(platform, account_id, asdict(row), posts)
    if row.is_self:
        held = store.counts(connection, platform, account_id)
        found = replace(
            found,
            followers=found.followers if found.followers is not None else held.followers,
            following=found.following if found.following is not None else held.following,
            posts=found.posts if found.posts is not None else held.posts,
        )
    return found


def research_account(
    connection: sa.Connection, platform: str, account_id: str, model: authenticity.Model
) -> Research | None:
    """Research on a stored account (``None`` when the store does not have it)."""
    found = profile(connection, platform, account_id)
    if found is None:
        return None
    me = store.self_account(connection, platform)
    user = me.id if me else None
    graph = store.talk_graph(connection, platform, [account_id, *([user] if user else [])])
    references = merge_tiers(
        tiers_from_network(store.network_engagement(connection), TIERS),
        tiers_from_model(model.engagement_tiers),
    )
    return research(
        found, model, references, graph, store.own_texts(connection), user, key=account_id
    )


@dataclass(frozen=True, slots=True)
class AutomationFlag:
    """Whether an account looks automated: ``declared`` by its own platform flag;
    ``likely`` from the model (``None`` when too little is known); ``reason`` a code
    (``declared_bot``, ``too_few_inputs``, ``unknown_account`` or a model reason such as
    ``posts_per_day:automated``), :meth:`text` in words."""

    declared: bool
    likely: bool | None
    reason: str

    def text(self, lang: str = texts.DEFAULT) -> str:
        """The reason in words."""
        if self.reason == "unknown_account":
            return "the store does not know this account"
        return texts.reason(self.reason, lang=lang)


def automation(
    connection: sa.Connection,
    platform: str,
    account_id: str,
    model: authenticity.Model | None = None,
) -> AutomationFlag:
    """Does this stored account look automated? Its declared bot flag first, then the
    model when the store holds enough about it, else unknown (``likely`` is ``None``)."""
    found = profile(connection, platform, account_id)
    if found is None:
        return AutomationFlag(False, None, "unknown_account")
    if found.declared_bot:
        return AutomationFlag(True, True, authenticity.DECLARED_CODE)
    scores = authenticity.score(model or authenticity.shipped(), columns_from_profiles([found]))
    if scores.used[0] == authenticity.UNKNOWN:
        return AutomationFlag(False, None, authenticity.UNKNOWN_CODE)
    codes = authenticity.codes(scores, 0)
    likely = bool(scores.flagged[0])
    # The first reason that points the way of the answer.
    towards = "automated" if likely else "human"
    reason = next((c for c in codes if c.endswith(towards)), codes[0] if codes else "")
    return AutomationFlag(False, likely, reason)
