"""The Post page, in-process (FastAPI's TestClient) on the real Mastodon archive: its live
check is ``kompas post check --json``'s, every POST needs the CSRF token, a draft and what
platforms answer are escaped, Send confirms first and then posts once per key (to a
recorded Mastodon instance on 127.0.0.1), the queue takes a "queue at" time and cancels,
and the page reads in French."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import MASTODON_ARCHIVE, WEB_AND_LIFE_STRATEGY, Kompas
from kompas.store import schema
from kompas.web.app import create_app
from kompas.web.security import CSRF_COOKIE
from kompas.workspace import Workspace
from sync_support import MastodonFake, mastodon_instance
from test_post_mastodon import writable

SITE = "daniel.industries"
STRATEGY = (
    WEB_AND_LIFE_STRATEGY
    + f"""goals:
  - name: Less shouting
    key_results:
      - community.self_promotion per month <= 8
mix:
  broadcast: 20%
domains: [{SITE}]
"""
)
HX = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Kompas:
    kompas = Kompas(tmp_path_factory.mktemp("post") / "home")
    assert kompas("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
    (kompas.home / "strategy.yaml").write_text(STRATEGY, encoding="utf-8")
    return kompas


def client_of(home: Path) -> Iterator[TestClient]:
    workspace = Workspace.resolve(home)
    app = create_app(workspace.engine, home=workspace.home)
    with TestClient(app, base_url="http://127.0.0.1:8765") as client:
        client.get("/post")  # the CSRF cookie
        yield client


@pytest.fixture
def browser(cli: Kompas) -> Iterator[TestClient]:
    yield from client_of(cli.home)


def token(client: TestClient) -> str:
    return str(client.cookies[CSRF_COOKIE])


def cli_check(cli: Kompas, text: str, *flags: str) -> dict[str, Any]:
    result = cli("post", "check", text, "--json", *flags)
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def attribute(html: str, element: str, name: str) -> str:
    match = re.search(rf'id="{element}"[^>]*\b{name}="([^"]*)"', html)
    assert match, (element, name)
    return match.group(1)


def test_the_page_has_the_draft_box_and_the_empty_queue(browser: TestClient) -> None:
    page = browser.get("/post")
    assert page.status_code == 200
    assert 'id="nav-post"' in page.text and 'aria-current="page"' in page.text
    assert 'hx-post="/post/check" hx-trigger="input delay:400ms from:#draft-form' in page.text
    assert 'name="csrf_token"' in page.text
    assert 'id="queue-empty"' in page.text
    assert 'data-state="empty"' in page.text
    french = browser.get("/post?lang=fr")
    assert "<h1>Publier</h1>" in french.text and "Programmer à" in french.text


def test_the_live_check_is_the_clis(cli: Kompas, browser: TestClient) -> None:
    text = f"New on the blog: my ride https://www.{SITE}/2024/07/22/ride/ " + "and more. " * 30
    expected = cli_check(cli, text)
    form = {"text": text, "to": ["mastodon", "bluesky"]}
    assert browser.post("/post/check", data=form, headers=HX).status_code == 403
    fragment = browser.post(
        "/post/check", data=form, headers={**HX, "X-CSRF-Token": token(browser)}
    )
    assert fragment.status_code == 200
    html = fragment.text
    assert html.lstrip().startswith('<section id="post-check"') and "<html" not in html
    for name, fit in expected["networks"].items():
        row = re.search(rf'<tr id="fit-{name}"[^>]*>', html)
        assert row, name
        assert f'data-length="{fit["length"]}"' in row.group(0)
        assert f'data-limit="{fit["limit"]}"' in row.group(0)
        assert f'data-fits="{str(fit["fits"]).lower()}"' in row.group(0)
        assert f'data-parts="{len(fit["parts"])}"' in row.group(0)
    assert expected["networks"]["bluesky"]["fits"] is False
    assert html.count('<li translate="no">') == len(expected["networks"]["bluesky"]["parts"])
    assert attribute(html, "post-pillar", "data-status") == expected["pillar"]["status"]
    (effect,) = [e for e in expected["mix"]["effects"] if e["what"] == "community.self_promotion"]
    assert f'data-before="{effect["before"]}" data-after="{effect["after"]}"' in html
    assert "your plan allows 8." in html
    # Without HTMX the same form gives the whole page, the check in it.
    page = browser.post("/post/check", data={**form, "csrf_token": token(browser)})
    assert page.status_code == 200 and "<html" in page.text and 'data-state="checked"' in page.text
    assert 'id="fit-bluesky"' in page.text


def test_the_check_reads_in_french_and_warns(browser: TestClient) -> None:
    form = {"text": "https://poorlydrawnlines.com/comic/save-my-life/", "to": ["bluesky"]}
    html = browser.post(
        "/post/check?lang=fr", data=form, headers={**HX, "X-CSRF-Token": token(browser)}
    ).text
    assert 'data-code="link_without_text"' in html
    assert "Ce n’est qu’un lien" in html and "graphèmes" in html
    assert 'id="fit-mastodon"' not in html  # only the networks ticked
    none = browser.post(
        "/post/check", data={"text": "hello"}, headers={**HX, "X-CSRF-Token": token(browser)}
    )
    assert "Tick at least one network" in none.text


def test_drafts_and_replies_are_escaped(browser: TestClient) -> None:
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    form = {"text": evil + " word" * 80, "to": ["bluesky"], "reply_to": '"><script>x</script>'}
    page = browser.post("/post/check", data={**form, "csrf_token": token(browser)})
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert '"><script>x' not in page.text
    linked = browser.get("/post", params={"reply_to": '"><b>bold</b>', "text": "<i>hi</i>"})
    assert "<b>bold</b>" not in linked.text and "<i>hi</i>" not in linked.text


def test_send_confirms_first_and_refuses_without_a_connection(browser: TestClient) -> None:
    form = {"text": "Moved my blog to a static site.", "to": ["mastodon"]}
    assert browser.post("/post/confirm", data=form).status_code == 403
    confirm = browser.post("/post/confirm", data={**form, "csrf_token": token(browser)})
    assert confirm.status_code == 200
    assert attribute(confirm.text, "confirm-form", "action") == "/post/send"
    key = re.search(r'name="key" value="(kompas-web-[0-9a-f]{32})"', confirm.text)
    assert key
    assert 'data-state="checked"' in confirm.text and 'id="send-now"' in confirm.text
    sent = browser.post(
        "/post/send", data={**form, "key": key.group(1), "csrf_token": token(browser)}
    )
    assert sent.status_code == 400
    assert "kompas connect mastodon" in sent.text and "--write" in sent.text
    unconfirmed = browser.post("/post/send", data={**form, "csrf_token": token(browser)})
    assert unconfirmed.status_code == 400 and "confirm it before sending" in unconfirmed.text


@pytest.fixture
def fake() -> Iterator[MastodonFake]:
    with mastodon_instance() as instance:
        yield instance


def test_send_posts_once_per_confirmation(fake: MastodonFake, tmp_path: Path) -> None:
    home = tmp_path / "home"
    workspace = writable(home, fake)
    for client in client_of(home):
        text = "Hello from the kompas dashboard " + "🇫🇷" * 3
        form = {"text": text, "to": ["mastodon"], "csrf_token": token(client)}
        confirm = client.post("/post/confirm", data=form)
        key = re.search(r'name="key" value="(kompas-web-[0-9a-f]{32})"', confirm.text)
        assert key
        first = client.post("/post/send", data={**form, "key": key.group(1)})
        assert first.status_code == 200, first.text
        (status,) = fake.posted
        assert status["content"] == f"<p>{text}</p>"
        assert fake.status_requests == [f"{key.group(1)}:mastodon:0"]
        assert f'href="{status["url"]}"' in first.text
        # The same confirmation sent again (a reload, a double click) posts nothing more.
        again = client.post("/post/send", data={**form, "key": key.group(1)})
        assert again.status_code == 200 and len(fake.posted) == 1
        with workspace.engine.connect() as connection:
            stored = connection.execute(
                sa.select(schema.posts.c.text).where(schema.posts.c.id == status["uri"])
            ).scalar_one()
        assert stored == text


def test_queue_at_then_cancel(cli: Kompas, browser: TestClient) -> None:
    text = "A long thread for later. " * 20  # 500 graphemes: two parts on Bluesky
    form = {"text": text, "to": ["mastodon", "bluesky"], "at": "in 2h"}
    assert browser.post("/post/queue", data=form).status_code == 403
    queued = browser.post(
        "/post/queue", data={**form, "csrf_token": token(browser)}, follow_redirects=False
    )
    assert queued.status_code == 303 and queued.headers["location"] == "/post?done=queued"
    rows = json.loads(cli("post", "list", "--json").stdout)["posts"]
    assert {r["network"]: len(r["parts"]) for r in rows} == {"mastodon": 1, "bluesky": 2}
    page = browser.get("/post?done=queued")
    for row in rows:
        assert f'id="queued-{row["id"]}"' in page.text
    assert 'id="post-done"' in page.text
    cancelled = browser.post(
        "/post/cancel",
        data={"id": str(rows[0]["id"]), "csrf_token": token(browser)},
        follow_redirects=False,
    )
    assert cancelled.status_code == 303
    left = json.loads(cli("post", "list", "--json").stdout)["posts"]
    assert [r["id"] for r in left] == [rows[1]["id"]]
    again = browser.post(
        "/post/cancel", data={"id": str(rows[0]["id"]), "csrf_token": token(browser)}
    )
    assert again.status_code == 400 and "already cancelled" in again.text
    for bad, said in (("", "Say when to send it"), ("yesterday-ish", "--at")):
        refused = browser.post(
            "/post/queue", data={**form, "at": bad, "csrf_token": token(browser)}
        )
        assert refused.status_code == 400 and said in refused.text
    assert len(json.loads(cli("post", "list", "--json").stdout)["posts"]) == 1


def test_reply_from_the_inbox(tmp_path: Path) -> None:
    """An open Inbox item links to the Post page as a reply to it, on its network."""
    from kompas.store.writer import write_import
    from test_today_plan import plan_records

    home = tmp_path / "home"
    write_import(Workspace.resolve(home).engine, plan_records(), source="test", path="built")
    for client in client_of(home):
        inbox = client.get("/inbox").text
        link = re.search(r'<a class="reply" href="([^"]+)"', inbox)
        assert link
        page = client.get(link.group(1).replace("&amp;", "&"))
        assert page.status_code == 200
        assert 'id="reply-to" name="reply_to" value="bo-1"' in page.text
        assert 'value="mastodon" id="to-mastodon" checked' in page.text
        assert 'value="bluesky" id="to-bluesky">' in page.text  # not ticked
        form = {"text": "Along the river!", "to": ["mastodon"], "reply_to": "bo-1"}
        html = client.post("/post/check", data=form, headers={**HX, "X-CSRF-Token": token(client)})
        assert 'data-kind="conversation"' in html.text
        assert 'a reply to <span translate="no">bo@example.social</span>' in html.text


def test_a_reply_sent_from_the_page(fake: MastodonFake, tmp_path: Path) -> None:
    home = tmp_path / "home"
    writable(home, fake)
    remote = fake.theirs[1]
    for client in client_of(home):
        form = {
            "text": "Thanks for this!",
            "to": ["mastodon"],
            "reply_to": f"mastodon:{remote['uri']}",
            "csrf_token": token(client),
        }
        confirm = client.post("/post/confirm", data=form)
        key = re.search(r'name="key" value="(kompas-web-[0-9a-f]{32})"', confirm.text)
        assert key
        sent = client.post("/post/send", data={**form, "key": key.group(1)})
        assert sent.status_code == 200, sent.text
        (status,) = fake.posted
        assert status["in_reply_to_id"] == remote["id"]
