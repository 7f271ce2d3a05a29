"""Where the dashboard meets the pillars: each function calls a pillar's public functions
(the very ones its CLI command calls) and hands the result to a template, or says the
pillar is not available yet. Nothing here computes a figure of its own."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec

import sqlalchemy as sa

from kompas.errors import KompasError
from kompas.i18n import Message, message, said


def _keep(said_: Message) -> Message:
    """A ``to_json`` text hook that keeps messages for the template to render."""
    return said_


@dataclass(frozen=True, slots=True)
class View:
    """What a pillar page shows: the pillar's result, or why there is none."""

    available: bool
    result: Any = None
    #: A problem with the user's input or data, shown in the page's language (autoescaped).
    problem: Message | str | None = None
    #: A verdict to show with the figures (the strategy review's ``status``).
    status: str | None = None


UNAVAILABLE = View(available=False)

P = ParamSpec("P")
_IMPORTS = threading.Lock()


def warm(*modules: str) -> None:
    """Import pillar packages one thread at a time. The overview's fragments load in
    parallel, and two threads importing packages that import each other (strategy and
    community, say) can deadlock inside importlib, which then fails one of them."""
    # Always under the lock: a package another thread is still importing is already in
    # sys.modules, half initialised.
    with _IMPORTS:
        for name in modules:
            importlib.import_module(name)


def prepare(engine: sa.Engine) -> None:
    """What the dashboard's first pages would otherwise pay, done at start (in a thread
    of its own): the store's derived exchanges rebuilt if an import left them stale,
    the pillars imported, the language detector loaded."""
    from kompas.store.exchange_build import refresh

    try:
        refresh(engine)
        modules = [
            f"kompas.{p}" for p in ("community", "strategy", "people", "inbox") if installed(p)
        ]
        warm(*modules)
        if installed("strategy"):
            warm("kompas.strategy.review")
            from kompas.strategy import language

            language.prepare()
    except Exception:  # each page does this work again, and says what fails
        return


def installed(pillar: str) -> bool:
    """Whether the pillar's package is part of this kompas."""
    return importlib.util.find_spec(f"kompas.{pillar}") is not None


def pillar_view(pillar: str) -> Callable[[Callable[P, View]], Callable[P, View]]:
    """A page function of ``pillar`` that says "not available yet" instead of failing when
    the pillar is not part of this kompas (each imports its pillar when called)."""

    def wrap(function: Callable[P, View]) -> Callable[P, View]:
        @functools.wraps(function)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> View:
            if not installed(pillar):
                return UNAVAILABLE
            try:
                return function(*args, **kwargs)
            except ModuleNotFoundError as error:
                if (error.name or "").startswith(f"kompas.{pillar}"):
                    return UNAVAILABLE
                raise

        return guarded

    return wrap


@dataclass(frozen=True, slots=True)
class GlanceItem:
    """One headline figure on the overview: this period and the one before."""

    key: str
    label: str
    this: int | float
    last: int | float | None


GLANCE_PILLARS = ("community", "rules", "people", "strategy")


def glance(connection: sa.Connection, pillar: str, end: datetime, home: Path | None) -> View:
    """One pillar's headline figures for the overview: the 7 days before ``end`` and the 7
    days before those."""
    if installed(pillar):
        warm(f"kompas.{pillar}")
    if pillar == "community":
        return _community_glance(connection, end, 7)
    if pillar == "rules":
        return _rules_glance(connection)
    if pillar == "people":
        return _people_glance(connection)
    if pillar == "strategy":
        return _strategy_glance(connection, home, end)
    raise KeyError(pillar)


@pillar_view("people")
def _people_glance(connection: sa.Connection) -> View:
    from kompas.store import identities

    found = audit(connection).result
    items = [GlanceItem("linked", "people.linked_count", len(identities.people(connection)), None)]
    if found is not None:
        items.insert(0, GlanceItem("followers", "people.followers", found.followers, None))
        if found.real_reach is not None:
            items.insert(1, GlanceItem("real_reach", "people.real_reach", found.real_reach, None))
    return View(True, items)


#: The community figures the overview shows.
COMMUNITY_GLANCE = ("replies_given", "conversations", "people_interacted", "reposts_of_others")


@pillar_view("community")
def _community_glance(connection: sa.Connection, end: datetime, days: int) -> View:
    from kompas.community import Period
    from kompas.community.aggregate import Community

    span = timedelta(days=days)
    now, before = (
        report.figures["all"]
        for report in Community(connection).reports(
            [Period(end - span, end), Period(end - 2 * span, end - span)],
            every_relationship=False,
            only="all",
        )
    )
    if not now.has_data:
        return View(True, None)
    items = [
        GlanceItem(key, f"community.{key}", now.get(key), before.get(key))
        for key in COMMUNITY_GLANCE
    ]
    return View(True, items)


