"""The Post page in a real headless Chromium (Playwright, Debian's ``/usr/bin/chromium``),
against ``kompas serve`` in its own process: the check follows the typing (HTMX POSTs of
the draft with the CSRF token), says what ``kompas post check --json`` says, turns a long
draft into a thread, reads in French, and queuing from the page puts the draft in the
queue the CLI lists."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from conftest import MASTODON_ARCHIVE, WEB_AND_LIFE_STRATEGY
from conftest import Kompas as Cli
from test_browser import (  # noqa: F401 (fixtures)
    Browser,
    Server,
    Watched,
    browser,
    serve,
    shot,
    tab,
)


def with_strategy(cli: Cli) -> None:
    strategy = WEB_AND_LIFE_STRATEGY + "domains: [daniel.industries]\n"
    (cli.home / "strategy.yaml").write_text(strategy, encoding="utf-8")


@pytest.fixture(scope="module")
def writer(serve: Callable[..., Server]) -> Server:  # noqa: F811
    return serve(("mastodon-archive", MASTODON_ARCHIVE), setup=with_strategy)


def checked(server: Server, text: str) -> dict[str, object]:
    result = server.cli("post", "check", text, "--json")
    assert result.exit_code == 0, result.output
    found: dict[str, object] = json.loads(result.stdout)
    return found


def test_the_check_follows_the_typing(writer: Server, tab: Watched) -> None:  # noqa: F811
    page = tab.page
    page.set_default_timeout(60_000)
    page.goto(writer.url + "/post")
    assert page.locator("#post-check").get_attribute("data-state") == "empty"
    short = "Moved my blog to a static site generator, and Firefox renders it fine."
    page.locator("#draft").fill(short)
    page.wait_for_selector('#post-check[data-state="checked"]')
    expected = checked(writer, short)["networks"]
    assert isinstance(expected, dict)
    for name in ("mastodon", "bluesky"):
        row = page.locator(f"#fit-{name}")
        assert row.get_attribute("data-length") == str(expected[name]["length"])
        assert row.get_attribute("data-fits") == "true"
    assert page.locator("#post-pillar").get_attribute("data-pillars") == "web"
    long = short + " " + "It keeps going, word after word. " * 12
    page.locator("#draft").fill(long)
    page.wait_for_selector('#fit-bluesky[data-parts="2"]')
    assert page.locator("#parts-bluesky li").count() == 2
    assert page.locator("#fit-mastodon").get_attribute("data-fits") == "true"
    page.locator("#to-mastodon").uncheck()
    page.wait_for_selector("#fit-mastodon", state="detached")
    shot(page, "post-check")
    assert tab.errors == [], tab.errors


def test_french_and_queue_from_the_page(writer: Server, tab: Watched) -> None:  # noqa: F811
    page = tab.page
    page.set_default_timeout(60_000)
    page.goto(writer.url + "/post?lang=fr")
    assert page.locator("h1").inner_text() == "Publier"
    page.locator("#draft").fill("https://poorlydrawnlines.com/comic/save-my-life/")
    page.wait_for_selector('#post-warnings li[data-code="link_without_text"]')
    assert "Ce n’est qu’un lien" in page.locator("#post-warnings").inner_text()
    page.locator("#draft").fill("Une pensée pour plus tard, à envoyer demain matin.")
    page.locator("#queue-at").fill("in 3h")
    page.locator("#queue-button").click()
    page.wait_for_selector("#post-done")
    assert "done=queued" in page.url and "lang=fr" in page.url
    rows = json.loads(writer.cli("post", "list", "--json").stdout)["posts"]
    assert {r["network"] for r in rows} == {"mastodon", "bluesky"}
    for row in rows:
        assert page.locator(f"#queued-{row['id']}").get_attribute("data-state") == "queued"
    page.locator(f"#queued-{rows[0]['id']} .cancel-button").click()
    page.wait_for_selector(f"#queued-{rows[0]['id']}", state="detached")
    left = json.loads(writer.cli("post", "list", "--json").stdout)["posts"]
    assert [r["id"] for r in left] == [rows[1]["id"]]
    assert tab.errors == [], tab.errors
