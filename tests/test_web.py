"""The dashboard in-process (FastAPI's TestClient): every page renders on the real samples
and shows the CLI's own figures; weekly figures on a hand-checkable store; and the security
behaviours (CSP, token, Host check, CSRF, sanitised platform HTML, no inline script)."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette suggests httpx2; httpx works
    from fastapi.testclient import TestClient

from conftest import (
    BLUESKY_CAR,
    DATA,
    LINKEDIN_EXPORT,
    MASTODON_ARCHIVE,
    OPML,
    X_ARCHIVE,
    Kompas,
)
from kompas.model import Account, Interaction, InteractionKind, Platform, Post, PostKind
from kompas.store import dashboard
from kompas.store.db import create_engine
from kompas.store.writer import write_import
from kompas.web import Guard, create_app, i18n
from kompas.web.app import PAGE_PATHS
from kompas.web.security import CSP, CSRF_COOKIE
from kompas.workspace import Workspace
from samples import mastodon_counts, x_counts

XSS = DATA / "xss" / "mastodon"
TEMPLATES = Path(__file__).parent.parent / "src" / "kompas" / "web" / "templates"


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Kompas:
    """One workspace with every bundled sample imported (shared: the tests only read)."""
    cli = Kompas(tmp_path_factory.mktemp("web") / "home")
    for kind, path in (
        ("x-archive", X_ARCHIVE),
        ("mastodon-archive", MASTODON_ARCHIVE),
        ("linkedin", LINKEDIN_EXPORT),
        ("bluesky-car", BLUESKY_CAR),
        ("opml", OPML),
    ):
        result = cli("import", kind, path)
        assert result.exit_code == 0, result.output
    return cli


@pytest.fixture(scope="module")
def client(samples: Kompas) -> Iterator[TestClient]:
    engine = Workspace.resolve(samples.home).engine
    with TestClient(create_app(engine)) as test_client:
        yield test_client


def values(html: str) -> dict[str, str]:
    """``data-key`` → ``data-value`` of every figure on a page."""
    return dict(re.findall(r'data-key="([^"]+)" data-value="([^"]*)"', html))


class _Audit(HTMLParser):
    """Collects what a strict CSP forbids or what would run: inline scripts, inline styles,
    event-handler attributes and javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.problems.append("inline <script>")
        if tag == "script" and names.get("src", "").startswith(("http:", "https:", "//")):
            self.problems.append("script from elsewhere")
        if tag in {"style", "iframe", "object", "embed", "base", "meta"} and tag != "meta":
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}=")
            if name == "style":
                self.problems.append(f"{tag} style=")
            if name in {"href", "src", "action", "formaction", "data"} and (
                value or ""
            ).strip().lower().startswith(("javascript:", "data:text")):
                self.problems.append(f"{tag} {name}={value}")


def audit(html: str) -> list[str]:
    parser = _Audit()
    parser.feed(html)
    return parser.problems


# --- pages on the real samples ---------------------------------------------------------


@pytest.mark.parametrize("page", list(PAGE_PATHS))
def test_every_page_renders_with_security_headers_and_no_inline_code(
    client: TestClient, page: str
) -> None:
    response = client.get(PAGE_PATHS[page])
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert audit(response.text) == []
    assert 'aria-current="page"' in response.text


def test_overview_and_data_show_exactly_the_status_json(
    client: TestClient, samples: Kompas
) -> None:
    expected = json.loads(samples("status", "--json").stdout)["platforms"]
    assert expected["x"] == x_counts(X_ARCHIVE)
    assert expected["mastodon"] == mastodon_counts(MASTODON_ARCHIVE)
    for path in ("/", "/data"):
        shown = values(client.get(path).text)
        for platform, counts in expected.items():
            for name, count in counts.items():
                assert shown[f"{platform}.{name}"] == str(count), (path, platform, name)
    assert 'data-value="5"' in client.get("/data").text  # five OPML feeds


def test_data_page_lists_every_import(client: TestClient) -> None:
    html = client.get("/data").text
    rows = re.findall(r'<tr data-import="(\d+)">', html)
    assert rows == ["5", "4", "3", "2", "1"]
    assert "x-archive" in html and "archive.tar.gz" in html


