"""The French dashboard is French everywhere: every page and fragment, rendered in French on
the bundled samples (with a strategy, rules and pulled feeds), shows no English of
kompas's own.

Two independent checks over what a person sees (text, tooltips, labels), leaving out what
is not kompas's to translate — the user's and the platforms' words, marked
``translate="no"`` (posts, handles, feed titles, the strategy file's names) — and commands:

- no English text of either message catalogue (the dashboard's and :mod:`kompas.i18n`'s)
  whose French differs, in pieces between its placeholders;
- no run of text with two or more English function words ("the", "of", "your" ...), which
  catches English that never went through a catalogue.
"""

from __future__ import annotations

import html
import json
import re
import string
import threading
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette suggests httpx2; httpx works
    from fastapi.testclient import TestClient

import http.server

from conftest import BLUESKY_CAR, DATA, LINKEDIN_EXPORT, MASTODON_ARCHIVE, X_ARCHIVE, Kompas
from kompas import i18n as messages
from kompas.web import create_app
from kompas.web import i18n as web_i18n
from kompas.workspace import Workspace

#: Words that are English and never French: two of them in one run of text is English.
ENGLISH = frozenset(
    [
        "the",
        "of",
        "and",
        "is",
        "are",
        "your",
        "you",
        "with",
        "this",
        "that",
        "nothing",
        "yet",
        "more",
        "from",
        "what",
        "has",
        "have",
        "not",
        "per",
        "than",
        "been",
        "there",
        "its",
        "it",
        "be",
        "or",
        "to",
        "in",
        "for",
        "by",
        "an",
        "any",
        "were",
        "was",
        "will",
        "would",
        "should",
        "which",
        "who",
        "how",
        "why",
        "when",
        "but",
        "only",
        "so",
        "do",
        "does",
        "did",
        "can",
        "could",
        "into",
        "their",
        "they",
        "them",
        "here",
        "these",
        "those",
        "no",
        "yes",
        "week",
        "weeks",
        "days",
        "day",
        "posts",
        "people",
        "followers",
        "following",
        "data",
    ]
)
SKIPPED = {"script", "style", "code", "pre"}


class Visible(HTMLParser):
    """The text a person sees or hears: text nodes, tooltips (``title``), labels and
    placeholders, outside ``translate="no"`` and code."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.runs: list[str] = []

    @property
    def hidden(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        skip = tag in SKIPPED or names.get("translate") == "no"
        if tag not in {"br", "input", "img", "meta", "link", "hr", "rect", "line"}:
            self.stack.append((tag, skip))
        if not (skip or self.hidden):
            for name in ("title", "aria-label", "placeholder", "alt"):
                if names.get(name):
                    self.runs.append(str(names[name]))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if not (self.hidden or names.get("translate") == "no"):
            for name in ("title", "aria-label", "placeholder", "alt"):
                if names.get(name):
                    self.runs.append(str(names[name]))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.runs.append(" ".join(data.split()))


def visible(page: str) -> list[str]:
    parser = Visible()
    parser.feed(page)
    return parser.runs


def _texts(catalogue: dict[str, Any]) -> dict[str, list[str]]:
    return {
        code: list(text.values()) if isinstance(text, dict) else [text]
        for code, text in catalogue.items()
    }


def english_pieces() -> set[str]:
    """Pieces of English catalogue text (between placeholders) that French never uses."""
    pieces: set[str] = set()
    for english, french in (
        (web_i18n.catalogue("en"), web_i18n.catalogue("fr")),
        (messages.catalogue("en"), messages.catalogue("fr")),
    ):
        french_texts = " ".join(t for ts in _texts(french).values() for t in ts)
        en_texts, fr_texts = _texts(english), _texts(french)
        for code, texts in en_texts.items():
            if texts == fr_texts.get(code):
                continue
            for text in texts:
                for literal, *_ in string.Formatter().parse(text):
                    for piece in re.split(r"[`:;,.()!?—–\"“”]", literal):
                        piece = piece.strip()
                        if len(re.findall(r"[A-Za-z]{2,}", piece)) >= 2 and (
                            piece not in french_texts
                        ):
                            pieces.add(piece)
    return pieces


def english_in(runs: list[str], pieces: set[str]) -> list[str]:
    found = [run for run in runs if len(set(re.findall(r"[a-z]+", run.lower())) & ENGLISH) >= 2]
    text = "\n".join(runs)
    for piece in sorted(p for p in pieces if p in text):
        found += [f"{piece!r} in {run!r}" for run in runs if piece in run]
    return found


@pytest.fixture(scope="module")
def feeds() -> Iterator[str]:
    """The rules pillar's feed fixtures on 127.0.0.1 (no network)."""
    folder = str(DATA / "feeds")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=folder, **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, feeds: str) -> Path:
    """The bundled exports, a starter strategy and rules, two feeds pulled from 127.0.0.1."""
    home = tmp_path_factory.mktemp("french") / "home"
    cli = Kompas(home)
    for kind, path in (
        ("x-archive", X_ARCHIVE),
        ("mastodon-archive", MASTODON_ARCHIVE),
        ("linkedin", LINKEDIN_EXPORT),
        ("bluesky-car", BLUESKY_CAR),
    ):
        assert cli("import", kind, path).exit_code == 0
    # Feeds from 127.0.0.1 only (the OPML sample's feeds are on the internet).
    assert cli("strategy", "init").exit_code == 0
    assert cli("rules", "init").exit_code == 0
    for name in ("simonwillison-atom.xml", "pythoninsider-rss.xml"):
        assert cli("feeds", "add", f"{feeds}/{name}").exit_code == 0
    pulled = cli("feeds", "pull")
    assert pulled.exit_code == 0, pulled.output
    jared = "mastodon:@Jaredigital@mastodon.social"
    assert cli("people", "note", jared, "Met at XOXO; loves Sunny Day Real Estate").exit_code == 0
    assert cli("people", "tag", jared, "music").exit_code == 0
    assert cli("people", "cadence", jared, "30d").exit_code == 0
    return home


