"""The person page end to end, in a real headless Chromium driven by Playwright against
``kompas serve`` on the Mastodon and X samples (fixtures of ``test_browser``): reached
from a research result, a note, a tag and a cadence kept through its forms (POST + CSRF),
a hostile note shown as text and never run, French, and a 390 px phone."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from conftest import MASTODON_ARCHIVE, X_ARCHIVE
from test_browser import PHONE, Server, Watched, browser, serve, shot, tab  # noqa: F401

ACCOUNT = "mastodon:@Jaredigital@mastodon.social"
HOSTILE = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> met at XOXO'


@pytest.fixture(scope="module")
def kept(serve: Callable[..., Server]) -> Server:  # noqa: F811
    return serve(("mastodon-archive", MASTODON_ARCHIVE), ("x-archive", X_ARCHIVE))


def _show(server: Server) -> dict:  # type: ignore[type-arg]
    return json.loads(server.cli("people", "show", ACCOUNT, "--json").stdout)  # type: ignore[no-any-return]


def test_keeping_a_person_from_the_page(kept: Server, tab: Watched) -> None:  # noqa: F811
    page = tab.page
    page.goto(kept.url + "/people")
    page.fill("#account", ACCOUNT)
    page.click("#research-button")  # over HTMX
    page.wait_for_selector("#person-link")
    page.click("#person-link")
    page.wait_for_selector("#person")
    shown = _show(kept)
    assert page.locator("#person").get_attribute("data-account") == shown["account"]
    assert (
        page.locator("#research-verdict").get_attribute("data-value")
        == (shown["research"]["verdict"])
    )
    assert page.locator("#last-exchange").get_attribute("data-value") == shown["last_exchange"]
    assert page.locator("#exchanges-given li").count() == len(shown["exchanges"]["given"])

    page.fill("#note-text", HOSTILE)
    page.click("#note-button")
    page.wait_for_selector("#notes li")
    assert page.locator("#notes li p.note").inner_text() == HOSTILE  # as text
    assert page.evaluate("window.__xss") is None
    assert [n["text"] for n in _show(kept)["notes"]] == [HOSTILE]

    page.fill("#tag", "Friend")
    page.click("#tag-button")
    page.wait_for_selector('[data-tag="friend"]')
    page.fill("#every", "30d")
    page.click("#cadence-button")
    page.wait_for_selector('#cadence-state[data-value="due"]')  # the sample ends in 2024
    shown = _show(kept)
    assert shown["tags"] == ["friend"] and shown["cadence"]["cadence_days"] == 30
    shot(page, "person")

    page.fill("#tag", "two words")
    page.click("#tag-button")
    page.wait_for_selector("#person-problem")
    assert "'two words' is not a tag" in page.locator("#person-problem").inner_text()

    page.goto(kept.url + "/people/" + ACCOUNT + "?lang=fr")
    assert page.locator("#person-tags h3").inner_text() == "Étiquettes"
    assert page.locator("#notes li p.note").inner_text() == HOSTILE
    page.click(f"#remove-note-{shown['notes'][0]['id']}")
    page.wait_for_selector("#no-notes")
    assert page.locator("html").get_attribute("lang") == "fr"  # the language is kept
    assert _show(kept)["notes"] == []
    assert page.evaluate("window.__xss") is None
    assert tab.dialogs == []
    # The refused tag answered 400 on purpose; nothing else may have failed.
    assert [e for e in tab.errors if "400 (Bad Request)" not in e] == []


def test_the_person_page_fits_a_phone(kept: Server, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    context = browser.new_context(viewport=PHONE, locale="en-GB", is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    for lang in ("en", "fr"):
        page.goto(f"{kept.url}/people/{ACCOUNT}?lang={lang}")
        page.wait_for_selector("#person")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], lang
        shot(page, f"phone-{lang}-person")
    context.close()