def test_community_page_shows_the_community_json(client: TestClient, samples: Kompas) -> None:
    expected = json.loads(samples("community", "--all", "--json").stdout)
    shown = values(client.get("/community?all=true").text)
    for key in ("replies_given", "people_interacted", "reposts_of_others", "reciprocity"):
        for platform, value in expected[key].items():
            assert shown[f"{key}.{platform}"] == ("" if value is None else str(value)), key
    for platform, vanity in expected["vanity"].items():
        assert shown[f"posts.{platform}"] == str(vanity["posts"])
    mix = expected["mix"]["all"]
    for kind in ("conversation", "sharing", "broadcast", "other"):
        assert float(shown[f"mix.{kind}"]) == pytest.approx(mix[kind])


def test_community_default_period_is_the_one_it_names(client: TestClient, samples: Kompas) -> None:
    html = client.get("/community").text
    command = re.search(r'<code id="community-cli">kompas community ([^<]+)</code>', html)
    assert command is not None
    flags = command.group(1).split()
    since, until = flags[flags.index("--since") + 1], flags[flags.index("--until") + 1]
    # The same default period as the CLI's: 90 days up to where the data ends.
    default = json.loads(samples("community", "--json").stdout)["period"]
    end = datetime.fromisoformat(default["until"])
    assert until == (end - timedelta(days=1)).date().isoformat()
    assert since == datetime.fromisoformat(default["since"]).date().isoformat()
    data_end = datetime.fromisoformat(default["data_end"])
    if default["anchored"]:
        assert f"Your data ends {data_end:%Y-%m-%d}; showing the 90 days up to then" in html
    expected = json.loads(samples("community", *flags).stdout)
    shown = values(html)
    for key in ("replies_given", "people_interacted", "conversations"):
        for platform, value in expected[key].items():
            assert shown[f"{key}.{platform}"] == ("" if value is None else str(value)), key


def test_community_bad_period_is_shown_not_crashed(client: TestClient) -> None:
    response = client.get("/community?since=not-a-date")
    assert response.status_code == 200
    assert "is not a date" in response.text


def test_fragments_answer_htmx(client: TestClient) -> None:
    week = client.get("/fragments/activity?days=28")
    assert week.status_code == 200 and 'data-days="28"' in week.text
    assert "<html" not in week.text
    only_x = client.get("/fragments/posts?platform=x").text
    platforms = set(re.findall(r'class="post" data-platform="([a-z]+)"', only_x))
    assert platforms == {"x"}


def test_strategy_page_without_a_strategy_says_how_to_write_one(client: TestClient) -> None:
    html = client.get("/strategy").text
    assert 'data-state="no-strategy"' in html and "kompas strategy init" in html


@pytest.mark.parametrize("pillar", ["community", "rules", "people", "strategy"])
def test_overview_glance_cards_load_per_pillar(client: TestClient, pillar: str) -> None:
    assert f'hx-get="/fragments/glance/{pillar}"' in client.get("/").text
    card = client.get(f"/fragments/glance/{pillar}")
    assert card.status_code == 200 and 'data-state="available"' in card.text
    assert audit(card.text) == []
    assert client.get("/fragments/glance/nope").status_code == 404


def test_people_research_and_audit_show_the_people_json(
    client: TestClient, samples: Kompas
) -> None:
    expected = json.loads(samples("people", "research", "x:milahu104", "--json").stdout)
    html = client.get("/fragments/research?account=x:milahu104").text
    shown = values(html)
    assert shown["research.points"] == str(expected["points"])
    assert f'data-value="{expected["verdict"]}"' in html
    assert len(re.findall(r"<tr data-signal=", html)) == len(expected["reasons"])
    audited = json.loads(samples("people", "audit", "--json").stdout)
    shown = values(client.get("/fragments/audit").text)
    assert shown["audit.followers"] == str(audited["followers"])
    assert shown["audit.scored"] == str(audited["scored"])
    unknown = client.get("/fragments/research?account=x:nobody-at-all").text
    assert 'class="problem"' in unknown


def test_people_clubs_show_the_clubs_json(client: TestClient, samples: Kompas) -> None:
    expected = json.loads(samples("people", "clubs", "--json").stdout)
    html = client.get("/fragments/clubs").text
    assert values(html)["clubs.count"] == str(len(expected["clubs"]))
    rows = re.findall(r'<tr data-club="(\d+)"', html)
    assert rows == [str(c["number"]) for c in expected["clubs"][:10]]
    french = client.get("/fragments/clubs?lang=fr").text
    assert "Hors de tout club" in french or not expected["interactions"]
    page = client.get("/people?clubs=1").text
    assert 'id="clubs-table"' in page or "No graph yet" in page


