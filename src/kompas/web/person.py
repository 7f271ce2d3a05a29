"""The dashboard's person page (``/people/ACCOUNT``): what ``kompas people show`` prints,
and forms that keep a note, a tag or a cadence as ``kompas people note|tag|cadence`` do
(POST + the app's CSRF token). Notes are the user's plain text: Jinja autoescapes them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import FormData

from kompas.errors import KompasError
from kompas.i18n import Message, said
from kompas.web.pillars import View
from kompas.web.security import require_csrf

Render = Callable[..., HTMLResponse]


class AccountConvertor(Convertor[str]):
    """A ``PLATFORM:ID-OR-HANDLE`` path part (slashes allowed: Mastodon ids are URLs). It
    needs the colon, so ``/people/link`` and the other pages under ``/people`` stay theirs."""

    regex = "[a-z]+:.+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("account", AccountConvertor())


def page_path(account: str) -> str:
    """The person page of ``account`` (``PLATFORM:ID-OR-HANDLE``)."""
    return "/people/" + quote(account, safe=":@")


def shown_account(platform: str, handle: str | None, key: str) -> str:
    """How the page names an account, and links to it: ``platform:handle`` when the
    handle is known (it resolves back to the account), else its ``platform:id`` key."""
    return f"{platform}:{handle}" if handle else key


def routes(
    app: FastAPI,
    engine: sa.Engine,
    render: Render,
    connect: Callable[[], AbstractContextManager[sa.Connection]],
    back: Callable[..., Response],
) -> None:
    """Add the person page and its forms to ``app``."""

    def view(connection: sa.Connection, account: str) -> tuple[Any, Message | str | None]:
        from kompas.people import authenticity
        from kompas.people.kept import show
        from kompas.store import identities

        try:
            ref = identities.resolve(connection, account)
            return show(connection, ref, authenticity.load(None), datetime.now(UTC)), None
        except KompasError as error:
            return None, said(error)

    def person_page(
        request: Request, account: str, problem: Message | str | None = None, status: int = 200
    ) -> HTMLResponse:
        with connect() as connection:
            found, missing = view(connection, account)
        page = render(
            request,
            "person.html",
            "people",
            person=found,
            account=account,
            missing=missing,
            view=View(True, found.research if found is not None else None),
            form_problem=problem,
            now=datetime.now(UTC),
            shown=shown_account,
        )
        if missing is not None:
            page.status_code = 404
        elif status != 200:
            page.status_code = status
        return page

    @app.get("/people/{account:account}", response_class=HTMLResponse)
    def person(request: Request, account: str) -> HTMLResponse:
        return person_page(request, account[:600])

    def change(
        request: Request,
        form: FormData | None,
        act: Callable[[sa.Connection, Any, FormData], None],
    ) -> Response:
        from kompas.store import identities

        values = form if form is not None else FormData()
        account = str(values.get("account", "")).strip()[:600]
        try:
            with engine.begin() as connection:
                ref = identities.resolve(connection, account)
                act(connection, ref, values)
        except KompasError as error:
            # Shown on the page itself (400; 404 for an unknown account), never carried
            # in a URL someone could forge.
            return person_page(request, account, said(error), 400)
        return back(request, page_path(account), done="kept")

    @app.post("/people/note")
    def note(request: Request, form: Annotated[FormData | None, Depends(require_csrf)]) -> Response:
        from kompas.store import keep

        def act(connection: sa.Connection, ref: Any, values: FormData) -> None:
            remove = str(values.get("remove", "")).strip()
            if remove:
                _, refs = keep.person_of(connection, ref)
                keep.remove_note(connection, refs, int(remove) if remove.isdigit() else -1)
            else:
                keep.add_note(connection, ref, str(values.get("text", "")), datetime.now(UTC))

        return change(request, form, act)

    @app.post("/people/tag")
    def tag(request: Request, form: Annotated[FormData | None, Depends(require_csrf)]) -> Response:
        from kompas.store import keep

        def act(connection: sa.Connection, ref: Any, values: FormData) -> None:
            if str(values.get("remove", "")):
                _, refs = keep.person_of(connection, ref)
                keep.remove_tag(connection, refs, str(values.get("tag", "")))
            else:
                keep.add_tag(connection, ref, str(values.get("tag", "")), datetime.now(UTC))

        return change(request, form, act)

    @app.post("/people/cadence")
    def cadence(
        request: Request, form: Annotated[FormData | None, Depends(require_csrf)]
    ) -> Response:
        from kompas.store import keep

        def act(connection: sa.Connection, ref: Any, values: FormData) -> None:
            days = keep.parse_cadence(str(values.get("every", ""))[:16])
            keep.set_cadence(connection, ref, days, datetime.now(UTC))

        return change(request, form, act)
