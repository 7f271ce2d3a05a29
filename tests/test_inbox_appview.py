"""``kompas inbox`` on the real local Bluesky network with an AppView
(``tests/appview/start_network.sh``): another account's reply and mention reach the user
through ``app.bsky.notification.listNotifications``, ``sync`` + ``inbox`` list them, and the
user's own answer (read from her repository at the next sync) takes its item out;
``today --json`` proposes the reply that is left.

Expected values come from what the test accounts wrote, never from kompas's output.
Collected only when ``KOMPAS_TEST_APPVIEW_PDS_URL`` names the network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from atproto import client_utils

from bluesky_network import PDS_URL, Account, connect, eventually
from conftest import WEB_AND_LIFE_STRATEGY, Kompas


def inbox(kompas: Kompas) -> dict[str, dict[str, Any]]:
    result = kompas("inbox", "--json", "--platform", "bluesky")
    assert result.exit_code == 0, result.output
    return {i["post"]: i for i in json.loads(result.stdout)["items"]}


if PDS_URL:

    def test_a_reply_and_a_mention_wait_until_answered(tmp_path: Path) -> None:
        alice, bob, carol = Account("alice"), Account("bob"), Account("carol")
        root = alice.client.send_post("Which SQLite book would you recommend?")
        alice.indexed(root.uri)
        ref = {"uri": root.uri, "cid": root.cid}
        answer = bob.client.send_post("The Definitive Guide", reply_to={"root": ref, "parent": ref})
        mention = carol.client.send_post(
            client_utils.TextBuilder().text("Ask ").mention(f"@{alice.handle}", alice.did)
        )
        eventually(
            lambda: alice.client.app.bsky.notification.list_notifications().notifications,
            lambda found: {n.uri for n in found} >= {answer.uri, mention.uri},
        )

        kompas = Kompas(tmp_path / "home")
        connect(kompas, alice)
        assert kompas("sync", "bluesky").exit_code == 0
        items = inbox(kompas)
        assert set(items) == {answer.uri, mention.uri}
        reply = items[answer.uri]
        assert reply["kind"] == "reply"
        assert reply["account"] == f"bluesky:{bob.did}"
        assert reply["handle"] == bob.handle
        assert reply["text"] == "The Definitive Guide"
        assert reply["thread"]["post"] == root.uri
        assert reply["thread"]["text"] == "Which SQLite book would you recommend?"
        assert reply["relationship"]["first_contact"] is True
        assert items[mention.uri]["kind"] == "mention"
        assert items[mention.uri]["handle"] == carol.handle
        assert items[mention.uri]["text"] == f"Ask @{alice.handle}"

        # Alice answers Bob; the next sync reads her reply from her repository.
        bob_ref = {"uri": answer.uri, "cid": answer.cid}
        alice.client.send_post("Thank you, Bob!", reply_to={"root": ref, "parent": bob_ref})
        assert kompas("sync", "bluesky").exit_code == 0
        assert set(inbox(kompas)) == {mention.uri}

        (kompas.home / "strategy.yaml").write_text(WEB_AND_LIFE_STRATEGY)
        today = kompas("today", "--json")
        assert today.exit_code == 0, today.output
        replies = [a for a in json.loads(today.stdout)["actions"] if a["kind"] == "reply"]
        assert [(a["person"], a["post"]) for a in replies] == [(carol.handle, mention.uri)]