def test_strategy_page_shows_the_review_json(tmp_path: Path) -> None:
    cli = Kompas(tmp_path / "home")
    assert cli("import", "bluesky-car", BLUESKY_CAR).exit_code == 0
    assert cli("strategy", "init").exit_code == 0
    workspace = Workspace.resolve(cli.home)
    with workspace.engine.connect() as connection:
        latest = dashboard.latest_activity(connection, dashboard.self_accounts(connection))
    assert latest is not None
    day = f"{latest:%Y-%m-%d}"
    review = json.loads(cli("review", "--json", "--date", day).stdout)
    with TestClient(create_app(workspace.engine, home=workspace.home)) as test_client:
        html = test_client.get(f"/strategy?date={day}").text
        month = test_client.get(f"/fragments/strategy?date={day}&days=30").text
    shown = values(html)
    for index, kr in enumerate(review["key_results"]):
        assert shown[f"kr.{index}"] == ("" if kr["value"] is None else str(kr["value"]))
    for index, habit in enumerate(review["habits"]):
        assert shown[f"habit.{index}"] == ("" if habit["done"] is None else str(habit["done"]))
    for pillar in review["pillars"]:
        assert shown[f"pillar.{pillar['id']}"] == str(pillar["posts"])
    assert shown["unaligned.posts"] == str(review["unaligned"]["posts"])
    assert audit(html) == []
    month_review = json.loads(cli("review", "--json", "--month", "--date", day).stdout)
    assert values(month)["unaligned.posts"] == str(month_review["unaligned"]["posts"])


# --- the week-over-week figures, on a store built by hand ------------------------------


def _activity_store(tmp_path: Path, db_url: str) -> Workspace:
    """Own posts: 3 in the last 7 days before the newest (one a reply), 2 in the 7 days
    before those, 1 older; own likes: 2 this week, 1 last week."""
    workspace = Workspace.resolve(tmp_path / "hand", db_url)
    engine = workspace.engine
    end = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    me = Account(Platform.MASTODON, "me", handle="me", is_self=True)
    days_ago = [0, 2, 6, 8, 13, 30]
    kinds = [PostKind.POST, PostKind.REPLY, PostKind.POST, PostKind.POST, PostKind.POST]
    records: list[object] = [me, Account(Platform.MASTODON, "ada", handle="ada")]
    for number, ago in enumerate(days_ago):
        kind = kinds[number] if number < len(kinds) else PostKind.POST
        records.append(
            Post(
                Platform.MASTODON,
                f"p{number}",
                "me",
                end - timedelta(days=ago),
                kind,
                text=f"post {number}",
                reply_to_id="q" if kind is PostKind.REPLY else None,
            )
        )
    for number, ago in enumerate([1, 3, 9]):
        records.append(
            Interaction(
                Platform.MASTODON,
                InteractionKind.LIKE,
                "me",
                "ada",
                f"t{number}",
                None,
                end - timedelta(days=ago),
            )
        )
    write_import(engine, records, source="hand", path="hand")  # type: ignore[arg-type]
    return workspace


def test_week_over_week_counts(tmp_path: Path, db_url: str) -> None:
    engine = _activity_store(tmp_path, db_url).engine
    with engine.connect() as connection:
        own = dashboard.self_accounts(connection)
        latest = dashboard.latest_activity(connection, own)
        assert latest == datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
        end = latest + timedelta(microseconds=1)
        week = dashboard.window_counts(connection, own, end - timedelta(days=7), end)
        assert week.posts == {"post": 2, "reply": 1}
        assert week.interactions == {"like": 2}
        before = dashboard.window_counts(
            connection, own, end - timedelta(days=14), end - timedelta(days=7)
        )
        assert before.posts == {"post": 2} and before.interactions == {"like": 1}
        weeks = dashboard.weekly_posts(connection, own, end, 12)
        assert weeks[-1] == 3 and weeks[-2] == 2 and sum(weeks) == 6
    with TestClient(create_app(engine)) as test_client:
        shown = values(test_client.get("/").text)
    assert shown["this.posts.post"] == "2" and shown["last.posts.post"] == "2"
    assert shown["this.posts.reply"] == "1" and shown["last.posts.reply"] == "0"
    assert shown["this.interactions.like"] == "2" and shown["last.interactions.like"] == "1"


