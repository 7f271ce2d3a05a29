"""Feeds: parsing real-shaped RSS/Atom (checked against an independent reader of the same
files), pulling from a local server with conditional GET, faults reported per feed with
failure counts, dedupe, the digest, and republished Atom/JSON Feed read back."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import jsonschema
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from kompas.errors import SourceError
from kompas.sources.feed_fetch import parse_feed
from kompas.store import feeds as store
from kompas.workspace import Workspace

FEEDS = Path(__file__).parent / "data" / "feeds"
ATOM_NS = {"a": "http://www.w3.org/2005/Atom"}
ATOM = FEEDS / "simonwillison-atom.xml"
RSS = FEEDS / "pythoninsider-rss.xml"
HUGO = FEEDS / "mastodon-blog-rss.xml"


# ------------------------------------------------------- an independent reader of the files


def atom_entries(path: Path) -> list[dict[str, object]]:
    root = ET.parse(path).getroot()
    return [
        {
            "guid": e.findtext("a:id", namespaces=ATOM_NS),
            "title": e.findtext("a:title", namespaces=ATOM_NS),
            "url": e.find("a:link[@rel='alternate']", ATOM_NS).get("href"),  # type: ignore[union-attr]
            "author": e.findtext("a:author/a:name", namespaces=ATOM_NS),
            "published": datetime.fromisoformat(
                e.findtext("a:published", namespaces=ATOM_NS) or ""
            ),
            "tags": tuple(c.get("term") for c in e.findall("a:category", ATOM_NS)),
        }
        for e in root.findall("a:entry", ATOM_NS)
    ]


def rss_entries(path: Path) -> list[dict[str, object]]:
    root = ET.parse(path).getroot()
    return [
        {
            "guid": i.findtext("guid"),
            "title": i.findtext("title"),
            "url": i.findtext("link"),
            "published": parsedate_to_datetime(i.findtext("pubDate") or ""),
            "tags": tuple(c.text for c in i.findall("category")),
        }
        for i in root.iter("item")
    ]


@pytest.mark.parametrize(
    ("path", "reader"), [(ATOM, atom_entries), (RSS, rss_entries), (HUGO, rss_entries)]
)
def test_parse_feed_matches_an_independent_reading(path: Path, reader) -> None:  # type: ignore[no-untyped-def]
    parsed = parse_feed(path.read_bytes(), "https://feed.test/x")
    expected = reader(path)
    assert len(parsed.entries) == len(expected) > 0
    for entry, want in zip(parsed.entries, expected, strict=True):
        assert entry.guid == want["guid"]
        assert entry.item.title == want["title"]
        assert entry.item.url == want["url"]
        assert entry.item.published == want["published"]
        assert entry.item.tags == want["tags"]
        if "author" in want:
            assert entry.item.author == want["author"]
        assert entry.item.text and "<" not in entry.item.text.replace("<code>", "")


def test_parse_feed_reads_blogger_authors_and_atom_language() -> None:
    rss = parse_feed(RSS.read_bytes(), "s").entries
    # Blogger writes "noreply@blogger.com (Hugo)": the name is what the user sees.
    assert [e.item.author for e in rss] == ["Hugo", "Łukasz", "Mariatta"]
    atom = parse_feed(ATOM.read_bytes(), "s").entries
    assert {e.item.language for e in atom} == {"en-us"}  # xml:lang on <feed>
    assert "https://datasette.io/" in atom[0].links


@pytest.mark.parametrize(
    ("name", "problem"),
    [("malformed.xml", "malformed XML"), ("not-a-feed.html", "not a feed")],
)
def test_parse_feed_refuses_what_is_not_a_feed(name: str, problem: str) -> None:
    with pytest.raises(SourceError, match=problem):
        parse_feed((FEEDS / name).read_bytes(), name)


# ------------------------------------------------------------------ a local feed server


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    """A threaded HTTP server on 127.0.0.1 (never the internet)."""
    http = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    http.start()
    yield http
    http.clear()
    http.stop()


def conditional(body: bytes, etag: str, content_type: str, hits: list[str]):  # type: ignore[no-untyped-def]
    """A handler that honours If-None-Match, recording what each request sent."""

    def handle(request: Request) -> Response:
        sent = request.headers.get("If-None-Match")
        hits.append(sent or "")
        if sent == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, headers={"ETag": etag, "Content-Type": content_type})

    return handle


def test_pull_stores_items_and_second_pull_is_conditional(kompas_db, server: HTTPServer) -> None:  # type: ignore[no-untyped-def]
    kompas = kompas_db
    hits: list[str] = []
    server.expect_request("/atom").respond_with_handler(
        conditional(ATOM.read_bytes(), '"v1"', "application/atom+xml", hits)
    )
    server.expect_request("/rss").respond_with_data(
        RSS.read_bytes(),
        content_type="application/rss+xml",
        headers={"Last-Modified": "Tue, 18 Nov 2026 17:21:03 GMT"},
    )
    for path in ("/atom", "/rss"):
        assert kompas("feeds", "add", server.url_for(path)).exit_code == 0
    first = kompas("feeds", "pull", "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["new_items"] == len(atom_entries(ATOM)) + len(rss_entries(RSS))
    assert {f["status"] for f in report["feeds"]} == {"ok"}
    second = json.loads(kompas("feeds", "pull", "--json").stdout)
    by_url = {f["url"]: f for f in second["feeds"]}
    assert by_url[server.url_for("/atom")]["status"] == "not-modified"
    assert hits == ["", '"v1"']  # the second request carried the ETag
    # The RSS server ignores If-Modified-Since: same entries again, nothing new stored.
    assert by_url[server.url_for("/rss")]["new"] == 0 and second["new_items"] == 0
    sent = [r.headers.get("If-Modified-Since") for r, _ in server.log if r.path == "/rss"]
    assert sent == [None, "Tue, 18 Nov 2026 17:21:03 GMT"]


def test_faults_are_reported_per_feed_and_counted(kompas, server: HTTPServer) -> None:  # type: ignore[no-untyped-def]
    server.expect_request("/good").respond_with_data(
        HUGO.read_bytes(), content_type="application/rss+xml"
    )
    server.expect_request("/malformed").respond_with_data((FEEDS / "malformed.xml").read_bytes())
    server.expect_request("/html").respond_with_data(
        (FEEDS / "not-a-feed.html").read_bytes(), content_type="text/html"
    )
    server.expect_request("/gone").respond_with_data("gone", status=410)
    server.expect_request("/huge").respond_with_data(b"<rss>" + b" " * 200_000 + b"</rss>")

    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response(HUGO.read_bytes())

    server.expect_request("/slow").respond_with_handler(slow)
    urls = {
        name: server.url_for(f"/{name}")
        for name in ("good", "malformed", "html", "gone", "huge", "slow")
    }
    urls["unreachable"] = "http://127.0.0.1:9/feed.xml"  # the discard port: refused
    for url in urls.values():
        assert kompas("feeds", "add", url).exit_code == 0
    pull = ["feeds", "pull", "--json", "--timeout", "0.5", "--max-bytes", "100000"]
    result = kompas(*pull)
    assert result.exit_code == 0, result.output  # one good feed: the pull succeeded
    feeds = {f["url"]: f for f in json.loads(result.stdout)["feeds"]}
    assert feeds[urls["good"]]["status"] == "ok"
    assert feeds[urls["good"]]["new"] == len(rss_entries(HUGO))
    expected_errors = {
        "malformed": "malformed XML",
        "html": "not a feed",
        "gone": "HTTP 410",
        "huge": "too large",
        "slow": "timed out",
        "unreachable": "unreachable",
    }
    for name, problem in expected_errors.items():
        assert feeds[urls[name]]["status"] == "error"
        assert problem in feeds[urls[name]]["error"], feeds[urls[name]]
        assert feeds[urls[name]]["failure_count"] == 1
    kompas(*pull)
    listed = {f["url"]: f for f in json.loads(kompas("feeds", "list", "--json").stdout)}
    assert listed[urls["slow"]]["failure_count"] == 2
    assert listed[urls["slow"]]["consecutive_failures"] == 2
    assert listed[urls["good"]]["failure_count"] == 0
    assert listed[urls["good"]]["items"] == len(rss_entries(HUGO))
    human = kompas("feeds", "list")
    assert human.exit_code == 0 and "failures" in human.stdout


def test_a_pull_where_every_feed_fails_exits_3(kompas) -> None:  # type: ignore[no-untyped-def]
    kompas("feeds", "add", "http://127.0.0.1:9/a.xml")
    result = kompas("feeds", "pull")
    assert result.exit_code == 3
    assert "failures so far: 1" in result.stderr


def test_opml_subscriptions_are_pulled(kompas, server: HTTPServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server.expect_request("/feed").respond_with_data(HUGO.read_bytes())
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        f'<outline type="rss" text="Local" xmlUrl="{server.url_for("/feed")}"/></body></opml>'
    )
    assert kompas("import", "opml", opml).exit_code == 0
    report = json.loads(kompas("feeds", "pull", "--json").stdout)
    assert report["new_items"] == len(rss_entries(HUGO))


def test_dedupe_by_guid_url_and_content_hash(tmp_path: Path) -> None:
    engine = Workspace.resolve(tmp_path).engine
    atom = parse_feed(ATOM.read_bytes(), "https://a.test/feed").entries
    new = [store.NewEntry(e.item, e.guid, e.html, e.links, e.content_hash) for e in atom]
    now = datetime(2026, 11, 25, tzinfo=UTC)
    with engine.begin() as connection:
        assert len(store.add_items(connection, new, now)) == len(atom)
        # The same entries reached through another feed: new ids, same guids → nothing added.
        again = parse_feed(ATOM.read_bytes(), "https://mirror.test/feed").entries
        assert (
            store.add_items(
                connection,
                [store.NewEntry(e.item, e.guid, e.html, e.links, e.content_hash) for e in again],
                now,
            )
            == []
        )
        first = again[0]
        # Same URL, no guid.
        by_url = store.NewEntry(first.item, None, None, (), "other-hash")
        # Same content under a new URL and guid (a re-post).
        by_content = store.NewEntry(
            type(first.item)(
                id="fresh",
                source="x",
                title=first.item.title,
                text=first.item.text,
                url="https://elsewhere.test/p",
            ),
            "new-guid",
            None,
            (),
            first.content_hash,
        )
        assert store.add_items(connection, [by_url, by_content], now) == []
        assert store.item_count(connection) == len(atom)


# --------------------------------------------------------------- digest and republishing

RULES = """\
rules:
  - name: python
    when: {text_contains: python}
    then: {tag: python, score: 5, route: [digest, "feed:py"]}
  - name: sqlite
    when: {text_contains: sqlite}
    then: {tag: sqlite, score: 3, route: digest}
  - name: spam
    when: {text_regex: "(?i)\\\\bnft\\\\b"}
    then: {drop: true}