@pytest.fixture(scope="module")
def client(workspace: Path) -> Iterator[TestClient]:
    engine = Workspace.resolve(workspace).engine
    with TestClient(create_app(engine, home=workspace)) as test_client:
        yield test_client


def addresses(workspace: Path) -> list[str]:
    """Every page and fragment, in the states a person can bring them to."""
    digest = json.loads(Kompas(workspace)("digest", "--since", "3650d", "--json").stdout)
    items = [e["id"] for g in digest["groups"] for e in g["entries"]]
    assert items, "no digest to explain"
    return [
        *(f"/fragments/explain?item={item}" for item in items[:8]),
        "/",
        "/?days=28",
        *(f"/fragments/glance/{p}" for p in ("community", "rules", "people", "strategy")),
        "/people",
        "/people?audit=1",
        "/people?clubs=1",
        "/people?account=x:milahu104",
        "/people?account=x:nobody-at-all",
        "/people?account=myspace:tom",
        # The person page: with a note, a tag and a due cadence; with nothing kept; an
        # unknown account; not an account.
        "/people/mastodon:@Jaredigital@mastodon.social",
        "/people/x:milahu104",
        "/people/x:nobody-at-all",
        "/people/myspace:tom",
        "/feeds",
        "/feeds?since=3650d",
        "/fragments/lists",
        "/data",
        "/fragments/posts?platform=mastodon",
        "/community",
        "/community?all=true",
        "/community?since=2022-01-01&until=2023-01-01",
        "/community?since=nonsense",
        "/strategy",
        "/strategy?days=30",
        "/strategy?date=2026-03-01",
        "/strategy?date=not-a-date",
    ]


def users_words(workspace: Path) -> list[str]:
    """What the user wrote in strategy.yaml (their why, goals, key results, habit and
    pillar names) and rules.yaml (rule names): theirs, in their language, even inside a
    French sentence."""
    from kompas.rules import load_rules
    from kompas.strategy import load_strategy

    plan = load_strategy(workspace / "strategy.yaml")
    found = [plan.why, *(goal.name for goal in plan.goals)]
    found += [kr.text for _, kr in plan.key_results] + [kr.metric for _, kr in plan.key_results]
    found += [h.name for h in plan.habits] + [p.name for p in plan.pillars]
    found += [rule.name for rule in load_rules(workspace / "rules.yaml").rules]
    return sorted({w for w in found if w}, key=len, reverse=True)


def test_every_page_in_french_shows_no_english(client: TestClient, workspace: Path) -> None:
    pieces = english_pieces()
    assert len(pieces) > 100  # the check has teeth: both catalogues are read
    problems: dict[str, list[str]] = {}
    users = users_words(workspace)
    reasons = 0
    for address in addresses(workspace):
        joined = address + ("&" if "?" in address else "?") + "lang=fr"
        response = client.get(joined)
        assert response.status_code in (200, 400, 404), address
        runs = visible(response.text)
        reasons += sum(run.startswith("parce que ") for run in runs)
        for words in users:
            runs = [run.replace(words, "…") for run in runs]
        found = english_in(runs, pieces)
        if found:
            problems[address] = found
    assert problems == {}, json.dumps(problems, indent=1, ensure_ascii=False)
    assert reasons > 0  # the rules' reasons were shown, in French


def test_the_check_finds_english() -> None:
    """The detector itself: English of the catalogue and English that never went through
    one are found; French, and English marked as the user's own, are not."""
    pieces = english_pieces()
    page = (
        "<p>Votre style : rassembleur</p>"
        "<p>Post something for your pillar: nothing on it in the last 7 days.</p>"
        f"<p>{web_i18n.translate('en', 'community.no_received')}</p>"
        '<td translate="no">Reply to 3 people a day</td><code>kompas community --all</code>'
    )
    found = english_in(visible(page), pieces)
    assert len(found) >= 2
    assert not any("Votre style" in f or "Reply to 3" in f for f in found)


def test_refused_links_say_why_in_french(workspace: Path) -> None:
    from kompas.web.security import CSRF_COOKIE

    engine = Workspace.resolve(workspace).engine
    with TestClient(create_app(engine), base_url="http://127.0.0.1:8765") as browser:
        browser.get("/people?lang=fr")
        token = browser.cookies[CSRF_COOKIE]
        cases = {
            ("x:milahu104", "x:milahu104"): "nommez deux comptes différents à relier",
            ("x:milahu104", "x:nobody-at-all"): "aucun compte x 'nobody-at-all' dans vos données",
            ("x:milahu104", "myspace:tom"): "n’est pas de la forme PLATEFORME:COMPTE",
        }
        for (first, second), french in cases.items():
            refused = browser.post(
                "/people/link?lang=fr",
                data={"first": first, "second": second, "csrf_token": token},
            )
            assert refused.status_code == 400
            assert french in html.unescape(refused.text)
            assert english_in(visible(refused.text), english_pieces()) == []