@pillar_view("rules")
def _rules_glance(connection: sa.Connection) -> View:
    from kompas.store import feeds as feed_store

    if feed_store.item_count(connection) == 0:
        return View(True, None)  # no items yet: 0 kept would read as a verdict
    this = feeds(connection, "7d").result
    both = feeds(connection, "14d").result
    if this is None or both is None:
        return UNAVAILABLE
    return View(True, [GlanceItem("kept", "feeds.kept_digest", this.kept, both.kept - this.kept)])


@dataclass(frozen=True, slots=True)
class CommunityPage:
    """The community report of a period, with its top and fading relationships, and the
    line that says where the period comes from (``note``: e.g. where the data ends)."""

    report: Any
    top: list[Any]
    fading: list[Any]
    since: str
    until: str
    all_time: bool
    note: str | None = None


@pillar_view("community")
def community(
    connection: sa.Connection,
    since: str | None,
    until: str | None,
    all_time: bool,
    domains: tuple[str, ...] = (),
) -> View:
    """The community pillar's report for the period the CLI's own flags would name (by
    default the 90 days up to where the data ends)."""
    from kompas.community import report
    from kompas.period import note, period_of
    from kompas.store.queries import data_span

    try:
        span = data_span(connection)
        period = period_of(since or None, until or None, all_time, span)
        result = report(connection, period, own_domains=domains)
    except KompasError as error:
        return View(True, None, problem=said(error))
    last_day = period.last_day
    return View(
        True,
        CommunityPage(
            result,
            result.top("all", 10),
            result.fading("all", 10),
            f"{period.since:%Y-%m-%d}" if period.since else "",
            last_day.isoformat() if last_day else "",
            all_time,
            note(period, span),
        ),
    )


@pillar_view("people")
def people(connection: sa.Connection, account: str | None) -> View:
    """Research one account (``kompas people research PLATFORM:ACCOUNT``); no account:
    nothing to show yet."""
    if not account:
        return View(True, None)
    from kompas.people import authenticity
    from kompas.people.stored import research_account
    from kompas.store import identities

    try:
        model = authenticity.load(None)
        ref = identities.resolve(connection, account)
        found = research_account(connection, ref.platform, ref.id, model)
        if found is None:
            return View(True, None, problem=message("errors.no_account", account=repr(account)))
    except KompasError as error:
        return View(True, None, problem=said(error))
    return View(True, found)


@pillar_view("people")
def clubs(connection: sa.Connection) -> View:
    """The user's own clubs (``kompas people clubs``)."""
    from kompas.people.clubs import clubs as find
    from kompas.store import people as stored

    own, ties, handles = stored.own_graph(connection)
    return View(True, find(own, ties, handles))


@pillar_view("people")
def audit(connection: sa.Connection) -> View:
    """Audit the user's followers (``kompas people audit``)."""
    from dataclasses import asdict

    from kompas.people import authenticity
    from kompas.people.audit import audit as audit_followers
    from kompas.people.profiles import from_stored
    from kompas.store import people as stored

    try:
        model = authenticity.load(None)
        total, rows = stored.followers(connection)
        scored = [from_stored(r.platform, r.id, asdict(r)) for r in rows]
        return View(True, audit_followers(scored, model, total))
    except KompasError as error:
        return View(True, None, problem=said(error))


#: The digest windows the Feeds page offers (``kompas digest --since``); the CLI's default first.
DIGEST_WINDOWS = ("7d", "1d", "30d")


@dataclass(frozen=True, slots=True)
class FeedsPage:
    """The digest of a window, the rules behind it, and how each feed is doing."""

    digest: Any
    since: str
    kept: int
    rule_hits: list[tuple[str, int]]
    statuses: list[Any]


@pillar_view("rules")
def feeds(connection: sa.Connection, since: str = "7d") -> View:
    """The digest (as ``kompas digest --since SINCE --json``), rule hits and feed status."""
    from kompas.period import anchor
    from kompas.rules.compiler import parse_duration
    from kompas.rules.digest import build_digest
    from kompas.store import feeds as feed_store

    try:
        span = parse_duration(since)
    except ValueError:
        return View(True, None, problem=message("errors.not_a_duration", value=repr(since)))
    # Like `kompas digest`: the window ends at the newest feed item when that is older.
    end, _ = anchor(feed_store.feed_span(connection))
    end = min(end, datetime.now(UTC))
    decided = feed_store.decided_items(connection, since=end - span, until=end)
    digest = build_digest(decided, end - span, end)
    entries = [entry for group in digest.groups for entry in group.entries]
    hits = Counter(rule for entry in entries for rule in entry.rules)
    return View(
        True,
        FeedsPage(
            digest,
            since,
            len(entries),
            sorted(hits.items(), key=lambda kv: (-kv[1], kv[0])),
            feed_store.feed_statuses(connection),
        ),
    )