"""


@pytest.fixture
def pulled(kompas_db, server: HTTPServer):  # type: ignore[no-untyped-def]
    kompas = kompas_db
    hostile = ATOM.read_text().replace(
        "Quoting Julia Evans",
        "&lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:alert(1)) python",
    )
    server.expect_request("/atom").respond_with_data(
        hostile.encode(), content_type="application/atom+xml"
    )
    (kompas.home).mkdir(parents=True, exist_ok=True)
    (kompas.home / "served.atom").write_text(hostile)
    (kompas.home / "rules.yaml").write_text(RULES)
    kompas("feeds", "add", server.url_for("/atom"))
    result = kompas("feeds", "pull", "--json")
    assert result.exit_code == 0, result.output
    return kompas


def expected_routed_to_py(served: Path) -> list[str]:
    """Titles the rules route to feed:py, newest first, read from the served document:
    "python" in the title or summary, and no word "nft"."""
    root = ET.parse(served).getroot()
    found = []
    for entry in root.findall("a:entry", ATOM_NS):
        title = entry.findtext("a:title", namespaces=ATOM_NS) or ""
        text = f"{title} {entry.findtext('a:summary', namespaces=ATOM_NS)}".lower()
        if "python" in text and " nft " not in f" {text} ":
            found.append((entry.findtext("a:published", namespaces=ATOM_NS) or "", title))
    return [title for _, title in sorted(found, reverse=True)]


def test_digest_ranks_groups_and_explains(pulled) -> None:  # type: ignore[no-untyped-def]
    digest = json.loads(pulled("digest", "--since", "3650d", "--json").stdout)
    assert digest["routed"] is True
    groups = {g["tag"]: g["entries"] for g in digest["groups"]}
    assert list(groups) == ["python", "sqlite"]  # best score first
    python_titles = [e["title"] for e in groups["python"]]
    # Datasette (python+sqlite: 8) ranks above the others (python: 5), then newest first.
    assert python_titles[0] == "Datasette 1.0a20 adds a new permissions system"
    assert all(e["score"] >= 5 for e in groups["python"])
    assert [e["title"] for e in groups["sqlite"]] == ["sqlite-utils 4.0"]
    assert not any("NFT" in t for g in groups.values() for t in (e["title"] for e in g))
    item_id = groups["sqlite"][0]["id"]
    explained = json.loads(pulled("rules", "explain", item_id, "--json").stdout)
    assert explained["kept"] is True and explained["tags"] == ["sqlite"]
    assert explained["fired"] == [
        {
            "rule": "sqlite",
            "line": 5,
            "reasons": ["text_contains: text contains 'sqlite'"],
            "reason_codes": [
                [
                    "rules.why.contains",
                    {"key": "text_contains", "field": "text", "needle": "'sqlite'"},
                ]
            ],
            "effects": ["score +3", "tag sqlite", "route digest"],
        }
    ]
    human = pulled("rules", "explain", item_id)
    assert "because text_contains: text contains 'sqlite'" in human.stdout
    assert pulled("rules", "explain", "nope").exit_code == 1
    # A dropped item keeps its explanation too.
    nft = next(e for e in atom_entries(ATOM) if "NFT" in str(e["title"]))
    from kompas.sources.feed_fetch import item_id as make_id

    dropped = json.loads(
        pulled("rules", "explain", make_id(pulled_url(pulled), str(nft["guid"])), "--json").stdout
    )
    assert dropped["kept"] is False and dropped["decided_by"] == "spam"


def pulled_url(kompas) -> str:  # type: ignore[no-untyped-def]
    return str(json.loads(kompas("feeds", "list", "--json").stdout)[0]["url"])


def test_digest_html_escapes_and_sanitises(pulled) -> None:  # type: ignore[no-untyped-def]
    page = pulled("digest", "--since", "3650d", "--format", "html").stdout
    assert "<script" not in page and "alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert 'href="javascript' not in page
    markdown = pulled("digest", "--since", "3650d").stdout
    assert "<script>" not in markdown and "\\[x\\]" in markdown
    assert pulled("digest", "--format", "pdf").exit_code == 2


def test_publish_writes_atom_and_json_feed_that_parse_back(pulled, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = pulled("feeds", "publish", "py", "--out", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    atom = feedparser.parse((tmp_path / "py.atom").read_bytes())
    assert atom.bozo == 0 and atom.version == "atom10"
    titles = [e.title for e in atom.entries]
    assert titles == expected_routed_to_py(pulled.home / "served.atom")
    assert all(e.id.startswith("urn:kompas:item:") for e in atom.entries)
    for entry in atom.entries:
        assert "<script" not in entry.get("summary", "") + "".join(
            c.value for c in entry.get("content", [])
        )
    document = json.loads((tmp_path / "py.json").read_text())
    jsonschema.validate(document, JSON_FEED_1_1)
    assert [i["title"] for i in document["items"]] == titles
    assert pulled("feeds", "publish", "Bad Name").exit_code == 1


#: The required structure of JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/). feedparser
#: 6.0 (the newest on PyPI) reads no JSON Feed, so the spec's rules are checked directly.
JSON_FEED_1_1 = {
    "type": "object",
    "required": ["version", "title", "items"],
    "properties": {
        "version": {"const": "https://jsonfeed.org/version/1.1"},
        "title": {"type": "string"},
        "feed_url": {"type": "string"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "anyOf": [{"required": ["content_html"]}, {"required": ["content_text"]}],
                "properties": {
                    "id": {"type": "string"},
                    "url": {"type": "string"},
                    "title": {"type": "string"},
                    "content_html": {"type": "string"},
                    "content_text": {"type": "string"},
                    "date_published": {"type": "string", "format": "date-time"},
                    "authors": {"type": "array", "items": {"type": "object", "required": ["name"]}},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
