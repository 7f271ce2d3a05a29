"""The Inbox page and Today's actions on the Overview, in-process (FastAPI's TestClient):
the items and figures are ``kompas inbox --json``'s, done/snooze/ignore/undo are POSTs that
need the CSRF token and change what the CLI sees, a bad id is shown on the page (400), and
both read in French."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import WEB_AND_LIFE_STRATEGY, Kompas
from kompas.store.writer import write_import
from kompas.web.app import create_app
from kompas.web.security import CSRF_COOKIE
from kompas.workspace import Workspace
from test_today_plan import plan_records


@pytest.fixture
def cli(tmp_path: Path) -> Kompas:
    home = tmp_path / "home"
    write_import(Workspace.resolve(home).engine, plan_records(), source="test", path="built")
    (home / "strategy.yaml").write_text(WEB_AND_LIFE_STRATEGY)
    return Kompas(home)


@pytest.fixture
def browser(cli: Kompas) -> Iterator[TestClient]:
    workspace = Workspace.resolve(cli.home)
    app = create_app(workspace.engine, home=workspace.home)
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        yield client


def items(cli: Kompas, *flags: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = json.loads(cli("inbox", "--json", *flags).stdout)["items"]
    return found


def test_the_inbox_page_lists_the_cli_items(cli: Kompas, browser: TestClient) -> None:
    page = browser.get("/inbox")
    assert page.status_code == 200
    (item,) = items(cli)
    assert f'id="item-{item["id"]}"' in page.text
    assert 'data-kind="reply"' in page.text and "Where did you walk?" in page.text
    assert "@bo@example.social" in page.text
    assert 'data-open="1" data-addressed="1" data-unanswered="1"' in page.text
    assert "Your post:" in page.text and "A long walk with the family" in page.text
    french = browser.get("/inbox?lang=fr")
    assert "Boîte de réception" in french.text and "Reporter" in french.text


def test_marking_needs_csrf_then_changes_what_the_cli_sees(
    cli: Kompas, browser: TestClient
) -> None:
    browser.get("/inbox")
    token = browser.cookies[CSRF_COOKIE]
    (item,) = items(cli)
    form = {"item": str(item["id"]), "action": "snooze", "duration": "3d"}
    assert browser.post("/inbox/mark", data=form).status_code == 403
    assert browser.post("/inbox/mark", data={**form, "csrf_token": "forged"}).status_code == 403
    assert items(cli) == [item]
    done = browser.post("/inbox/mark", data={**form, "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert items(cli) == []
    (snoozed,) = items(cli, "--all")
    assert snoozed["state"] == "snoozed" and snoozed["until"]
    page = browser.get("/inbox?all=true")
    assert 'data-state="snoozed"' in page.text and 'value="undo"' in page.text
    undo = {"item": str(item["id"]), "action": "undo", "csrf_token": token}
    assert browser.post("/inbox/mark", data=undo, follow_redirects=False).status_code == 303
    assert [i["id"] for i in items(cli)] == [item["id"]]
    # HTMX sends the token as a header.
    hx = browser.post(
        "/inbox/mark",
        data={"item": str(item["id"]), "action": "done"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert hx.status_code == 204 and hx.headers["HX-Redirect"].startswith("/inbox")
    assert items(cli) == []


def test_an_unknown_item_is_named_on_the_page(browser: TestClient) -> None:
    browser.get("/inbox")
    token = browser.cookies[CSRF_COOKIE]
    bad = browser.post(
        "/inbox/mark", data={"item": "nosuchitem", "action": "done", "csrf_token": token}
    )
    assert bad.status_code == 400
    assert "nosuchitem" in bad.text and 'id="inbox-problem"' in bad.text


def test_todays_actions_on_the_overview_are_todays(cli: Kompas, browser: TestClient) -> None:
    overview = browser.get("/")
    assert 'hx-get="/fragments/today"' in overview.text
    fragment = browser.get("/fragments/today")
    assert fragment.status_code == 200
    actions = json.loads(cli("today", "--json").stdout)["actions"]
    kinds = [a["kind"] for a in actions]
    assert [k for k in kinds if f'data-kind="{k}"' in fragment.text] == kinds
    assert "Where did you walk?" in fragment.text
    assert 'data-post="bo-1"' in fragment.text
    french = browser.get("/fragments/today?lang=fr")
    assert "À faire aujourd’hui" in french.text and "Répondez à" in french.text
