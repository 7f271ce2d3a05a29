"""An inbox built from exports alone is "no data", never "nobody wrote to you": exports
hold what the user did, not what others sent. ``today`` says why it proposes nothing."""

from __future__ import annotations

import json

from conftest import BLUESKY_CAR, MASTODON_ARCHIVE, X_ARCHIVE, Kompas
from samples import mastodon_file


def test_exports_alone_give_no_data(kompas: Kompas) -> None:
    assert kompas("import", "x-archive", X_ARCHIVE).exit_code == 0
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    # The archive's outbox holds only the user's own activities: nothing addressed to them.
    actor = mastodon_file(MASTODON_ARCHIVE, "actor.json")["id"]
    outbox = mastodon_file(MASTODON_ARCHIVE, "outbox.json")["orderedItems"]
    assert all(item["actor"] == actor for item in outbox)
    for flags in ((), ("--all",)):
        result = kompas("inbox", "--json", *flags)
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["items"] == [] and data["addressed"] == 0
        assert data["ever_addressed"] is False
        assert data["unanswered_share"] is None and data["median_reply_minutes"] is None
        screen = kompas("inbox", *flags)
        assert "No data: nothing addressed to you is in the store" in screen.stdout
        assert "kompas sync mastodon" in screen.stdout
        assert "Nothing was addressed to you" not in screen.stdout


def test_today_says_why_it_proposes_nothing(kompas: Kompas) -> None:
    """The Bluesky sample's last day: every pillar served, nobody waiting, no feeds."""
    assert kompas("import", "bluesky-car", BLUESKY_CAR).exit_code == 0
    assert kompas("strategy", "init").exit_code == 0
    assert json.loads(kompas("today", "--json").stdout)["actions"] == []
    screen = " ".join(kompas("today").stdout.split())
    assert "No action to propose: nobody waits for an answer in your inbox" in screen
    assert "`kompas feeds pull`" in screen


def test_an_empty_workspace_says_import_first(kompas: Kompas) -> None:
    screen = kompas("inbox")
    assert screen.exit_code == 0, screen.output
    assert screen.stdout.strip() == (
        "No account of yours in the store yet: import an export or `kompas sync`."
    )


def test_the_pages_say_no_data_too(kompas: Kompas) -> None:
    """The Inbox page shows no "0 of 0 unanswered" from exports alone; the Overview's
    Today says why it proposes nothing instead of "nobody waits"."""
    from fastapi.testclient import TestClient

    from kompas.web.app import create_app
    from kompas.workspace import Workspace

    assert kompas("import", "bluesky-car", BLUESKY_CAR).exit_code == 0
    assert kompas("strategy", "init").exit_code == 0
    workspace = Workspace.resolve(kompas.home)
    app = create_app(workspace.engine, home=workspace.home)
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        page = client.get("/inbox").text
        assert "No data: nothing addressed to you is in the store" in page
        assert 'id="inbox-figures"' not in page
        today = client.get("/fragments/today").text
        assert "No action to propose from your data" in today
        assert "nobody waits" not in today