def test_overview_counts_are_reused_until_the_store_changes(tmp_path: Path, db_url: str) -> None:
    """The Overview's window counts read every own post of 12 weeks: a second visit reads
    no post, and a new import shows at once."""
    engine = _activity_store(tmp_path, db_url).engine
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    with TestClient(create_app(engine)) as test_client:
        assert values(test_client.get("/").text)["this.posts.post"] == "2"
        sa.event.listen(engine, "before_cursor_execute", seen)
        try:
            assert values(test_client.get("/").text)["this.posts.post"] == "2"
            assert not [s for s in statements if re.search(r"\bFROM posts\b", s)], statements
            newest = datetime(2026, 3, 20, 13, 0, tzinfo=UTC)
            write_import(
                engine,
                [Post(Platform.MASTODON, "p-new", "me", newest, PostKind.POST, text="new")],
                source="hand",
                path="hand-2",
            )
            shown = values(test_client.get("/").text)
        finally:
            sa.event.remove(engine, "before_cursor_execute", seen)
    assert shown["this.posts.post"] == "3"


def test_weekly_queries_walk_indexes(tmp_path: Path) -> None:
    """The Overview's window counts read a time range of an index, never every row the
    user ever wrote (the queries the page runs, planned by SQLite on a migrated store)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC)
    me = dashboard.SelfAccount("x", "me", None)
    with engine.connect() as connection:
        for statement in (
            dashboard.own_posts_by_kind(me, start, end),
            dashboard.own_interactions_by_kind(me, start, end),
        ):
            compiled = statement.compile(connection, compile_kwargs={"render_postcompile": True})
            params = [str(compiled.params[name]) for name in compiled.positiontup or ()]
            plan = " ".join(
                str(row[-1])
                for row in connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + str(compiled), tuple(params)
                )
            )
            assert "INDEX" in plan and "created_at>" in plan.replace(" ", ""), plan
            assert "SCAN" not in plan, plan


# --- language ----------------------------------------------------------------------------


def test_french_by_query_and_by_accept_language(client: TestClient) -> None:
    assert '<html lang="fr">' in client.get("/?lang=fr").text
    assert "Vue d’ensemble" in client.get("/?lang=fr").text
    french = client.get("/data", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.8"})
    assert '<html lang="fr">' in french.text and "Données" in french.text
    english = client.get("/data", headers={"Accept-Language": "de-DE,en;q=0.5,fr;q=0.4"})
    assert '<html lang="en">' in english.text
    # An explicit ?lang= survives navigation.
    assert 'href="/data?lang=fr"' in client.get("/?lang=fr").text


def test_choose_language() -> None:
    assert i18n.choose(None, None) == "en"
    assert i18n.choose("fr", "en") == "fr"
    assert i18n.choose("xx", "fr-CA") == "fr"
    assert i18n.choose(None, "en;q=0.2, fr;q=0.8") == "fr"
    assert i18n.choose(None, "fr;q=0") == "en"
    assert i18n.format_number(12345, "fr") == "12\u202f345"


def test_catalogues_are_complete() -> None:
    english, french = i18n.catalogue("en"), i18n.catalogue("fr")
    assert set(english) == set(french)
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_.]+)["']\s*[,)]""", template.read_text()))
    assert used - set(english) == set()


# --- security ------------------------------------------------------------------------------


