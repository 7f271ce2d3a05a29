"""The dashboard's Post page (``/post``): a draft box whose check (``kompas post check``)
follows the typing (an HTMX POST of the draft, answered with the check), a Send button that
first shows the check to confirm, a "queue at" field, and the local queue with Cancel. Every
POST carries the app's CSRF token; drafts and what platforms answer are autoescaped.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from kompas.errors import KompasError
from kompas.i18n import Message, message, said
from kompas.web.security import require_csrf

Render = Callable[..., HTMLResponse]
#: ``figures.get`` of the app: a value computed once per store generation.
Cached = Callable[[sa.Connection, str, Callable[[], Any]], Any]
NETWORKS = ("mastodon", "bluesky")
#: The longest field the page takes (the check refuses longer drafts itself, saying so).
MAX_FIELD = 100_000
#: Idempotency keys the confirm step makes: 32 hex characters after the prefix.
KEY_PREFIX = "kompas-web-"


@dataclass
class Draft:
    """The draft box as posted: the text, the networks ticked, what it replies to."""

    text: str = ""
    to: tuple[str, ...] = NETWORKS
    reply_to: str = ""
    at: str = ""
    key: str = ""

    @classmethod
    def of(cls, values: FormData) -> Draft:
        """The draft from a form (unknown networks dropped; no network ticked stays so)."""
        ticked = tuple(n for n in NETWORKS if n in values.getlist("to"))
        key = str(values.get("key", ""))[:64]
        return cls(
            text=str(values.get("text", ""))[:MAX_FIELD],
            to=ticked,
            reply_to=str(values.get("reply_to", "")).strip()[:600],
            at=str(values.get("at", "")).strip()[:100],
            key=key if key.startswith(KEY_PREFIX) and key[len(KEY_PREFIX) :].isalnum() else "",
        )


@dataclass
class Outcome:
    """What a send did on each network: the parts posted, or why not."""

    sent: dict[str, list[Any]] = field(default_factory=dict)
    problems: dict[str, Message | str] = field(default_factory=dict)


def routes(
    app: FastAPI,
    engine: sa.Engine,
    render: Render,
    connect: Callable[[], AbstractContextManager[sa.Connection]],
    back: Callable[..., Response],
    home: Path | None,
    cached: Cached,
) -> None:
    """Add the Post page, its live check, send, queue and cancel to ``app``."""

    def counter(connection: sa.Connection) -> Any:
        """The figures a draft is added to, remembered per store generation and version of
        strategy.yaml (the check reads them on every keystroke)."""
        from kompas.post.plan import metric_count

        base: Any = None
        version = _modified(home, "strategy.yaml")

        def count(metric: str, since: datetime, until: datetime) -> float | None:
            nonlocal base

            def compute() -> float | None:
                nonlocal base
                if base is None:
                    from kompas.post.check import workspace_strategy

                    plan = workspace_strategy(home)
                    base = metric_count(connection, plan.domains if plan else ())
                value: float | None = base(metric, since, until)
                return value

            key = f"post:{version}:{metric}:{since.isoformat()}:{until.isoformat()}"
            found: float | None = cached(connection, key, compute)
            return found

        return count

    def check(draft: Draft) -> tuple[Any, Message | str | None]:
        """The check of ``draft`` (``None`` and why, for a draft that cannot be checked)."""
        from kompas.post.check import check_draft

        if not draft.to:
            return None, message("draft.no_network")
        try:
            with connect() as connection:
                return (
                    check_draft(
                        draft.text,
                        draft.to,
                        reply_to=draft.reply_to or None,
                        connection=connection,
                        home=home,
                        counter=counter(connection),
                    ),
                    None,
                )
        except KompasError as error:
            return None, said(error)

    def queue() -> tuple[list[Any], Message | str | None]:
        from kompas.post import schedule

        try:
            return schedule.pending(engine), None
        except KompasError as error:
            return [], said(error)

    def post_page(
        request: Request,
        draft: Draft,
        *,
        checked: Any = None,
        problem: Message | str | None = None,
        confirm: bool = False,
        outcome: Outcome | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        rows, queue_problem = queue()
        page = render(
            request,
            "post.html",
            "post",
            draft=draft,
            check=checked,
            check_problem=problem,
            confirm=confirm,
            outcome=outcome,
            queued=rows,
            queue_problem=queue_problem,
            networks=NETWORKS,
            now=datetime.now(UTC),
            done=request.query_params.get("done", "")[:16],
        )
        page.status_code = status
        return page

    @app.get("/post", response_class=HTMLResponse)
    def post(
        request: Request,
        reply_to: Annotated[str, Query(max_length=600)] = "",
        text: Annotated[str, Query(max_length=2000)] = "",
        to: Annotated[str, Query(max_length=40)] = "",
    ) -> HTMLResponse:
        """The page; ``?reply_to=POST&to=NETWORK`` opens it as a reply (the Inbox links so)."""
        ticked = tuple(n for n in NETWORKS if n in to.split(",")) or NETWORKS
        draft = Draft(text=text, to=ticked, reply_to=reply_to.strip())
        checked, problem = check(draft) if draft.text.strip() else (None, None)
        return post_page(request, draft, checked=checked, problem=problem)

    @app.post("/post/check", response_class=HTMLResponse)
    def post_check(
        request: Request, form: Annotated[FormData | None, Depends(require_csrf)]
    ) -> HTMLResponse:
        """The live check: for HTMX the check alone, else the page with it."""
        draft = Draft.of(form if form is not None else FormData())
        checked, problem = check(draft) if draft.text.strip() else (None, None)
        if request.headers.get("hx-request"):
            return render(request, "_post_check.html", "post", check=checked, check_problem=problem)
        return post_page(request, draft, checked=checked, problem=problem)

    @app.post("/post/confirm", response_class=HTMLResponse)
    def post_confirm(
        request: Request, form: Annotated[FormData | None, Depends(require_csrf)]
    ) -> HTMLResponse:
        """Send, step one: the check, and the button that sends exactly this draft (with
        the idempotency key of this confirmation: sending it twice posts once)."""
        draft = Draft.of(form if form is not None else FormData())
        checked, problem = check(draft)
        if checked is None:
            return post_page(request, draft, problem=problem, status=400)
        if any(not fit.parts_fit for fit in checked.networks.values()):
            return post_page(
                request, draft, checked=checked, problem=message("draft.cannot_send"), status=400
            )
        draft.key = KEY_PREFIX + secrets.token_hex(16)
        return post_page(request, draft, checked=checked, confirm=True)

    @app.post("/post/send", response_class=HTMLResponse)
    def post_send(
        request: Request, form: Annotated[FormData | None, Depends(require_csrf)]
    ) -> HTMLResponse:
        """Send, step two: each network's parts through ``kompas.post.send``, stored at
        once; the page says what was posted where, or why not."""
        from kompas.post.send import Draft as Sending
        from kompas.post.send import send
        from kompas.sync.http import PlatformUnreachable, policy_from_env

        draft = Draft.of(form if form is not None else FormData())
        checked, problem = check(draft)
        if home is None:
            return post_page(request, draft, problem=message("draft.no_workspace"), status=400)
        if checked is None or not draft.key:
            return post_page(
                request, draft, problem=problem or message("draft.confirm_first"), status=400
            )
        outcome = Outcome()
        status = 200
        for network, fit in checked.networks.items():
            try:
                outcome.sent[network] = send(
                    home,
                    engine,
                    Sending(network, tuple(fit.parts), _post_id(draft.reply_to)),
                    policy_from_env(),
                    key=f"{draft.key}:{network}",
                )
            except PlatformUnreachable as error:
                outcome.problems[network], status = said(error), 503
            except KompasError as error:
                outcome.problems[network] = said(error)
                status = status if status != 200 else 400
        return post_page(request, draft, checked=checked, outcome=outcome, status=status)

    @app.post("/post/queue", response_class=HTMLResponse)
    def post_queue(
        request: Request, form: Annotated[FormData | None, Depends(require_csrf)]
    ) -> Response:
        """Queue the draft for each network ticked, as the parts the check splits it into."""
        from kompas.post import schedule

        draft = Draft.of(form if form is not None else FormData())
        checked, problem = check(draft)
        if checked is None:
            return post_page(request, draft, problem=problem, status=400)
        try:
            if not draft.at:
                raise KompasError(message("draft.queue_when"))
            for network, fit in checked.networks.items():
                schedule.enqueue(
                    engine,
                    schedule.Request(checked.text, network, draft.at, draft.reply_to or None),
                    datetime.now(UTC),
                    parts=fit.parts,
                )
        except KompasError as error:
            return post_page(request, draft, checked=checked, problem=said(error), status=400)
        return back(request, "/post", done="queued")

    @app.post("/post/cancel")
    def post_cancel(
        request: Request, form: Annotated[FormData | None, Depends(require_csrf)]
    ) -> Response:
        """Cancel a queued (or failed) post, as ``kompas post cancel ID``."""
        from kompas.post import schedule

        values = form if form is not None else FormData()
        try:
            post_id = schedule.parse_id(str(values.get("id", ""))[:20])
            schedule.cancel(engine, post_id, datetime.now(UTC))
        except KompasError as error:
            return post_page(request, Draft(), problem=said(error), status=400)
        return back(request, "/post", done="cancelled")


def _post_id(reply_to: str) -> str | None:
    """What a send answers: the post's own id or URL (``PLATFORM:`` as the check takes it,
    and as ``kompas strategy align`` prints posts, left out)."""
    platform, colon, rest = reply_to.partition(":")
    if colon and platform in NETWORKS and rest:
        return rest
    return reply_to or None


def _modified(home: Path | None, name: str) -> int | None:
    try:
        return (home / name).stat().st_mtime_ns if home is not None else None
    except FileNotFoundError:
        return None
