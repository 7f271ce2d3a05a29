"""``kompas today`` as a plan: 3 to 7 concrete actions, each with why.

The strategy pillar gives its own (post on a quiet pillar, share a kept item for the
least-served pillar); this adds the people: reply to the top inbox items, reconnect with a
fading tie, check a new follower that looks automated, and what the user's rules route to
``notify`` (feed items and inbox items). Every read is an index range, so the plan costs
the same at any size of store.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from kompas.i18n import Message, message
from kompas.inbox.build import Inbox, build_inbox, plain_text, rules_of
from kompas.inbox.items import InboxItem
from kompas.known_bots import is_known_bot
from kompas.store import inbox as store
from kompas.strategy.today import ACTION_KINDS, MOST_ACTIONS, Action, Today

#: At most this many of each kind.
PER_KIND = {"notify": 2, "reply": 3, "reconnect": 2, "share": 1, "post": 1, "check": 1}
#: A tie fades when the user and the person talked in the :data:`BEFORE` days before the
#: last :data:`RECENT` days, and not since.
RECENT = timedelta(days=30)
BEFORE = timedelta(days=90)
#: Talked at least this often before, to count as a tie.
TIE_EXCHANGES = 3
#: A follower is new for this long.
NEW_FOLLOWER = timedelta(days=14)


def _quote(text: str, size: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= size else line[: size - 1] + "…"


def _ago(at: datetime | None, end: datetime) -> int | None:
    return None if at is None else max(0, (end - at).days)


def reply_actions(inbox: Inbox, end: datetime) -> list[Action]:
    """The top open inbox items (people before automated accounts)."""
    found = []
    for item in [i for i in inbox.items if not i.automated][: PER_KIND["reply"]]:
        found.append(
            Action(
                "reply",
                message("inbox.action.reply", person=item.who, text=_quote(item.text)),
                _reply_why(item, end),
                person=item.who,
                post=item.post,
                url=item.url,
            )
        )
    return found


def _reply_why(item: InboxItem, end: datetime) -> Message:
    tie = item.relationship
    days = _ago(item.at, end)
    if item.is_question:
        return message("inbox.why.question", kind=item.kind, count=days)
    if tie.first_contact:
        return message("inbox.why.first_contact", kind=item.kind, count=days)
    return message(
        "inbox.why.waiting",
        kind=item.kind,
        count=days,
        way=tie.way,
        strength=round(tie.strength, 2),
    )


def reconnect_actions(
    connection: sa.Connection, own: dict[str, list[str]], end: datetime
) -> list[Action]:
    """People whose reconnect cadence is due (``kompas people cadence``), most overdue
    first; then fading ties: people the user talked with in the three months before the
    last thirty days, and not since (accounts that declare automation, known bots and those
    the authenticity model flags are left out; a tie seen only from the user's side says
    so, since an export holds only what the user wrote)."""
    from kompas.people.stored import automation

    found = cadence_actions(connection, end)
    candidates = [
        c for c in store.fading(connection, own, end, RECENT, BEFORE) if c[2] >= TIE_EXCHANGES
    ]
    named = {a.person for a in found}
    for platform, account, exchanges in candidates:
        if len(found) >= PER_KIND["reconnect"]:
            break
        seen = store.exchanges(connection, platform, own[platform], [account])[account]
        last = max((t for t in (*seen.given, *seen.received) if t is not None), default=None)
        if last is not None and last >= end - RECENT:
            continue
        person = store.people(connection, platform, [account]).get(account)
        handle = _handle(platform, account, person.handle if person else None)
        if (person and person.is_bot) or is_known_bot(platform, handle) or handle in named:
            continue
        if automation(connection, platform, account).likely:
            continue
        found.append(
            Action(
                "reconnect",
                message("inbox.action.reconnect", person=handle),
                message(
                    "inbox.why.fading" if seen.received else "inbox.why.fading_one_way",
                    count=exchanges,
                    days=_ago(last, end),
                ),
                person=handle,
            )
        )
    return found


def cadence_actions(connection: sa.Connection, end: datetime) -> list[Action]:
    """Reconnects the user asked for: cadences due at the end of the day looked at."""
    from kompas.store.keep import cadence_due

    found = []
    for due in cadence_due(connection, end):
        person = due.handle or due.account.split(":", 1)[1]
        why = (
            message(
                "inbox.why.cadence",
                cadence=due.cadence_days,
                count=_ago(due.last_exchange, end),
            )
            if due.last_exchange is not None
            else message("inbox.why.cadence_never", cadence=due.cadence_days)
        )
        found.append(
            Action(
                "reconnect", message("inbox.action.reconnect", person=person), why, person=person
            )
        )
    return found


def check_actions(
    connection: sa.Connection, own: dict[str, list[str]], end: datetime
) -> list[Action]:
    """The newest follower (of the last two weeks) that looks automated."""
    followers = store.new_followers(connection, own, end - NEW_FOLLOWER)
    if not followers:
        return []
    from kompas.people import authenticity
    from kompas.people.stored import automation

    model = None
    for platform, account, at in followers:
        person = store.people(connection, platform, [account]).get(account)
        handle = _handle(platform, account, person.handle if person else None)
        if is_known_bot(platform, handle):
            why = message("inbox.why.known_bot")
        else:
            model = model or authenticity.shipped()
            flag = automation(connection, platform, account, model)
            if not flag.likely:
                continue
            why = message("inbox.why.automated", reason=flag.text())
        return [
            Action(
                "check",
                message("inbox.action.check", person=handle or account, count=_ago(at, end)),
                why,
                person=handle or account,
            )
        ]
    return []


def notify_actions(today: Today, inbox: Inbox) -> list[Action]:
    """What the user's rules route to ``notify``: inbox items first, then feed items."""
    found = [
        Action(
            "notify",
            message("inbox.action.notify_item", person=i.who, text=_quote(i.text)),
            message("inbox.why.notify"),
            person=i.who,
            post=i.post,
            url=i.url,
        )
        for i in inbox.items
        if "notify" in i.routes
    ]
    found += [
        Action(
            "notify",
            message("inbox.action.notify_feed", title=_quote(plain_text(n.title)), source=n.source),
            message("inbox.why.notify_feed", why=n.why),
            post=n.id,
            url=n.url,
        )
        for n in today.notices
    ]
    return found


def _handle(platform: str, account: str, handle: str | None) -> str:
    from kompas.community.relationships import display_handle

    return display_handle(platform, account, handle) or account


def with_plan(
    connection: sa.Connection,
    today: Today,
    home: Path | None,
    platform: str | None = None,
    now: datetime | None = None,
) -> Today:
    """``today`` with its actions: at most :data:`MOST_ACTIONS`, each kind in the order of
    :data:`ACTION_KINDS`, at most :data:`PER_KIND` of each."""
    end = today.day + timedelta(days=1)
    own = store.selves(connection, platform)
    inbox = build_inbox(connection, platform, rules=rules_of(home), now=now, limit=10)
    found: dict[str, list[Action]] = {
        "notify": notify_actions(today, inbox),
        "reply": reply_actions(inbox, end),
        "reconnect": reconnect_actions(connection, own, end),
        "check": check_actions(connection, own, end),
    }
    for action in today.actions:
        found.setdefault(action.kind, []).append(action)
    replied = {a.post for a in found["reply"]}
    found["notify"] = [a for a in found["notify"] if a.post not in replied or a.person is None]
    plan: list[Action] = []
    for kind in ACTION_KINDS:
        plan += found.get(kind, [])[: PER_KIND[kind]]
    return replace(today, actions=tuple(plan[:MOST_ACTIONS]))