@dataclass(frozen=True, slots=True)
class Explanation:
    """What the rules decided about one item, and why (``kompas rules explain``): each
    fired rule's reasons as messages (plain English for a decision stored before they
    were)."""

    item: Any
    decision: Any
    reasons: tuple[tuple[Message | str, ...], ...] = ()


def _reasons(fired: dict[str, Any]) -> tuple[Message | str, ...]:
    texts = list(fired.get("reasons") or ())
    codes = fired.get("reason_codes")
    if isinstance(codes, list) and len(codes) == len(texts):
        try:
            return tuple(Message(str(code), dict(params)) for code, params in codes)
        except (KeyError, TypeError, ValueError):
            pass
    return tuple(str(text) for text in texts)


@pillar_view("rules")
def explain(connection: sa.Connection, item_id: str) -> View:
    """Why one feed item was kept or dropped, from the stored decision."""
    from kompas.store import feeds as feed_store

    decided = feed_store.decision(connection, item_id)
    stored = next(iter(feed_store.items(connection, ids=[item_id])), None)
    if decided is None or stored is None:
        return View(True, None, problem=message("errors.no_decision", item=repr(item_id)))
    reasons = tuple(_reasons(fired) for fired in decided.fired)
    return View(True, Explanation(stored.item, decided, reasons))


@pillar_view("rules")
def feed_problems(connection: sa.Connection) -> View:
    """Feeds whose last fetch failed (for the Data page)."""
    from kompas.store import feeds as feed_store

    return View(True, [s for s in feed_store.feed_statuses(connection) if s.last_error])


#: How many of the period's posts the Strategy page lists for teaching (newest first).
TEACH_ROWS = 50


@dataclass(frozen=True, slots=True)
class AlignedPost:
    """One of the period's posts as the Strategy page lists it: what kompas said, and
    the buttons to say whether it is right."""

    post: str
    created_at: str
    text: str
    labels: tuple[str, ...]
    alignment: Any  # kompas.strategy.Alignment: its reason is rendered per language


@dataclass(frozen=True, slots=True)
class StrategyPage:
    """The review of a period and the day's check, in their ``--json`` shapes, and the
    period's newest posts with their pillars (to correct them)."""

    review: dict[str, Any]
    today: dict[str, Any]
    days: int
    date: str
    note: str | None = None
    #: Where the data ends, when the page chose its day from it (the note, in any language).
    note_end: str | None = None
    posts: tuple[AlignedPost, ...] = ()
    #: How many posts of the period were aligned (``posts`` lists the newest).
    aligned: int = 0
    #: Pillar id → name, in the strategy file's order.
    pillars: tuple[tuple[str, str], ...] = ()


@pillar_view("strategy")
def strategy(connection: sa.Connection, home: Path | None, date: str, days: int) -> View:
    """``kompas review --json`` (7 or 30 days up to ``date``) and ``kompas today --json``
    (on ``date``), from the workspace's strategy.yaml; ``None`` result: no strategy yet."""
    from kompas.period import default_day
    from kompas.store.queries import data_span
    from kompas.strategy import build_review, build_today, load_strategy

    if home is None or not (home / "strategy.yaml").exists():
        return View(True, None)
    first_line: str | None = None
    note_end: str | None = None
    try:
        if date:
            try:
                day = datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError:
                raise KompasError(message("errors.not_a_date", value=repr(date))) from None
        else:
            span = data_span(connection)
            day, first_line = default_day(span, days)
            if first_line and span.last is not None:
                note_end = f"{span.last:%Y-%m-%d}"
        plan = load_strategy(home / "strategy.yaml")
        rules = home / "rules.yaml"
        review = build_review(connection, plan, day + timedelta(days=1), days, rules)
        # A 7-day review aligns the very posts today's week does: aligned once.
        week = review.alignments if days == 7 else None
        today = build_today(connection, plan, day, rules, week=week)
    except KompasError as error:
        return View(True, None, problem=said(error))
    newest = sorted(
        review.alignments,
        key=lambda pair: pair[0].created_at or datetime.min.replace(tzinfo=UTC),
        reverse=True,
    )[:TEACH_ROWS]
    posts = tuple(
        AlignedPost(
            f"{post.platform}:{post.id}",
            f"{post.created_at:%Y-%m-%d %H:%M}" if post.created_at else "",
            " ".join(post.text.split())[:280],
            tuple(alignment.labels),
            alignment,
        )
        for post, alignment in newest
    )
    return View(
        True,
        StrategyPage(
            # Kept as messages: the page renders them in its own language.
            review.to_json(_keep),
            today.to_json(_keep),
            days,
            f"{day:%Y-%m-%d}",
            first_line,
            note_end,
            posts,
            len(review.alignments),
            tuple((p.id, p.name) for p in plan.pillars),
        ),
    )


