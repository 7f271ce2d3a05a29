"""``kompas feeds serve NAME --bluesky``: a Bluesky feed generator over HTTP.

Three documents, each read fresh from the store, so a ``sync`` or ``rules run`` shows in
the next request: ``/.well-known/did.json`` (the service's DID document),
``app.bsky.feed.describeFeedGenerator`` and ``app.bsky.feed.getFeedSkeleton`` (the posts
routed to ``feed:NAME``, in rule order). Errors are XRPC errors: a JSON body with ``error``
and ``message``. The app holds no secret; it serves what the user chose to publish.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kompas.rules.bluesky_feed import (
    DEFAULT_LIMIT,
    BadFeedRequest,
    describe,
    did_document,
    feed_uri,
    skeleton,
)
from kompas.store.feeds import routed_posts


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status)


def create_feed_app(engine: sa.Engine, name: str, publisher_did: str, service_did: str) -> FastAPI:
    """The generator of the feed ``NAME`` published by ``publisher_did``, as ``service_did``."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    uri = feed_uri(publisher_did, name)
    route = f"feed:{name}"

    @app.get("/.well-known/did.json")
    def did_json() -> dict[str, Any]:
        return did_document(service_did)

    @app.get("/xrpc/app.bsky.feed.describeFeedGenerator")
    def describe_generator() -> dict[str, Any]:
        return describe(service_did, [uri])

    @app.get("/xrpc/app.bsky.feed.getFeedSkeleton", response_model=None)
    def get_feed_skeleton(request: Request) -> dict[str, Any] | JSONResponse:
        args = request.query_params
        feed = args.get("feed", "")
        if feed != uri:
            return _error(400, "UnknownFeed", f"this generator serves {uri} only")
        try:
            limit = int(args.get("limit", DEFAULT_LIMIT))
        except ValueError:
            return _error(400, "InvalidRequest", "limit must be an integer")
        with engine.connect() as connection:
            posts = routed_posts(connection, route, "bluesky")
        try:
            return skeleton(posts, limit, args.get("cursor") or None).as_json()
        except BadFeedRequest as problem:
            return _error(400, "InvalidRequest", str(problem))

    @app.get("/xrpc/_health")
    def health() -> dict[str, str]:
        return {"version": "kompas"}

    return app
