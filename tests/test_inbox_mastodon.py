"""``kompas inbox`` on a recorded Mastodon instance (127.0.0.1, the real Mastodon.py
client): mentions and replies from ``/api/v1/notifications`` appear; the user's answer,
seen in a later page of her statuses, takes its item out; done, snooze, ignore and undo are
stored locally; ``today --json`` proposes the reply; the community figures agree with the
list.

Expected values come from the fake instance's own entities, never from kompas's output.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import WEB_AND_LIFE_STRATEGY, Kompas
from sync_support import T0, MastodonFake, m_status
from test_sync_mastodon import connected, fake, server

__all__ = ["fake", "server"]  # the recorded Mastodon instance, shared with the sync tests


def mentions(fake: MastodonFake) -> dict[str, dict[str, Any]]:
    """The statuses of the fake's mention notifications, by URI."""
    return {
        n["status"]["uri"]: n["status"]
        for _, n in fake.notifications.items
        if n["type"] == "mention"
    }


def inbox(kompas: Kompas, *flags: str) -> list[dict[str, Any]]:
    result = kompas("inbox", "--json", *flags)
    assert result.exit_code == 0, result.output
    items: list[dict[str, Any]] = json.loads(result.stdout)["items"]
    return items


def answer(fake: MastodonFake, status: dict[str, Any], number: int) -> dict[str, Any]:
    """Ada answers ``status``, an hour after it, as her newest status."""
    created = T0 + _offset(status) + timedelta(hours=1)
    sid = 100100 + number
    reply = m_status(sid, fake.me, f"Thanks! ({number})", created=created, reply_to=status)
    fake.statuses.items.append((sid, reply))
    fake.known_statuses[reply["id"]] = reply
    return reply


@pytest.fixture
def synced(fake: MastodonFake, tmp_path: Path) -> Kompas:
    connected(tmp_path / "home", fake)
    kompas = Kompas(tmp_path / "home")
    result = kompas("sync", "mastodon")
    assert result.exit_code == 0, result.output
    return kompas


def test_mentions_appear_with_their_context_then_leave_when_answered(
    fake: MastodonFake, synced: Kompas
) -> None:
    waiting = mentions(fake)
    assert len(waiting) == 6  # n = 0, 5, 10, 15, 20, 25; the even ones reply to Ada
    items = inbox(synced)
    assert {i["post"] for i in items} == set(waiting)
    for item in items:
        status = waiting[item["post"]]
        assert item["platform"] == "mastodon"
        assert item["account"] == "mastodon:" + status["account"]["uri"]
        assert item["handle"] == status["account"]["acct"] + (
            "" if "@" in status["account"]["acct"] else f"@{fake.host}"
        )
        assert item["text"] == re.sub("<[^>]+>", "", status["content"])
        assert item["kind"] == ("reply" if status["in_reply_to_id"] else "mention")
        assert item["at"].startswith(status["created_at"][:19])
        if status["in_reply_to_id"]:
            mine = fake.known_statuses[status["in_reply_to_id"]]
            assert item["thread"]["post"] == mine["uri"]
            assert item["thread"]["text"] == re.sub("<[^>]+>", "", mine["content"])
        else:
            assert item["thread"] is None
        # Each account wrote to Ada once, and Ada never to them: first contact, one-way.
        assert item["relationship"]["first_contact"] is True
        assert item["relationship"]["way"] == "one-way"
        assert item["automated"] is False
    # Newest first (no question, no rules, equal strength).
    assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True)

    # Ada answers the newest mention; the answer comes in a later page of her statuses.
    newest = max(waiting.values(), key=lambda s: s["created_at"])
    answer(fake, newest, 1)
    assert synced("sync", "mastodon").exit_code == 0
    left = inbox(synced)
    assert {i["post"] for i in left} == set(waiting) - {newest["uri"]}
    everything = {i["post"]: i for i in inbox(synced, "--all")}
    assert everything[newest["uri"]]["state"] == "answered"
    assert everything[newest["uri"]]["answered_at"] is not None

    # The community figures come from the same rows: 1 answered in 60 minutes, 5 of 6 left.
    community = json.loads(synced("community", "--all", "--json").stdout)
    assert community["unanswered_share"]["mastodon"] == pytest.approx(5 / 6)
    assert community["median_reply_minutes"]["mastodon"] == pytest.approx(60)


def _offset(status: dict[str, Any]) -> timedelta:
    from datetime import datetime

    return datetime.fromisoformat(status["created_at"].replace("Z", "+00:00")) - T0