@pillar_view("strategy")
def teach(connection: sa.Connection, home: Path | None, post: str, pillars: list[str]) -> View:
    """Store the user's correction of one post (``kompas strategy teach``); the result is
    what it changed."""
    from kompas.strategy import load_strategy
    from kompas.strategy.teaching import teach as store_correction

    if home is None or not (home / "strategy.yaml").exists():
        return View(True, None, problem="no strategy.yaml yet: write one with kompas strategy init")
    try:
        plan = load_strategy(home / "strategy.yaml")
        return View(True, store_correction(connection, plan, post, pillars))
    except KompasError as error:
        return View(True, None, problem=said(error))


@pillar_view("strategy")
def _strategy_glance(connection: sa.Connection, home: Path | None, end: datetime) -> View:
    from kompas.strategy.review import day_start

    def met(view: View) -> int | None:
        """Key results met, or ``None`` when none could be measured (no data is not 0)."""
        if view.result is None:
            return None
        results = view.result.review["key_results"]
        if all(k["value"] is None for k in results):
            return None
        return sum(1 for k in results if k["status"] == "met")

    day = day_start(end)
    this = strategy(connection, home, f"{day:%Y-%m-%d}", 7)
    if this.result is None:
        return View(True, None)
    last = strategy(connection, home, f"{day - timedelta(days=7):%Y-%m-%d}", 7)
    total = len(this.result.review["key_results"])
    measured = sum(1 for k in this.result.review["key_results"] if k["value"] is not None)
    now = met(this)
    items = [GlanceItem("key_results", "strategy.kr_total", total, None)]
    if now is not None:
        items.insert(0, GlanceItem("key_results_met", "strategy.kr_met", now, met(last)))
        if measured < total:
            items.append(
                GlanceItem("key_results_no_data", "strategy.kr_no_data", total - measured, None)
            )
    else:
        items.append(GlanceItem("key_results_no_data", "strategy.kr_no_data", total, None))
    return View(True, items, status=this.result.review["status"])


@pillar_view("store.sync")
def sync(connection: sa.Connection) -> View:
    """Where live sync stands, per connected account and stream."""
    from kompas.store import dashboard

    return View(True, dashboard.sync_streams(connection))


#: The most items the Inbox page lists (``kompas inbox --all --json`` has every one).
INBOX_CAP = 500


def inbox(connection: sa.Connection, home: Path | None, platform: str, show_all: bool) -> View:
    """``kompas inbox --json`` (``show_all``: ``--all``) for the Inbox page; a broken rules
    file is shown as the page's problem."""
    warm("kompas.community", "kompas.inbox")
    from kompas.inbox import build_inbox, rules_of

    try:
        if platform and platform not in ("mastodon", "bluesky"):
            raise KompasError(message("inbox.unknown_platform", platform=repr(platform)))
        found = build_inbox(connection, platform or None, show_all, rules_of(home), cap=INBOX_CAP)
    except KompasError as error:
        return View(True, None, problem=said(error))
    return View(True, found)


def today_plan(connection: sa.Connection, home: Path | None) -> View:
    """``kompas today``'s actions for the Overview, on the last day of the data (without a
    strategy file: the people's actions only, reply, reconnect, check, notify)."""
    warm("kompas.community", "kompas.strategy", "kompas.people.stored", "kompas.inbox.plan")
    from kompas.inbox.plan import with_plan
    from kompas.period import default_day
    from kompas.store.queries import data_span
    from kompas.strategy import build_today, load_strategy
    from kompas.strategy.model import Strategy

    try:
        day, _ = default_day(data_span(connection), 1)
        path = home / "strategy.yaml" if home is not None else None
        plan = load_strategy(path) if path is not None and path.exists() else Strategy(why="")
        rules = home / "rules.yaml" if home is not None else None
        today = build_today(connection, plan, day, rules)
        today = with_plan(connection, today, home)
    except KompasError as error:
        return View(True, None, problem=said(error))
    return View(True, today)
