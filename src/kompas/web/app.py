"""The dashboard: a FastAPI app whose pages draw what the store and the pillars compute.

The web layer only reads, calls and renders: every figure comes from a ``kompas.store``
query or a pillar's public function, the same ones the CLI prints, so the dashboard and
``--json`` can never disagree. Platform HTML is sanitised with nh3 before display;
everything else goes through Jinja's autoescaping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from threading import Lock
from typing import Annotated, Any
from urllib.parse import urlencode

import jinja2
import sqlalchemy as sa
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup
from starlette.datastructures import FormData

from kompas import i18n as messages
from kompas.errors import KompasError
from kompas.store import dashboard as store
from kompas.store import identities
from kompas.store.queries import feed_count, status
from kompas.store.status import PlatformCounts
from kompas.text import sanitize_html
from kompas.web import charts, i18n, person, pillars
from kompas.web import post as post_page
from kompas.web.security import Guard, csrf_token, middleware, require_csrf

HERE = Path(__file__).parent
PAGES = ("overview", "inbox", "post", "community", "people", "feeds", "strategy", "data")
PAGE_PATHS = {
    "overview": "/",
    "inbox": "/inbox",
    "post": "/post",
    "community": "/community",
    "people": "/people",
    "feeds": "/feeds",
    "strategy": "/strategy",
    "data": "/data",
}
#: The snoozes the Inbox page offers.
INBOX_SNOOZES = ("1d", "3d", "1w")
STATUS_COLUMNS = ("posts", "replies", "reposts", "likes", "bookmarks", "followers", "following")
WINDOWS = (7, 28)
#: The community figures the Community page tabulates (keys of the pillar's ``Figures``).
COMMUNITY_ROWS = (
    "replies_given",
    "replies_received",
    "conversations",
    "conversations_started",
    "conversations_joined",
    "median_reply_minutes",
    "unanswered_share",
    "reposts_of_others",
    "links_shared",
    "self_promotion",
    "distinct_people_shared",
    "likes_given",
    "bookmarks_given",
    "people_interacted",
    "people_reached",
    "new_connections",
    "reciprocity",
    "reciprocity_basis",
    "follow_back_of",
    "follow_back",
    "mutuals",
    "automated_accounts",
    "followers",
    "following",
    "posts",
)


class Figures:
    """Figures that cost a scan of the whole store (status counts, pillar reports),
    computed once per store generation (:func:`kompas.store.dashboard.generation`, which
    changes with every write) and reused until the data changes. Old entries are dropped
    when the generation moves on."""

    def __init__(self) -> None:
        self._lock = Lock()
        self._values: dict[str, tuple[tuple[Any, ...], Any]] = {}

    def get(self, connection: sa.Connection, name: str, compute: Callable[[], Any]) -> Any:
        """The value of ``name`` for the store's current generation."""
        generation = store.generation(connection)
        with self._lock:
            cached = self._values.get(name)
        if cached is not None and cached[0] == generation:
            return cached[1]
        value = compute()
        with self._lock:
            stale = [k for k, (g, _) in self._values.items() if g != generation]
            for key in stale:
                del self._values[key]
            self._values[name] = (generation, value)
        return value


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["PAGES"] = PAGES
    env.globals["PAGE_PATHS"] = PAGE_PATHS
    env.globals["COMMUNITY_ROWS"] = COMMUNITY_ROWS
    env.filters["safe_html"] = lambda html: Markup(sanitize_html(html or ""))
    env.globals["person_path"] = person.page_path
    env.globals["spark"] = lambda trend: charts.sparkline([p.get("value") for p in trend])
    return env