def test_token_is_required_everywhere_when_set(samples: Kompas) -> None:
    engine = Workspace.resolve(samples.home).engine
    app = create_app(engine, Guard(token="s3cret-token"))
    with TestClient(app) as anonymous:
        for path in (*PAGE_PATHS.values(), "/static/kompas.css", "/fragments/posts"):
            assert anonymous.get(path).status_code == 401, path
        assert anonymous.get("/?token=wrong").status_code == 401
        assert anonymous.get("/", headers={"Authorization": "Bearer nope"}).status_code == 401
    with TestClient(app) as bearer:
        ok = bearer.get("/data", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200 and "s3cret-token" not in ok.text
    with TestClient(app) as browser:
        first = browser.get("/data?token=s3cret-token&lang=fr", follow_redirects=False)
        assert first.status_code == 303
        assert first.headers["location"] == "/data?lang=fr"  # the token leaves the URL
        assert "s3cret-token" not in first.headers["set-cookie"]  # the cookie is derived
        assert browser.get("/data").status_code == 200  # the cookie carries on


def test_unknown_host_header_is_refused(samples: Kompas) -> None:
    engine = Workspace.resolve(samples.home).engine
    guard = Guard(allowed_hosts=frozenset({"127.0.0.1", "localhost"}))
    with TestClient(create_app(engine, guard), base_url="http://127.0.0.1:8765") as local:
        assert local.get("/").status_code == 200
        assert local.get("/", headers={"Host": "evil.example"}).status_code == 400
        assert local.get("/", headers={"Host": "localhost:8765"}).status_code == 200


def test_state_changes_need_post_and_csrf(tmp_path: Path, samples: Kompas) -> None:
    cli = Kompas(tmp_path / "home")
    assert cli("import", "bluesky-car", BLUESKY_CAR).exit_code == 0
    assert cli("import", "x-archive", X_ARCHIVE).exit_code == 0
    engine = Workspace.resolve(cli.home).engine
    with TestClient(create_app(engine), base_url="http://127.0.0.1:8765") as browser:
        page = browser.get("/people")
        token = browser.cookies[CSRF_COOKIE]
        assert f'name="csrf_token" value="{token}"' in page.text
        form = {"first": "x:milahu104", "second": "bluesky:" + _bluesky_self(cli), "person": "me"}
        assert browser.get("/people/link").status_code == 405
        assert browser.post("/people/link", data=form).status_code == 403
        wrong = browser.post("/people/link", data={**form, "csrf_token": "forged"})
        assert wrong.status_code == 403
        cross = browser.post(
            "/people/link",
            data={**form, "csrf_token": token},
            headers={"Origin": "https://evil.example"},
        )
        assert cross.status_code == 403
        assert json.loads(cli("people", "links", "--json").stdout) == {}
        done = browser.post(
            "/people/link", data={**form, "csrf_token": token}, follow_redirects=False
        )
        assert done.status_code == 303
        assert set(json.loads(cli("people", "links", "--json").stdout)) == {"me"}
        assert browser.delete("/people/link").status_code == 405
        # HTMX sends the token as a header instead of a form field.
        again = browser.post(
            "/people/link",
            data={**form, "person": "again"},
            headers={"X-CSRF-Token": token, "HX-Request": "true"},
        )
        assert again.status_code == 204
        assert again.headers["hx-redirect"] == "/people?done=linked"
        assert set(json.loads(cli("people", "links", "--json").stdout)) == {"again"}
        refused = browser.post(
            "/people/link", data={"first": "x:milahu104", "second": "x:nobody", "csrf_token": token}
        )
        assert refused.status_code == 400 and "nobody" in refused.text


def _bluesky_self(cli: Kompas) -> str:
    engine = Workspace.resolve(cli.home).engine
    with engine.connect() as connection:
        own = dashboard.self_accounts(connection)
    return next(a.id for a in own if a.platform == "bluesky")


def test_hostile_platform_html_is_sanitised(tmp_path: Path) -> None:
    cli = Kompas(tmp_path / "home")
    assert cli("import", "mastodon-archive", XSS).exit_code == 0
    engine = Workspace.resolve(cli.home).engine
    with TestClient(create_app(engine)) as test_client:
        for path in ("/", "/data", "/fragments/posts?platform=mastodon", "/community?all=true"):
            html = test_client.get(path).text
            assert audit(html) == [], path
        data = test_client.get("/data").text
    assert data.count('class="post"') == 10
    assert "hello" in data and "cover" in data  # the text itself is still shown
    assert "<script>window" not in data and "onerror" not in data and "javascript:" not in data
    assert "&lt;script&gt;" in data  # the handle's payload shows as text


def test_serve_refuses_to_expose_without_token(kompas: Kompas) -> None:
    result = kompas("serve", "--host", "0.0.0.0")
    assert result.exit_code == 1
    assert "--token" in result.output


def test_a_missing_pillar_shows_as_not_available() -> None:
    from kompas.web import pillars

    @pillars.pillar_view("no_such_pillar")
    def page() -> pillars.View:
        raise AssertionError("never called without its pillar")

    assert page() == pillars.UNAVAILABLE
    assert pillars.installed("community") and not pillars.installed("no_such_pillar")


def test_figures_follow_a_new_import(tmp_path: Path) -> None:
    """Cached figures are reused only until the store changes (here: from another process's
    point of view, the CLI importing while the dashboard runs)."""
    cli = Kompas(tmp_path / "home")
    assert cli("import", "bluesky-car", BLUESKY_CAR).exit_code == 0
    engine = Workspace.resolve(cli.home).engine
    with TestClient(create_app(engine)) as test_client:
        before = values(test_client.get("/").text)
        assert "bluesky.posts" in before and "mastodon.posts" not in before
        assert values(test_client.get("/").text) == before  # served again from the cache
        assert cli("import", "mastodon-archive", MASTODON_ARCHIVE).exit_code == 0
        after = values(test_client.get("/data").text)
    assert after["mastodon.posts"] == str(mastodon_counts(MASTODON_ARCHIVE)["posts"])


def test_strategy_page_anchors_to_the_data_and_never_claims_on_track(tmp_path: Path) -> None:
    """An old X archive: the page shows the last day of data (and says so), a status that
    is never "on track" without data, and a date picker for any other day."""
    cli = Kompas(tmp_path / "home")
    assert cli("import", "x-archive", X_ARCHIVE).exit_code == 0
    assert cli("strategy", "init").exit_code == 0
    review = json.loads(cli("review", "--json").stdout)
    last = datetime.fromisoformat(review["period"]["until"]) - timedelta(days=1)
    workspace = Workspace.resolve(cli.home)
    with TestClient(create_app(workspace.engine, home=workspace.home)) as test_client:
        html = test_client.get("/strategy").text
        other = test_client.get("/strategy?date=2026-01-16").text
        french = test_client.get("/strategy?lang=fr").text
    assert f"Your data ends {last:%Y-%m-%d}; showing the 7 days up to then" in html
    assert f'id="review-status" data-value="{review["status"]}"' in html
    assert review["status"] != "on track" or all(
        k["value"] is not None for k in review["key_results"]
    )
    assert f'name="date" type="text" placeholder="YYYY-MM-DD" value="{last:%Y-%m-%d}"' in html
    assert "From 2026-01-10 to 2026-01-17" in other and "Your data ends" not in other
    assert "Vos données s’arrêtent le" in french
    assert audit(html) == []


def test_community_page_marks_platforms_without_data(tmp_path: Path) -> None:
    cli = Kompas(tmp_path / "home")
    for kind, path in (("x-archive", X_ARCHIVE), ("mastodon-archive", MASTODON_ARCHIVE)):
        assert cli(kind and "import", kind, path).exit_code == 0
    expected = json.loads(cli("community", "--json").stdout)
    assert expected["coverage"]["mastodon"]["has_data"] is False
    workspace = Workspace.resolve(cli.home)
    with TestClient(create_app(workspace.engine, home=workspace.home)) as test_client:
        html = test_client.get("/community").text
    shown = values(html)
    assert shown["replies_given.mastodon"] == ""  # no data, not 0
    assert shown["replies_given.x"] == str(expected["replies_given"]["x"])
    end = datetime.fromisoformat(expected["coverage"]["mastodon"]["data_end"])
    assert f"mastodon: no data in this period (its data ends {end:%Y-%m-%d})" in html
    assert 'data-value="lurker"' not in html
    with TestClient(create_app(workspace.engine, home=workspace.home)) as test_client:
        french = test_client.get("/community?lang=fr").text
    assert "pas de données sur cette période" in french
    # The style's reasons are French too, the one-way verdict included.
    assert "à sens unique" in french and "the conversation is one-way" not in french


def test_overview_glances_never_turn_no_data_into_zeros(tmp_path: Path) -> None:
    cli = Kompas(tmp_path / "home")
    assert cli("import", "x-archive", X_ARCHIVE).exit_code == 0
    assert cli("import", "opml", OPML).exit_code == 0  # feeds followed, none pulled yet
    assert cli("strategy", "init").exit_code == 0
    review = json.loads(cli("review", "--json").stdout)
    workspace = Workspace.resolve(cli.home)
    with TestClient(create_app(workspace.engine, home=workspace.home)) as test_client:
        rules = test_client.get("/fragments/glance/rules").text
        strategy = values(test_client.get("/fragments/glance/strategy").text)
    assert "No feed items yet" in rules and 'data-key="rules.kept"' not in rules
    assert strategy["strategy.status"] == review["status"]
    measured = [k for k in review["key_results"] if k["value"] is not None]
    missing = len(review["key_results"]) - len(measured)
    if measured:
        met = sum(1 for k in measured if k["status"] == "met")
        assert strategy["strategy.key_results_met"] == str(met)
    else:
        assert "strategy.key_results_met" not in strategy
    assert strategy.get("strategy.key_results_no_data", "0") == str(missing)
