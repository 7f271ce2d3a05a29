"""Routes a rule can name all lead somewhere (issue #11): ``notify`` items show in
``kompas today``, ``people-to-meet`` builds ``kompas people to-meet``. Items come from a
real Atom feed served on 127.0.0.1; expected values are read from the served file."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from conftest import Kompas

ATOM = Path(__file__).parent / "data" / "feeds" / "simonwillison-atom.xml"
NS = {"a": "http://www.w3.org/2005/Atom"}
RULES = """\
rules:
  - name: sqlite news
    when: {text_contains: sqlite}
    then: {score: 7, route: notify}
  - name: people writing about feeds
    when: {text_contains: feeds}
    then: {route: people-to-meet}
"""


def entries() -> list[dict[str, str]]:
    """Title, text and author of each entry, read without kompas."""
    root = ET.parse(ATOM).getroot()
    found = []
    for e in root.findall("a:entry", NS):
        title = e.findtext("a:title", namespaces=NS) or ""
        text = " ".join(
            [
                title,
                e.findtext("a:summary", namespaces=NS) or "",
                e.findtext("a:content", namespaces=NS) or "",
            ]
        )
        found.append(
            {
                "published": e.findtext("a:published", namespaces=NS) or "",
                "title": title,
                "text": text.lower(),
                "author": e.findtext("a:author/a:name", namespaces=NS) or "",
            }
        )
    return found


@pytest.fixture
def pulled(kompas: Kompas) -> Iterator[Kompas]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    server.expect_request("/atom").respond_with_data(
        ATOM.read_bytes(), content_type="application/atom+xml"
    )
    kompas.home.mkdir(parents=True, exist_ok=True)
    (kompas.home / "rules.yaml").write_text(RULES, encoding="utf-8")
    assert kompas("feeds", "add", server.url_for("/atom")).exit_code == 0
    assert kompas("feeds", "pull").exit_code == 0
    assert kompas("strategy", "init").exit_code == 0
    yield kompas
    server.stop()


def test_notify_items_appear_in_today(pulled: Kompas) -> None:
    result = pulled("today", "--json")
    assert result.exit_code == 0, result.output
    notify = json.loads(result.stdout)["notify"]
    # The week up to the newest item of the feeds (not up to today).
    newest = max(datetime.fromisoformat(e["published"]) for e in entries())
    expected = {
        e["title"]
        for e in entries()
        if "sqlite" in e["text"]
        and datetime.fromisoformat(e["published"]) >= newest - timedelta(days=7)
    }
    assert expected and {n["title"] for n in notify} == expected
    assert all(n["why"] == "rules: sqlite news" and n["score"] == 7 for n in notify)
    screen = pulled("today")
    assert "Your rules flagged (notify):" in screen.stdout
    assert all(title in screen.stdout for title in expected)


def test_people_to_meet_lists_authors_to_research(pulled: Kompas) -> None:
    result = pulled("people", "to-meet", "--json")
    assert result.exit_code == 0, result.output
    people = json.loads(result.stdout)["people"]
    matching = [e for e in entries() if "feeds" in e["text"]]
    assert matching
    assert [(p["author"], p["items"]) for p in people] == [(matching[0]["author"], len(matching))]
    # A blog author's name is not an account kompas can look up: it says so.
    assert people[0]["research"] is None
    assert "search for them yourself" in pulled("people", "to-meet").stdout.replace("\n", " ")
    today = json.loads(pulled("today", "--json").stdout)
    assert today["people_to_meet"] == len(people)


def test_research_commands() -> None:
    from kompas.rules.routes import research_command

    assert research_command("mastodon:home", "123") == "kompas people research mastodon:123"
    assert research_command("https://blog.example/feed", "@ana@social.example") == (
        "kompas lookup @ana@social.example"
    )
    assert research_command("https://blog.example/feed", "ana.bsky.social") == (
        "kompas lookup ana.bsky.social"
    )
    assert research_command("https://blog.example/feed", "Simon Willison") is None


def test_empty_people_to_meet_says_how_to_get_some(kompas: Kompas) -> None:
    result = kompas("people", "to-meet")
    assert result.exit_code == 0, result.output
    assert "route: people-to-meet" in result.stdout