def create_app(engine: sa.Engine, guard: Guard | None = None, home: Path | None = None) -> FastAPI:
    """The dashboard over ``engine``'s store, defended by ``guard`` (loopback, no token, any
    Host when omitted: what in-process tests use). ``home`` is the workspace folder, where
    the user's own files live (strategy.yaml, rules.yaml)."""
    guard = guard or Guard()
    app = FastAPI(title="kompas", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.guard = guard
    app.middleware("http")(middleware(guard))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    env = _environment()
    figures = Figures()

    @contextmanager
    def connect() -> Iterator[sa.Connection]:
        with engine.connect() as connection:
            yield connection

    def _model_reason(code: str, value: float | None = None, lang: str = "en") -> str:
        """A people-pillar reason code in words (imported when a page shows one)."""
        from kompas.people.texts import reason

        return reason(code, value, lang)

    def _people_say(code: str, lang: str = "en", **params: Any) -> str:
        """A people-pillar text (``kompas.people.texts``) in ``lang``."""
        from kompas.people.texts import say

        return say(code, lang, **params)

    def render(request: Request, template: str, page: str, **context: Any) -> HTMLResponse:
        lang = i18n.choose(request.query_params.get("lang"), request.headers.get("accept-language"))
        explicit = request.query_params.get("lang") in i18n.LANGUAGES

        def url(path: str, **params: Any) -> str:
            query = {k: v for k, v in params.items() if v is not None}
            if explicit:
                query.setdefault("lang", lang)
            return path + (f"?{urlencode(query)}" if query else "")

        def switch(to: str) -> str:
            rest = {k: v for k, v in request.query_params.items() if k != "lang"}
            return request.url.path + "?" + urlencode({**rest, "lang": to})

        html = env.get_template(template).render(
            request=request,
            page=page,
            lang=lang,
            t=partial(i18n.translate, lang),
            say=partial(messages.say, lang=lang),
            model_reason=partial(_model_reason, lang=lang),
            people_say=partial(_people_say, lang=lang),
            marked=partial(i18n.marked, lang),
            n=_number(lang),
            url=url,
            switch=switch,
            csrf=csrf_token(request),
            **context,
        )
        return HTMLResponse(html)

    def status_counts(connection: sa.Connection) -> dict[str, PlatformCounts]:
        counts: dict[str, PlatformCounts] = figures.get(
            connection, "status", lambda: status(connection)
        )
        return counts

    def activity(connection: sa.Connection, days: int) -> dict[str, Any]:
        """The Overview's window counts, reused until the store changes (they read every
        own post of the last 12 weeks: ~0.5 s on a busy 100,000-post history)."""
        data: dict[str, Any] = figures.get(
            connection, f"activity:{days}", lambda: count_activity(connection, days)
        )
        # Without data the window ends now, which moves: counted again (nothing to read).
        return data if data["has_data"] else count_activity(connection, days)

    def count_activity(connection: sa.Connection, days: int) -> dict[str, Any]:
        own = store.self_accounts(connection)
        latest = store.latest_activity(connection, own)
        as_of = latest or datetime.now(UTC)
        end = as_of + timedelta(microseconds=1)
        span = timedelta(days=days)
        this = store.window_counts(connection, own, end - span, end)
        last = store.window_counts(connection, own, end - 2 * span, end - span)
        rows = []
        for group, this_counts, last_counts in (
            ("posts", this.posts, last.posts),
            ("interactions", this.interactions, last.interactions),
        ):
            for kind in sorted(set(this_counts) | set(last_counts)):
                now_, before = this_counts.get(kind, 0), last_counts.get(kind, 0)
                rows.append(
                    {
                        "group": group,
                        "kind": kind,
                        "this": now_,
                        "last": before,
                        "delta": now_ - before,
                    }
                )
        weeks = store.weekly_posts(connection, own, end, 12)
        labels = [(end - timedelta(days=7 * (12 - i))).strftime("%d/%m") for i in range(12)]
        return {
            "days": days,
            "as_of": as_of,
            "has_data": latest is not None,
            "this": this,
            "last": last,
            "rows": rows,
            "weeks": weeks,
            "week_labels": labels,
        }

    def week_chart(lang: str, data: dict[str, Any]) -> Markup:
        return charts.bar_chart(
            data["week_labels"],
            data["weeks"],
            i18n.translate(lang, "overview.chart_title"),
            lang=lang,
        )

    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request, days: Annotated[int, Query()] = 7) -> HTMLResponse:
        days = days if days in WINDOWS else 7
        with connect() as connection:
            counts = status_counts(connection)
            data = activity(connection, days)
        return render(
            request,
            "overview.html",
            "overview",
            counts=counts,
            columns=STATUS_COLUMNS,
            activity=data,
            chart=week_chart,
            glance_pillars=pillars.GLANCE_PILLARS,
            windows=WINDOWS,
        )

    @app.get("/fragments/glance/{pillar}", response_class=HTMLResponse)
    def glance_fragment(request: Request, pillar: str) -> HTMLResponse:
        if pillar not in pillars.GLANCE_PILLARS:
            return HTMLResponse("unknown pillar", status_code=404)
        with connect() as connection:
            own = store.self_accounts(connection)
            end = (store.latest_activity(connection, own) or datetime.now(UTC)) + timedelta(
                microseconds=1
            )
            view: pillars.View = figures.get(
                connection,
                f"glance:{pillar}:{end.isoformat()}",
                lambda: pillars.glance(connection, pillar, end, home),
            )
        return render(request, "_glance.html", "overview", name=pillar, view=view)

    @app.get("/fragments/today", response_class=HTMLResponse)
    def today_fragment(request: Request) -> HTMLResponse:
        with connect() as connection:
            view: pillars.View = figures.get(
                connection,
                # Snoozes run out with time: recomputed every hour too.
                f"today:{_modified(home, 'strategy.yaml')}:{_modified(home, 'rules.yaml')}"
                f":{datetime.now(UTC):%Y-%m-%d %H}",
                lambda: pillars.today_plan(connection, home),
            )
        return render(request, "_today.html", "overview", view=view)

    def inbox_page(
        request: Request, platform: str, show_all: bool, problem: Any = None
    ) -> HTMLResponse:
        with connect() as connection:
            view = pillars.inbox(connection, home, platform, show_all)
        page = render(
            request,
            "inbox.html",
            "inbox",
            view=view,
            platform=platform,
            show_all=show_all,
            mark_problem=problem,
            durations=INBOX_SNOOZES,
        )
        if problem is not None:
            page.status_code = 400
        return page

    @app.get("/inbox", response_class=HTMLResponse)
    def inbox(
        request: Request,
        platform: Annotated[str, Query(max_length=16)] = "",
        show_all: Annotated[bool, Query(alias="all")] = False,
    ) -> HTMLResponse:
        return inbox_page(request, platform, show_all)

    @app.post("/inbox/mark")
    def inbox_mark(
        request: Request, form: Annotated[FormData | None, Depends(require_csrf)]
    ) -> Response:
        """Done, snooze, ignore or undo on one item, stored as ``kompas inbox done|snooze|
        ignore|undo`` stores it; then back to the Inbox (a problem shows on the page, 400)."""
        from kompas.inbox import mark, parse_duration, unmark

        values = form if form is not None else FormData()
        item = str(values.get("item", "")).strip()[:600]
        action = str(values.get("action", ""))
        duration = str(values.get("duration", "3d"))[:16]
        platform = str(values.get("platform", ""))[:16]
        show_all = str(values.get("all", "")) == "true"
        try:
            with engine.begin() as connection:
                if action == "undo":
                    unmark(connection, item)
                elif action in ("done", "ignore", "snooze"):
                    state = {"done": "done", "ignore": "ignored", "snooze": "snoozed"}[action]
                    length = parse_duration(duration) if action == "snooze" else None
                    mark(connection, item, state, length)
                else:
                    raise KompasError(messages.message("inbox.unknown_action", action=action))
        except KompasError as error:
            return inbox_page(request, platform, show_all, messages.said(error))
        params = {"done": action, **({"platform": platform} if platform else {})}
        if show_all:
            params["all"] = "true"
        return _back(request, "/inbox", **params)

    @app.get("/fragments/activity", response_class=HTMLResponse)
    def activity_fragment(request: Request, days: Annotated[int, Query()] = 7) -> HTMLResponse:
        days = days if days in WINDOWS else 7
        with connect() as connection:
            data = activity(connection, days)
        return render(
            request, "_activity.html", "overview", activity=data, chart=week_chart, windows=WINDOWS
        )

    def community_view(
        connection: sa.Connection, since: str, until: str, all_time: bool
    ) -> pillars.View:
        # The default period ends where the data ends (or today): keyed by the day, so
        # its figures are computed once a day (or once per change of data).
        today = datetime.now(UTC).date().isoformat()
        view: pillars.View = figures.get(
            connection,
            f"community:{since}:{until}:{all_time}:{today}",
            lambda: pillars.community(connection, since, until, all_time, own_domains()),
        )
        return view

    def own_domains() -> tuple[str, ...]:
        """The user's own sites from strategy.yaml (a broken file shows on its own page)."""
        if home is None or not (home / "strategy.yaml").exists():
            return ()
        from kompas.strategy import load_strategy

        try:
            return load_strategy(home / "strategy.yaml").domains
        except KompasError:
            return ()

    @app.get("/community", response_class=HTMLResponse)
    def community(
        request: Request,
        since: Annotated[str, Query(max_length=32)] = "",
        until: Annotated[str, Query(max_length=32)] = "",
        all_time: Annotated[bool, Query(alias="all")] = False,
    ) -> HTMLResponse:
        with connect() as connection:
            view = community_view(connection, since, until, all_time)
        return render(request, "community.html", "community", view=view, chart=charts)

    @app.get("/fragments/community", response_class=HTMLResponse)
    def community_fragment(
        request: Request,
        since: Annotated[str, Query(max_length=32)] = "",
        until: Annotated[str, Query(max_length=32)] = "",
        all_time: Annotated[bool, Query(alias="all")] = False,
    ) -> HTMLResponse:
        with connect() as connection:
            view = community_view(connection, since, until, all_time)
        return render(request, "_community.html", "community", view=view, chart=charts)

    def audit_view(connection: sa.Connection) -> pillars.View:
        view: pillars.View = figures.get(connection, "audit", lambda: pillars.audit(connection))
        return view

    def clubs_view(connection: sa.Connection) -> pillars.View:
        view: pillars.View = figures.get(connection, "clubs", lambda: pillars.clubs(connection))
        return view

    @app.get("/people", response_class=HTMLResponse)
    def people(
        request: Request,
        account: Annotated[str | None, Query(max_length=600)] = None,
        audit: Annotated[bool, Query()] = False,
        clubs: Annotated[bool, Query()] = False,
    ) -> HTMLResponse:
        with connect() as connection:
            linked = identities.people(connection)
            view = pillars.people(connection, account)
            audited = audit_view(connection) if audit else None
            found_clubs = clubs_view(connection) if clubs else None
        return render(
            request,
            "people.html",
            "people",
            linked=linked,
            view=view,
            account=account or "",
            audit=audited,
            clubs=found_clubs,
            link_error=None,
        )

    @app.get("/fragments/clubs", response_class=HTMLResponse)
    def clubs_fragment(request: Request) -> HTMLResponse:
        with connect() as connection:
            view = clubs_view(connection)
        return render(request, "_clubs.html", "people", view=view)

    @app.get("/fragments/audit", response_class=HTMLResponse)
    def audit_fragment(request: Request) -> HTMLResponse:
        with connect() as connection:
            view = audit_view(connection)
        return render(request, "_audit.html", "people", view=view)

    @app.get("/fragments/research", response_class=HTMLResponse)
    def research_fragment(
        request: Request, account: Annotated[str, Query(max_length=600)] = ""
    ) -> HTMLResponse:
        with connect() as connection:
            view = pillars.people(connection, account or None)
        return render(request, "_research.html", "people", view=view, account=account)

    @app.post("/people/link")
    def link_accounts(
        request: Request, form: Annotated[FormData | None, Depends(require_csrf)]
    ) -> Response:
        values = form if form is not None else FormData()
        refs_text = [str(values.get("first", "")).strip(), str(values.get("second", "")).strip()]
        name = str(values.get("person", "")).strip() or None
        try:
            with engine.begin() as connection:
                refs = [identities.resolve(connection, r) for r in refs_text if r]
                if len(set(refs)) < 2:
                    raise KompasError(messages.message("errors.two_accounts_to_link"))
                identities.link(connection, refs, name)
        except KompasError as error:
            # Shown on the page itself (400), never carried in a URL someone could forge.
            with connect() as connection:
                linked = identities.people(connection)
            page = render(
                request,
                "people.html",
                "people",
                linked=linked,
                view=pillars.View(True, None),
                account="",
                audit=None,
                clubs=None,
                link_error=messages.said(error),
            )
            page.status_code = 400
            return page
        return _back(request, "/people", done="linked")

    @app.get("/feeds", response_class=HTMLResponse)
    def feeds(
        request: Request,
        since: Annotated[str, Query(max_length=16)] = "7d",
        lists: Annotated[str, Query(max_length=16)] = "",
    ) -> HTMLResponse:
        with connect() as connection:
            subscriptions = feed_count(connection)
            view = pillars.feeds(connection, since)
        return render(
            request,
            "feeds.html",
            "feeds",
            view=view,
            subscriptions=subscriptions,
            windows=pillars.DIGEST_WINDOWS,
            lists_applied=lists == "applied",
        )

    @app.get("/fragments/feeds", response_class=HTMLResponse)
    def feeds_fragment(
        request: Request, since: Annotated[str, Query(max_length=16)] = "7d"
    ) -> HTMLResponse:
        with connect() as connection:
            view = pillars.feeds(connection, since)
        return render(request, "_feeds.html", "feeds", view=view, windows=pillars.DIGEST_WINDOWS)

    @app.get("/fragments/explain", response_class=HTMLResponse)
    def explain_fragment(
        request: Request, item: Annotated[str, Query(max_length=2048)] = ""
    ) -> HTMLResponse:
        with connect() as connection:
            explanation = pillars.explain(connection, item)
        return render(request, "_explain.html", "feeds", explanation=explanation, item=item)

    @app.get("/fragments/lists", response_class=HTMLResponse)
    def lists_fragment(request: Request) -> HTMLResponse:
        """The lists plan (it reads the platforms: fetched when asked for)."""
        from kompas.web.lists import view

        return render(request, "_lists.html", "feeds", lists=view(engine, home))

    @app.post("/lists/apply")
    def apply_lists(
        request: Request, form: Annotated[FormData | None, Depends(require_csrf)]
    ) -> Response:
        """The Apply button: make the plan (as ``kompas lists apply --yes``), then show
        what was done and the plan after it."""
        from kompas.web.lists import view

        done = view(engine, home, apply=True)
        htmx = bool(request.headers.get("hx-request"))
        if not htmx and done.problem is None:
            return _back(request, "/feeds", lists="applied")
        page = render(request, "_lists.html", "feeds", lists=done)
        if done.problem is not None and not htmx:
            page.status_code = 502 if done.unreachable else 400
        return page

    def strategy_view(connection: sa.Connection, date: str, days: int) -> pillars.View:
        days = days if days in (7, 30) else 7
        today = datetime.now(UTC).strftime("%Y-%m-%d")
        view: pillars.View = figures.get(
            connection,
            f"strategy:{date or today}:{days}:{_modified(home, 'strategy.yaml')}",
            lambda: pillars.strategy(connection, home, date, days),
        )
        return view

    @app.get("/strategy", response_class=HTMLResponse)
    def strategy(
        request: Request,
        date: Annotated[str, Query(max_length=16)] = "",
        days: Annotated[int, Query()] = 7,
    ) -> HTMLResponse:
        with connect() as connection:
            view = strategy_view(connection, date, days)
        return render(request, "strategy.html", "strategy", view=view, notice=None)

    @app.get("/fragments/strategy", response_class=HTMLResponse)
    def strategy_fragment(
        request: Request,
        date: Annotated[str, Query(max_length=16)] = "",
        days: Annotated[int, Query()] = 7,
    ) -> HTMLResponse:
        with connect() as connection:
            view = strategy_view(connection, date, days)
        return render(request, "_strategy.html", "strategy", view=view, notice=None)

    @app.post("/strategy/teach")
    def teach(
        request: Request, form: Annotated[FormData | None, Depends(require_csrf)]
    ) -> Response:
        """The "right" or "wrong, it is X" buttons on one post: stored as ``kompas strategy teach``
        stores it, then the Strategy page (or, for HTMX, its report) with the new
        alignment."""
        values = form if form is not None else FormData()
        post = str(values.get("post", "")).strip()[:600]
        date = str(values.get("date", "")).strip()[:16]
        days = 30 if str(values.get("days", "")) == "30" else 7
        verdict = str(values.get("verdict", ""))
        choice = str(values.get("pillar", "")).strip()
        lang = i18n.choose(request.query_params.get("lang"), request.headers.get("accept-language"))
        notice: Any = None
        if verdict == "right":
            chosen = [p for p in values.getlist("shown") if isinstance(p, str) and p]
        elif verdict == "wrong" and choice:
            chosen = [] if choice == "none" else [choice]
        else:
            notice = i18n.translate(lang, "strategy.teach_choose")
        problem = notice is not None
        if not problem:
            with engine.begin() as connection:
                taught = pillars.teach(connection, home, post, chosen)
            problem = taught.problem is not None
            notice = taught.problem or (taught.result.summary() if taught.result else None)
        htmx = bool(request.headers.get("hx-request"))
        if not htmx and not problem:
            return _back(request, "/strategy", days=str(days), **({"date": date} if date else {}))
        with connect() as connection:
            view = strategy_view(connection, date, days)
        page = render(
            request,
            "_strategy.html" if htmx else "strategy.html",
            "strategy",
            view=view,
            notice=notice,
            notice_problem=problem,
        )
        if problem and not htmx:
            page.status_code = 400
        return page

    @app.get("/data", response_class=HTMLResponse)
    def data(request: Request) -> HTMLResponse:
        with connect() as connection:
            counts = status_counts(connection)
            history = store.import_history(connection)
            own = store.self_accounts(connection)
            latest = store.latest_posts(connection, own)
            feeds_followed = feed_count(connection)
            sync = pillars.sync(connection)
            feed_problems = pillars.feed_problems(connection)
        return render(
            request,
            "data.html",
            "data",
            counts=counts,
            columns=STATUS_COLUMNS,
            history=history,
            own=own,
            posts=latest,
            feeds_followed=feeds_followed,
            sync=sync,
            feed_problems=feed_problems,
            platform="",
        )

    @app.get("/fragments/posts", response_class=HTMLResponse)
    def posts_fragment(
        request: Request, platform: Annotated[str, Query(max_length=16)] = ""
    ) -> HTMLResponse:
        with connect() as connection:
            own = [
                a for a in store.self_accounts(connection) if not platform or a.platform == platform
            ]
            latest = store.latest_posts(connection, own)
        return render(request, "_posts.html", "data", posts=latest, platform=platform)

    person.routes(app, engine, render, connect, _back)
    post_page.routes(app, engine, render, connect, _back, home, figures.get)
    return app


def _modified(home: Path | None, name: str) -> int | None:
    """When the workspace file ``name`` last changed (``None``: no such file), so that
    figures computed from it follow the user's edits."""
    try:
        return (home / name).stat().st_mtime_ns if home is not None else None
    except FileNotFoundError:
        return None


def _number(lang: str) -> Callable[[int | float | None], str]:
    """Numbers as ``lang`` writes them; ``None`` (no data) in words, never as 0."""
    no_data = i18n.translate(lang, "status.no_data")
    return lambda value: no_data if value is None else i18n.format_number(value, lang)


def _back(request: Request, path: str, **params: str) -> Response:
    """After a POST: back to the page (303), or for HTMX a redirect header."""
    lang = request.query_params.get("lang")
    query = {**params, **({"lang": lang} if lang in i18n.LANGUAGES else {})}
    target = path + "?" + urlencode(query)
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
