"""The dashboard end to end, in a real headless Chromium driven by Playwright: ``kompas
serve`` runs as its own process on the bundled samples; every page is visited and
screenshotted (into ``test-artifacts/``), its figures compared with the CLI's ``--json``,
the HTMX interactions clicked through, French switched on, a POST sent with its CSRF
token, and hostile posts shown without anything executing.

Chromium is Debian's (``apt-get install chromium chromium-driver``), never a download.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import (
    BLUESKY_CAR,
    DATA,
    LINKEDIN_EXPORT,
    MASTODON_ARCHIVE,
    OPML,
    WEB_AND_LIFE_STRATEGY,
    X_ARCHIVE,
)
from conftest import Kompas as Cli

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts" / "screenshots"
PAGES = {
    "overview": "/",
    "inbox": "/inbox",
    "post": "/post",
    "community": "/community",
    "people": "/people",
    "feeds": "/feeds",
    "strategy": "/strategy",
    "data": "/data",
}

if not CHROMIUM.exists():  # pragma: no cover - CI installs it; say so loudly elsewhere
    if os.environ.get("CI"):
        raise RuntimeError("CI must install Debian's chromium: apt-get install -y chromium")
    pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)", allow_module_level=True)

from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright  # noqa: E402


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _kompas_command() -> list[str]:
    script = Path(sys.executable).with_name("kompas")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from kompas.cli import main; main()"]


@dataclass
class Server:
    """A running ``kompas serve`` and the CLI on the same workspace."""

    cli: Cli
    url: str
    process: subprocess.Popen[bytes] = field(repr=False)
    output: str = ""


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Server]]:
    """Starts ``kompas serve`` on a fresh workspace with the given exports imported."""
    started: list[Server] = []

    def start(
        *exports: tuple[str, Path],
        strategy: bool = False,
        token: str | None = None,
        setup: Callable[[Cli], None] | None = None,
    ) -> Server:
        home = tmp_path_factory.mktemp("serve") / "home"
        cli = Cli(home)
        for kind, path in exports:
            result = cli("import", kind, path)
            assert result.exit_code == 0, result.output
        if strategy:
            assert cli("strategy", "init").exit_code == 0
        if setup is not None:
            setup(cli)
        port = _free_port()
        command = [*_kompas_command(), "--home", str(home), "serve", "--port", str(port)]
        env = dict(os.environ)
        headers = {}
        if token:  # beyond loopback, with the token from the environment
            command += ["--host", "0.0.0.0"]
            env["KOMPAS_TOKEN"] = token
            headers["Authorization"] = f"Bearer {token}"
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(url + "/static/kompas.css", timeout=1, headers=headers)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                raise RuntimeError(f"kompas serve did not start: {output}")
            time.sleep(0.1)
        server = Server(cli, url, process)
        started.append(server)
        return server

    yield start
    for server in started:
        server.process.terminate()
        if server.process.stdout is not None:
            server.output = server.process.stdout.read().decode()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()


@pytest.fixture(scope="module")
def samples(serve: Callable[..., Server]) -> Server:
    return serve(
        ("x-archive", X_ARCHIVE),
        ("mastodon-archive", MASTODON_ARCHIVE),
        ("linkedin", LINKEDIN_EXPORT),
        ("bluesky-car", BLUESKY_CAR),
        ("opml", OPML),
    )


SECRET = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def feed_server() -> Iterator[str]:
    """The rules pillar's feed fixtures served on 127.0.0.1 (no network)."""
    folder = str(DATA / "feeds")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=folder, **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def pull_feeds_from(feed_server: str) -> Callable[[Cli], None]:
    """A setup step: starter rules and two feeds pulled from ``feed_server``."""

    def pull_feeds(cli: Cli) -> None:
        for name in ("simonwillison-atom.xml", "pythoninsider-rss.xml"):
            assert cli("feeds", "add", f"{feed_server}/{name}").exit_code == 0
        assert cli("rules", "init").exit_code == 0
        # Its own process: the pull runs an event loop, and Playwright's is running here.
        pulled = subprocess.run(
            [*_kompas_command(), "--home", str(cli.home), "feeds", "pull"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert pulled.returncode == 0, pulled.stderr

    return pull_feeds


@pytest.fixture(scope="module")
def guarded(serve: Callable[..., Server], feed_server: str) -> Server:
    """Bluesky sample, a starter strategy, starter rules and two pulled feeds; bound
    beyond loopback with a token."""
    return serve(
        ("bluesky-car", BLUESKY_CAR),
        strategy=True,
        token=SECRET,
        setup=pull_feeds_from(feed_server),
    )


@pytest.fixture(scope="module")
def planned(serve: Callable[..., Server], feed_server: str) -> Server:
    """The X and Bluesky samples, a starter strategy, starter rules and two pulled feeds."""
    return serve(
        ("x-archive", X_ARCHIVE),
        ("bluesky-car", BLUESKY_CAR),
        strategy=True,
        setup=pull_feeds_from(feed_server),
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


@dataclass
class Watched:
    """A page plus everything the browser complained about (CSP violations show here)."""

    page: Page
    errors: list[str]
    dialogs: list[str]


@pytest.fixture
def tab(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    dialogs: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))

    def on_dialog(dialog: object) -> None:
        dialogs.append(getattr(dialog, "message", "dialog"))
        dialog.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", on_dialog)
    yield Watched(page, errors, dialogs)
    context.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def figure(page: Page, key: str) -> str:
    value = page.locator(f'[data-key="{key}"]').first.get_attribute("data-value")
    assert value is not None, key
    return value


def glance_loaded(page: Page) -> None:
    """The overview's pillar cards fill in over HTMX; wait until every one has."""
    page.wait_for_selector('#glance .card[data-state="loading"]', state="detached", timeout=60_000)


def test_every_page_renders_and_is_screenshotted(samples: Server, tab: Watched) -> None:
    page = tab.page
    for name, path in PAGES.items():
        response = page.goto(samples.url + path)
        assert response is not None and response.status == 200, name
        if name == "overview":
            glance_loaded(page)
            states = page.eval_on_selector_all(
                "#glance .card", "els => els.map(e => e.dataset.state)"
            )
            assert states == ["available"] * 4
        assert page.locator(f"#nav-{name}").get_attribute("aria-current") == "page"
        assert page.locator("h1").inner_text().strip()
        # htmx loaded from the package itself (no CDN), under the strict CSP.
        assert page.evaluate("typeof window.htmx") == "object", name
        shot(page, name)
    assert tab.errors == []


def test_figures_shown_equal_the_cli_json(samples: Server, tab: Watched) -> None:
    page = tab.page
    status = json.loads(samples.cli("status", "--json").stdout)
    for path in ("/", "/data"):
        page.goto(samples.url + path)
        for platform, counts in status["platforms"].items():
            for name, count in counts.items():
                assert figure(page, f"{platform}.{name}") == str(count), (path, platform, name)
                shown = page.locator(f'[data-key="{platform}.{name}"]').first.inner_text()
                if count is None:  # no export or sync lists it: never shown as 0
                    assert shown == "no data", (path, platform, name)
                    continue
                assert int(shown.replace(",", "")) == count
    assert page.locator("#feeds-followed").get_attribute("data-value") == str(status["feeds"])

    community = json.loads(samples.cli("community", "--all", "--json").stdout)
    page.goto(samples.url + "/community?all=true")
    for key in ("replies_given", "conversations", "people_interacted", "reposts_of_others"):
        for platform, value in community[key].items():
            assert figure(page, f"{key}.{platform}") == str(value), (key, platform)
    assert (
        page.locator("#community-style").get_attribute("data-value") == (community["style"]["all"])
    )
    assert tab.errors == []


def test_htmx_interactions(samples: Server, tab: Watched) -> None:
    page = tab.page
    page.goto(samples.url + "/")
    glance_loaded(page)
    assert page.locator("#activity").get_attribute("data-days") == "7"
    page.click("#window-28")
    page.wait_for_selector('#activity[data-days="28"]')
    assert page.url == samples.url + "/"  # swapped in place by HTMX, no navigation
    shot(page, "overview-28-days")

    page.goto(samples.url + "/data")
    page.select_option("#platform-filter", "mastodon")
    page.wait_for_selector('#posts[data-platform="mastodon"]')
    platforms = page.eval_on_selector_all(
        "#posts article.post", "els => [...new Set(els.map(e => e.dataset.platform))]"
    )
    assert platforms == ["mastodon"]
    assert page.url == samples.url + "/data"

    page.goto(samples.url + "/community")
    page.click("#period-all")
    page.wait_for_selector("#period-all.current")
    assert page.url == samples.url + "/community"
    page.fill("#since", "not-a-date")
    page.click("#period-button")
    page.wait_for_selector(".problem")
    assert "is not a date" in page.locator(".problem").inner_text()
    assert tab.errors == []


def test_people_research_and_audit_over_htmx(samples: Server, tab: Watched) -> None:
    page = tab.page
    expected = json.loads(samples.cli("people", "research", "x:milahu104", "--json").stdout)
    page.goto(samples.url + "/people")
    page.fill("#account", "x:milahu104")
    page.click("#research-button")
    page.wait_for_selector("#research-verdict", timeout=30_000)
    assert page.locator("#research-verdict").get_attribute("data-value") == expected["verdict"]
    assert figure(page, "research.points") == str(expected["points"])
    assert page.url == samples.url + "/people"
    audited = json.loads(samples.cli("people", "audit", "--json").stdout)
    page.click("#audit-button")
    page.wait_for_selector('[data-key="audit.followers"]', timeout=30_000)
    assert figure(page, "audit.followers") == str(audited["followers"])
    shot(page, "people-research")
    assert tab.errors == []


def test_feeds_page_lists_the_feeds_and_switches_window(samples: Server, tab: Watched) -> None:
    page = tab.page
    listed = json.loads(samples.cli("feeds", "list", "--json").stdout)
    digest = json.loads(samples.cli("digest", "--json").stdout)
    page.goto(samples.url + "/feeds")
    rows = page.eval_on_selector_all(
        "#feed-status tr[data-feed]", "els => els.map(e => e.dataset.feed)"
    )
    assert rows == [feed["url"] for feed in listed]
    kept = sum(len(group["entries"]) for group in digest["groups"])
    assert page.locator("#digest-kept").get_attribute("data-value") == str(kept)
    page.click("#digest-30d")
    page.wait_for_selector("#digest-30d.current")
    assert page.url == samples.url + "/feeds"
    assert tab.errors == []


def test_digest_and_explanations(guarded: Server, tab: Watched) -> None:
    page = tab.page
    digest = json.loads(guarded.cli("digest", "--since", "30d", "--json").stdout)
    entries = [entry for group in digest["groups"] for entry in group["entries"]]
    assert entries  # the fixtures were pulled and kept
    page.goto(guarded.url + f"/feeds?since=30d&token={SECRET}")
    assert page.url == guarded.url + "/feeds?since=30d"
    assert page.locator("#digest-kept").get_attribute("data-value") == str(len(entries))
    shown = page.eval_on_selector_all("li.entry", "els => els.map(e => e.dataset.item)")
    assert shown == [entry["id"] for entry in entries]
    hits = Counter(rule for entry in entries for rule in entry["rules"])
    for rule, count in hits.items():
        assert figure(page, f"hits.{rule}") == str(count)
    first = entries[0]["id"]
    explained = json.loads(guarded.cli("rules", "explain", first, "--json").stdout)
    page.click(f'li.entry[data-item="{first}"] .explain-button')
    verdict = page.wait_for_selector(f'li.entry[data-item="{first}"] .why [data-value]')
    assert verdict is not None
    assert verdict.get_attribute("data-value") == ("kept" if explained["kept"] else "dropped")
    for fired in explained["fired"]:
        assert (
            str(fired["rule"]) in page.locator(f'li.entry[data-item="{first}"] .why').inner_text()
        )
    shot(page, "feeds-digest")
    page.click("#digest-1d")
    page.wait_for_selector("#digest-1d.current")
    assert page.url == guarded.url + "/feeds?since=30d"  # swapped in place by HTMX
    assert tab.errors == []


def test_strategy_page_shows_the_review(guarded: Server, tab: Watched) -> None:
    server = guarded
    review = json.loads(server.cli("review", "--json").stdout)
    page = tab.page
    page.goto(server.url + f"/strategy?token={SECRET}")
    for index, kr in enumerate(review["key_results"]):
        value = "" if kr["value"] is None else str(kr["value"])
        assert figure(page, f"kr.{index}") == value
    assert figure(page, "unaligned.posts") == str(review["unaligned"]["posts"])
    shot(page, "strategy-review")
    page.click("#review-30")
    page.wait_for_selector("#review-30.current", timeout=30_000)
    assert page.url == server.url + "/strategy"  # swapped in place by HTMX
    assert tab.errors == []


def test_teaching_kompas_with_the_right_and_wrong_buttons(
    serve: Callable[..., Server], tab: Watched
) -> None:
    def write_strategy(cli: Cli) -> None:
        (cli.home / "strategy.yaml").write_text(WEB_AND_LIFE_STRATEGY, encoding="utf-8")

    server = serve(("mastodon-archive", MASTODON_ARCHIVE), setup=write_strategy)
    page = tab.page
    page.goto(server.url + "/strategy?date=2024-07-14&days=30")
    rows = page.locator("#post-alignment tbody tr")
    assert rows.count() > 0
    unaligned = page.locator('#post-alignment tr[data-labels=""]').first
    post = unaligned.get_attribute("data-post")
    assert post
    unaligned.locator("select").select_option("life")
    unaligned.locator("button.teach-wrong").click()
    row = f'#post-alignment tr[data-post="{post}"]'
    page.wait_for_selector(f'{row}[data-taught="true"]', timeout=60_000)
    assert page.locator(row).get_attribute("data-labels") == "life"
    assert "1 correction so far" in page.locator("#teach-notice").inner_text()
    assert page.url == server.url + "/strategy?date=2024-07-14&days=30"  # swapped in place
    aligned = server.cli("strategy", "align", "--json", "--days", "30", "--date", "2024-07-14")
    by_post = {r["post"]: r for r in json.loads(aligned.stdout)}
    assert [p["pillar"] for p in by_post[post]["pillars"]] == ["life"]
    assert "you taught kompas" in by_post[post]["reason"]
    shot(page, "strategy-teach")
    # "Right" keeps what kompas said and marks it taught; in French this time.
    page.goto(server.url + "/strategy?date=2024-07-14&days=30&lang=fr")
    other = page.locator('#post-alignment tr[data-taught="false"]').first
    second = other.get_attribute("data-post")
    labels = other.get_attribute("data-labels")
    other.locator("button.teach-right").click()
    page.wait_for_selector(f'#post-alignment tr[data-post="{second}"][data-taught="true"]')
    assert (
        page.locator(f'#post-alignment tr[data-post="{second}"]').get_attribute("data-labels")
        == labels
    )
    assert "2 corrections jusqu’ici" in page.locator("#teach-notice").inner_text()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert tab.errors == []


def test_french_interface(samples: Server, tab: Watched) -> None:
    page = tab.page
    page.goto(samples.url + "/")
    page.click("#lang-fr")
    page.wait_for_selector('html[lang="fr"]')
    assert page.locator("#nav-overview").inner_text() == "Vue d’ensemble"
    glance_loaded(page)  # the HTMX fragments speak French too
    assert "Répartition" not in page.locator("#glance").inner_text()
    assert "Communauté" in page.locator("#glance-community").inner_text()
    shot(page, "overview-fr")
    page.click("#nav-data")  # the language carries on across pages
    page.wait_for_selector('html[lang="fr"]')
    assert page.locator("h1").inner_text() == "Données"
    page.click("#nav-community")
    page.click("#period-all")  # and into HTMX fragments
    page.wait_for_selector("#period-all.current")
    assert "Répartition" in page.locator("#community-report").inner_text()
    shot(page, "community-fr")
    assert tab.errors == []


def test_french_from_the_browser_language(samples: Server, browser: Browser) -> None:
    context = browser.new_context(locale="fr-FR", extra_http_headers={"Accept-Language": "fr"})
    page = context.new_page()
    page.goto(samples.url + "/strategy")
    assert page.locator("html").get_attribute("lang") == "fr"
    context.close()


def test_linking_accounts_posts_with_csrf(samples: Server, tab: Watched) -> None:
    page = tab.page
    status = json.loads(samples.cli("status", "--json").stdout)
    assert "x" in status["platforms"] and "mastodon" in status["platforms"]
    page.goto(samples.url + "/people")
    page.fill("#first", "x:milahu104")
    page.fill("#second", "x:milahu104")
    page.click("#link-button")
    page.wait_for_load_state()
    # One account twice is refused, and the page says why.
    assert "two different accounts" in page.locator(".problem").inner_text()
    assert json.loads(samples.cli("people", "links", "--json").stdout) == {}
    page.goto(samples.url + "/people")
    page.fill("#first", "x:milahu104")
    page.fill("#second", "mastodon:@dealingwith@indieweb.social")
    page.fill("#person", "Browser test")
    page.click("#link-button")
    page.wait_for_selector('[data-person="Browser test"]')
    assert set(json.loads(samples.cli("people", "links", "--json").stdout)) == {"Browser test"}
    # A page elsewhere cannot post: no token, wrong origin.
    refused = httpx.post(
        samples.url + "/people/link",
        data={"first": "x:milahu104", "second": "mastodon:@dealingwith@indieweb.social"},
        headers={"Origin": "https://evil.example"},
    )
    assert refused.status_code == 403
    # The one refused link answered 400 on purpose; nothing else may have failed.
    assert [e for e in tab.errors if "400 (Bad Request)" not in e] == []


def test_hostile_posts_never_execute(serve: Callable[..., Server], tab: Watched) -> None:
    server = serve(("mastodon-archive", DATA / "xss" / "mastodon"))
    page = tab.page
    for path in ("/", "/data", "/community?all=true", "/people"):
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        if path == "/":
            glance_loaded(page)
        for link in page.locator("#posts a, #posts img, #posts svg").all():
            link.hover(timeout=2000)
        assert page.evaluate("window.__xss") is None, path
    page.goto(server.url + "/data")
    page.select_option("#platform-filter", "mastodon")  # through an HTMX swap too
    page.wait_for_selector('#posts[data-platform="mastodon"]')
    for link in page.locator("#posts .content a").all():
        link.click(timeout=2000, modifiers=["Control"], no_wait_after=True)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#posts article.post").count() == 10
    assert "hello" in page.locator("#posts").inner_text()
    shot(page, "xss-data")
    assert tab.dialogs == []
    assert [e for e in tab.errors if "__xss" in e] == []


def test_token_beyond_loopback(guarded: Server, browser: Browser) -> None:
    secret, server = SECRET, guarded
    assert httpx.get(server.url + "/").status_code == 401
    assert httpx.get(server.url + "/data?token=wrong").status_code == 401
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/data?token={secret}")
    assert page.url == server.url + "/data"  # the token left the address bar at once
    assert page.locator("#nav-data").get_attribute("aria-current") == "page"
    page.select_option("#platform-filter", "bluesky")  # HTMX requests carry the cookie
    page.wait_for_selector('#posts[data-platform="bluesky"]')
    assert secret not in page.content()
    context.close()
    server.process.terminate()
    server.process.wait(timeout=10)
    assert server.process.stdout is not None
    assert secret not in server.process.stdout.read().decode()  # never printed or logged


PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_page_fits_a_390_px_phone(
    samples: Server, planned: Server, browser: Browser, lang: str
) -> None:
    """Nothing makes the page wider than the phone: wide tables and charts scroll inside
    their own box, never the page."""
    context = browser.new_context(viewport=PHONE, locale="en-GB", is_mobile=True)
    page = context.new_page()
    # A first review of the X archive takes seconds on a busy machine (cached afterwards).
    page.set_default_timeout(60_000)
    wide: dict[str, int] = {}
    visits = [(samples, name, path) for name, path in PAGES.items()]
    visits += [
        (samples, "community-all", "/community?all=true"),
        (samples, "people-audit", "/people?audit=1"),
    ]
    visits += [(planned, "strategy-planned", "/strategy"), (planned, "feeds-planned", "/feeds")]
    for server, name, path in visits:
        page.goto(f"{server.url}{path}{'&' if '?' in path else '?'}lang={lang}")
        if path == "/":
            glance_loaded(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[name] = width
        shot(page, f"phone-{lang}-{name}")
    context.close()
    assert wide == {}


def test_lists_plan_and_apply_from_the_feeds_page(
    serve: Callable[..., Server], tab: Watched
) -> None:
    """Timeline posts from a Mastodon instance on 127.0.0.1 (recorded response shapes), rules
    that route #python authors to a list: the Feeds & rules page names each post's timeline
    and says why it is there, shows the lists plan as a diff, and its Apply button (a POST
    with the page's CSRF token) makes it."""
    from sync_support import mastodon_instance
    from test_lists_mastodon import members, python_authors, workspace_with_rules

    page = tab.page
    with mastodon_instance() as fake:
        server = serve(setup=lambda cli: workspace_with_rules(fake, cli.home))
        wanted = python_authors(fake)
        to_add = set(wanted) - members(fake, "43")
        page.goto(server.url + "/feeds?since=30d")
        sources = page.eval_on_selector_all(
            "li.entry .source", "els => els.map(e => e.textContent)"
        )
        assert sources and set(sources) <= {
            "mastodon:home",
            "mastodon:list:Close friends",
            "mastodon:list:Python people",
        }
        first = page.locator("li.entry").first
        first.locator(".explain-button").click()
        why = first.locator(".why .explain-source")
        why.wait_for()
        assert why.inner_text().startswith("from mastodon:")
        page.click("#lists-plan-button")
        page.wait_for_selector("#lists-apply")
        shown = page.eval_on_selector_all("li.add", "els => els.map(e => e.dataset.account)")
        assert set(shown) == to_add
        assert fake.list_writes == []
        shot(page, "feeds-lists-plan")
        page.click("#lists-apply")
        page.wait_for_selector("#lists-applied")
        assert page.locator("#lists-applied").get_attribute("data-added") == str(len(to_add))
        assert members(fake, "43") == set(wanted)
        assert page.locator("#lists-nothing").count() == 1
        shot(page, "feeds-lists-applied")
        page.goto(server.url + "/feeds?lang=fr")
        page.click("#lists-plan-button")
        page.wait_for_selector("#lists-nothing")
        assert "Vos listes sont à jour" in page.locator("#lists-report").inner_text()
    assert tab.errors == []
