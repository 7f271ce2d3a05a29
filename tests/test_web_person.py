"""The dashboard's person page in-process (FastAPI's TestClient) on the real Mastodon and X
archives: it shows what ``kompas people show --json`` says, keeps notes, tags and
cadences through POST + CSRF, escapes a note's HTML, and names what it refuses, in English
and French."""

from __future__ import annotations

import html
import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette suggests httpx2; httpx works
    from fastapi.testclient import TestClient

from conftest import MASTODON_ARCHIVE, X_ARCHIVE, Kompas
from kompas.web import create_app
from kompas.web.security import CSRF_COOKIE
from kompas.workspace import Workspace
from samples import x_file

ACCOUNT = "mastodon:@Jaredigital@mastodon.social"
PAGE = "/people/" + ACCOUNT
HOSTILE = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> & [bold]'


@pytest.fixture
def cli(tmp_path: Path) -> Kompas:
    made = Kompas(tmp_path / "home")
    assert made("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    assert made("import", "x-archive", X_ARCHIVE).exit_code == 0
    return made


@pytest.fixture
def browser(cli: Kompas) -> Iterator[TestClient]:
    engine = Workspace.resolve(cli.home).engine
    with TestClient(create_app(engine), base_url="http://127.0.0.1:8765") as client:
        client.get("/people")
        yield client


def _token(client: TestClient) -> str:
    return str(client.cookies[CSRF_COOKIE])


def _show(cli: Kompas) -> dict:  # type: ignore[type-arg]
    return json.loads(cli("people", "show", ACCOUNT, "--json").stdout)  # type: ignore[no-any-return]


def test_the_page_shows_what_people_show_says(cli: Kompas, browser: TestClient) -> None:
    follower = x_file(X_ARCHIVE, "follower")[0]["follower"]["accountId"]
    assert cli("people", "link", ACCOUNT, f"x:{follower}", "--as", "Jared").exit_code == 0
    assert cli("people", "cadence", ACCOUNT, "30d").exit_code == 0
    shown = _show(cli)
    page = browser.get(PAGE)
    assert page.status_code == 200
    text = page.text
    assert f'data-account="{shown["account"]}"' in text
    assert re.search(r'id="person-name">Jared<', text)
    for account in shown["accounts"]:
        assert f'data-account="{account["account"]}"' in text
    assert f'data-value="{shown["last_exchange"]}"' in text
    given = re.findall(r'data-post="([^"]*)"', text.split('id="exchanges-given"')[1])
    assert given[: len(shown["exchanges"]["given"])] == [
        e["post"] for e in shown["exchanges"]["given"]
    ]
    # The archive holds the user's side only: what they said is unknown, not "nothing".
    assert 'id="exchanges-received-unknown" data-value="unknown"' in text
    assert 'id="cadence-state" data-value="due"' in text
    assert shown["cadence"]["due_at"][:10] in text
    verdict = shown["research"]["verdict"]
    assert f'id="research-verdict" data-value="{verdict}"' in text
    # The research result and the linked list lead to the person page.
    research = browser.get("/people?account=" + ACCOUNT).text
    assert 'href="/people/mastodon:Jaredigital@mastodon.social" id="person-link"' in research
    assert browser.get("/people/mastodon:Jaredigital@mastodon.social").status_code == 200
    assert f'href="/people/x:{follower}"' in browser.get("/people").text


def test_notes_tags_cadence_through_post_and_csrf(cli: Kompas, browser: TestClient) -> None:
    token = _token(browser)
    form = {"account": ACCOUNT, "text": HOSTILE}
    assert browser.post("/people/note", data=form).status_code == 403
    assert browser.post("/people/note", data={**form, "csrf_token": "forged"}).status_code == 403
    assert _show(cli)["notes"] == []
    done = browser.post("/people/note", data={**form, "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == PAGE + "?done=kept"
    assert [n["text"] for n in _show(cli)["notes"]] == [HOSTILE]
    page = browser.get(done.headers["location"]).text
    # Plain text, escaped: no tag of the note reaches the page.
    assert "<script>window.__xss" not in page and "<img src=x" not in page
    assert (
        "&lt;script&gt;window.__xss=1&lt;/script&gt;&lt;img src=x "
        "onerror=&#34;window.__xss=2&#34;&gt; &amp; [bold]"
    ) in page
    note_id = _show(cli)["notes"][0]["id"]

    for tag in ("Friend", "music"):
        sent = {"account": ACCOUNT, "tag": tag, "csrf_token": token}
        assert browser.post("/people/tag", data=sent, follow_redirects=False).status_code == 303
    assert _show(cli)["tags"] == ["friend", "music"]
    removed = {"account": ACCOUNT, "tag": "friend", "remove": "1", "csrf_token": token}
    assert browser.post("/people/tag", data=removed, follow_redirects=False).status_code == 303
    assert _show(cli)["tags"] == ["music"]

    every = {"account": ACCOUNT, "every": "2w", "csrf_token": token}
    assert browser.post("/people/cadence", data=every, follow_redirects=False).status_code == 303
    assert _show(cli)["cadence"]["cadence_days"] == 14
    off = {**every, "every": "off"}
    assert browser.post("/people/cadence", data=off, follow_redirects=False).status_code == 303
    assert _show(cli)["cadence"] is None

    # HTMX sends the token as a header.
    gone = browser.post(
        "/people/note",
        data={"account": ACCOUNT, "remove": str(note_id)},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert gone.status_code == 204 and gone.headers["hx-redirect"] == PAGE + "?done=kept"
    assert _show(cli)["notes"] == []


def test_refusals_are_named_in_english_and_french(cli: Kompas, browser: TestClient) -> None:
    token = _token(browser)
    cases = [
        (
            "/people/tag",
            {"tag": "two words"},
            "'two words' is not a tag",
            "n’est pas une étiquette",
        ),
        (
            "/people/cadence",
            {"every": "monthly"},
            "'monthly' is not a cadence",
            "n’est pas un rythme",
        ),
        ("/people/note", {"text": "   "}, "the note is empty", "la note est vide"),
        ("/people/note", {"remove": "77"}, "no note 77 on", "aucune note 77 sur"),
    ]
    for path, fields, english, french in cases:
        for lang, said in (("en", english), ("fr", french)):
            refused = browser.post(
                f"{path}?lang={lang}", data={"account": ACCOUNT, **fields, "csrf_token": token}
            )
            assert refused.status_code == 400, (path, fields)
            assert said in html.unescape(refused.text), (path, lang)
    unknown = browser.post(
        "/people/note",
        data={"account": "mastodon:@nobody@nowhere.example", "text": "hi", "csrf_token": token},
    )
    assert unknown.status_code == 404 and "@nobody@nowhere.example" in html.unescape(unknown.text)
    shown = _show(cli)
    assert (shown["notes"], shown["tags"], shown["cadence"]) == ([], [], None)
    missing = browser.get("/people/mastodon:@nobody@nowhere.example")
    assert missing.status_code == 404
    assert "no mastodon account '@nobody@nowhere.example'" in html.unescape(missing.text)
    french = browser.get("/people/myspace:tom?lang=fr")
    assert french.status_code == 404 and "PLATEFORME:COMPTE" in html.unescape(french.text)
    # The other pages under /people stay theirs.
    assert browser.get("/people/link").status_code == 405
