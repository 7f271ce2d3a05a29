"""The Inbox page and Today's actions in a real headless Chromium (Playwright, Debian's
``/usr/bin/chromium``), against ``kompas serve`` in its own process: an item waiting is
shown, Done is a POST with the CSRF token that takes it out (the CLI agrees), Undo brings it
back, Today's actions on the Overview propose the reply, French reads French, and the page
fits a 390 px phone."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from conftest import WEB_AND_LIFE_STRATEGY
from conftest import Kompas as Cli
from kompas.store.writer import write_import
from kompas.workspace import Workspace
from test_browser import (  # noqa: F401 (fixtures)
    PHONE,
    Browser,
    Server,
    Watched,
    browser,
    serve,
    shot,
    tab,
)
from test_today_plan import plan_records


def constructed(cli: Cli) -> None:
    """A store where bo waits for an answer (see tests/test_today_plan.py)."""
    engine = Workspace.resolve(cli.home).engine
    write_import(engine, plan_records(), source="test", path="built")
    engine.dispose()
    (cli.home / "strategy.yaml").write_text(WEB_AND_LIFE_STRATEGY, encoding="utf-8")


@pytest.fixture(scope="module")
def waiting(serve: Callable[..., Server]) -> Server:  # noqa: F811
    return serve(setup=constructed)


def open_items(server: Server) -> list[str]:
    result = server.cli("inbox", "--json")
    return [str(i["id"]) for i in json.loads(result.stdout)["items"]]


def test_done_and_undo_from_the_inbox_page(waiting: Server, tab: Watched) -> None:  # noqa: F811
    page = tab.page
    (item,) = open_items(waiting)
    page.goto(waiting.url + "/inbox")
    row = page.locator(f"#item-{item}")
    assert "Where did you walk?" in row.inner_text()
    assert "first contact" in row.inner_text()
    shot(page, "inbox")
    row.locator("button.mark-done").click()
    page.wait_for_selector(f"#item-{item}", state="detached")
    assert "done=done" in page.url
    assert open_items(waiting) == []
    page.goto(waiting.url + "/inbox?all=true")
    marked = page.locator(f"#item-{item}")
    assert marked.get_attribute("data-state") == "done"
    marked.locator("button.mark-undo").click()
    page.wait_for_selector(f'#item-{item}[data-state="open"]')
    assert open_items(waiting) == [item]
    assert tab.errors == []


def test_todays_actions_on_the_overview(waiting: Server, tab: Watched) -> None:  # noqa: F811
    page = tab.page
    page.goto(waiting.url + "/")
    page.wait_for_selector('#today[data-state="ready"]', timeout=60_000)
    reply = page.locator('#today .action[data-kind="reply"]')
    assert reply.count() == 1
    assert reply.get_attribute("data-post") == "bo-1"
    assert "Reply to bo@example.social" in reply.inner_text()
    kinds = page.eval_on_selector_all("#today .action", "els => els.map(e => e.dataset.kind)")
    actions = json.loads(waiting.cli("today", "--json").stdout)["actions"]
    assert kinds == [a["kind"] for a in actions]
    shot(page, "overview-today")
    page.goto(waiting.url + "/?lang=fr")
    page.wait_for_selector('#today[data-state="ready"]', timeout=60_000)
    assert "Répondez à bo@example.social" in page.locator("#today").inner_text()
    page.goto(waiting.url + "/inbox?lang=fr")
    assert page.locator("h1").inner_text() == "Boîte de réception"
    assert page.locator("button.mark-snooze").first.inner_text() == "Reporter"
    assert tab.errors == []


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_inbox_fits_a_390_px_phone(
    waiting: Server,
    browser: Browser,  # noqa: F811
    lang: str,
) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-GB", is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{waiting.url}/inbox?all=true&lang={lang}")
    assert page.locator(".inbox-item").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, f"phone-{lang}-inbox-items")
    context.close()