def test_done_snooze_ignore_and_undo_are_kept_locally(fake: MastodonFake, synced: Kompas) -> None:
    items = inbox(synced)
    first, second, third = (i["id"] for i in items[:3])
    assert synced("inbox", "done", first).exit_code == 0
    assert synced("inbox", "ignore", second).exit_code == 0
    snoozed = synced("inbox", "snooze", third, "3d")
    assert snoozed.exit_code == 0 and "until" in snoozed.stdout
    assert {i["id"] for i in inbox(synced)} == {i["id"] for i in items} - {first, second, third}
    states = {i["id"]: i["state"] for i in inbox(synced, "--all")}
    assert (states[first], states[second], states[third]) == ("done", "ignored", "snoozed")
    # A later sync (new statuses, new notifications) keeps the marks.
    fake.add_statuses(3, start=25)
    assert synced("sync", "mastodon").exit_code == 0
    assert {i["id"] for i in inbox(synced)} == {i["id"] for i in items} - {first, second, third}
    assert synced("inbox", "undo", second).exit_code == 0
    assert second in {i["id"] for i in inbox(synced)}


def test_a_failed_sync_leaves_inbox_states_as_they_were(
    fake: MastodonFake, synced: Kompas, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = inbox(synced)
    assert synced("inbox", "done", items[0]["id"]).exit_code == 0
    before = inbox(synced, "--all")
    # Ada answers another item, but the sync dies on the page that holds the answer.
    answer(fake, mentions(fake)[items[1]["post"]], 2)
    fake.faults.add("/api/v1/accounts/1/statuses", *["503"] * 10)
    monkeypatch.setenv("KOMPAS_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("KOMPAS_RETRY_BASE", "0.01")
    assert synced("sync", "mastodon").exit_code == 3
    assert inbox(synced, "--all") == before


def test_unknown_ids_and_durations_are_named(synced: Kompas) -> None:
    for command in (("done", "nosuchitem"), ("ignore", "nosuchitem"), ("undo", "nosuchitem")):
        result = synced("inbox", *command)
        assert result.exit_code == 1
        assert "'nosuchitem'" in result.stderr
    result = synced("inbox", "snooze", "nosuchitem", "3d")
    assert result.exit_code == 1 and "'nosuchitem'" in result.stderr
    item = inbox(synced)[0]["id"]
    result = synced("inbox", "snooze", item, "soon")
    assert result.exit_code == 2 and "'soon'" in result.stderr
    result = synced("inbox", "--platform", "x")
    assert result.exit_code == 2 and "'x'" in result.stderr


def test_rules_tag_questions_first(synced: Kompas, fake: MastodonFake) -> None:
    waiting = mentions(fake)
    oldest = min(waiting.values(), key=lambda s: s["created_at"])
    (synced.home / "rules.yaml").write_text(
        "rules:\n"
        "  - name: asked\n"
        f"    when: {{text_contains: 'reply {oldest['content'].split()[-1][:-4]}'}}\n"
        "    then: {tag: question, route: notify}\n"
    )
    items = inbox(synced)
    assert items[0]["post"] == oldest["uri"]
    assert items[0]["tags"] == ["question"] and items[0]["routes"] == ["notify"]
    assert all("question" not in i["tags"] for i in items[1:])


def test_a_quote_is_an_item_until_answered(fake: MastodonFake, tmp_path: Path) -> None:
    """A ``quote`` notification (Mastodon 4.5: the quoting status, its ``quote`` holding
    Ada's status) is an item whose thread is Ada's post; her reply takes it out."""
    mine = next(s for _, s in fake.statuses.items if not s["reblog"])
    quoter = fake.others[150]
    quoting = m_status(81000, quoter, "So true, and here is why", created=T0 + timedelta(days=6))
    quoting["quote"] = {"state": "accepted", "quoted_status": mine}
    fake.known_statuses[quoting["id"]] = quoting
    fake.notifications.items.append(
        (
            71000,
            {
                "id": "71000",
                "type": "quote",
                "created_at": quoting["created_at"],
                "account": quoter,
                "group_key": "ungrouped-71000",
                "status": quoting,
            },
        )
    )
    connected(tmp_path / "home", fake)
    kompas = Kompas(tmp_path / "home")
    assert kompas("sync", "mastodon").exit_code == 0
    items = {i["post"]: i for i in inbox(kompas)}
    item = items[quoting["uri"]]
    assert item["kind"] == "quote"
    assert item["text"] == "So true, and here is why"
    assert item["thread"]["post"] == mine["uri"]
    answer(fake, quoting, 3)
    assert kompas("sync", "mastodon").exit_code == 0
    assert quoting["uri"] not in {i["post"] for i in inbox(kompas)}


def test_today_proposes_the_reply(synced: Kompas, fake: MastodonFake) -> None:
    (synced.home / "strategy.yaml").write_text(WEB_AND_LIFE_STRATEGY)
    top = inbox(synced)[0]
    result = synced("today", "--json")
    assert result.exit_code == 0, result.output
    actions = json.loads(result.stdout)["actions"]
    assert 1 <= len(actions) <= 7
    replies = [a for a in actions if a["kind"] == "reply"]
    assert replies and replies[0]["post"] == top["post"]
    assert replies[0]["person"] == top["handle"]
    assert replies[0]["why"]
    for action in actions:
        assert set(action) >= {"kind", "text", "person", "post", "why"}
