"""The desktop's routes: ``/card``, ``/queue``, their assets, and ``/events`` (live updates).

The pages hold no data and need no key to load; their script gets the agent's key from the
desktop that embeds them (a ``ctxapi:init`` message from an allowed parent origin), from the
URL's fragment (``#key=…``, never sent to a server), from the tab's session, or, on a
development server on loopback, from ``make run`` itself — and otherwise asks for it.

Who may frame them is ``Settings.frame_ancestors`` (``CTXAPI_FRAME_ANCESTORS``): the CSP's
``frame-ancestors`` lists ctxapi's own origin and those, and the pages accept messages only
from them. Scripts and styles come only from ctxapi (no inline script: the page's settings
travel as JSON data), so an injected value cannot run.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, LiteralString

from flask import Blueprint, Response, current_app, g, render_template, request, url_for

from ctxapi import http, ratelimit
from ctxapi.access.brands import in_brands
from ctxapi.access.guard import Forbidden, Unauthenticated
from ctxapi.access.keys import Scope
from ctxapi.config import PROJECT_ROOT, Settings
from ctxapi.desk.live import Feed, Stream, events
from ctxapi.graphql.errors import ErrorCode
from ctxapi.unavailable import DatabaseUnavailable

CARD_QUERY = PROJECT_ROOT / "schema" / "queries" / "card.graphql"
QUEUE_QUERY = PROJECT_ROOT / "schema" / "queries" / "proactive_queue.graphql"

_VISIBLE: LiteralString = (
    "MATCH (c:Customer {id: $id}) WHERE " + in_brands("c") + " RETURN c.id AS id"
)


@cache
def _document(path: Path) -> str:
    """A committed query's text, read once per process."""
    return path.read_text(encoding="utf-8")


def blueprint(settings: Settings, feed: Feed) -> Blueprint:
    """The desktop's blueprint for ``settings``, its streams fed by ``feed``."""
    desk = Blueprint(
        "desk",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/desk/static",
    )
    parents = [*settings.frame_ancestors]
    policy = _policy(parents)

    def page(template: str, **config: Any) -> Response:
        loopback = settings.host in ("127.0.0.1", "localhost", "::1")
        dev_key = settings.graphiql_key if loopback and not settings.production else ""
        config |= {
            "graphql": url_for("graphql"),
            "events": url_for("desk.live"),
            "card": url_for("desk.card"),
            "queuePage": url_for("desk.queue"),
            "parents": parents,
            "devKey": dev_key,
        }
        response = Response(render_template(template, config=config), mimetype="text/html")
        response.headers["Content-Security-Policy"] = policy
        return response

    @desk.get("/card")
    def card() -> Response:
        """The customer card: ``?email=``, ``?phone=``, ``?handle=``, ``?order=`` or
        ``?customer=`` (docs/desktop.md)."""
        return page("card.html", document=_document(CARD_QUERY))

    @desk.get("/queue")
    def queue() -> Response:
        """The proactive queue, most urgent first, a page at a time."""
        return page("queue.html", document=_document(QUEUE_QUERY))

    @desk.get("/events")
    def live() -> Response:
        """Server-Sent Events: ``?customer=ID`` (a card) or ``?queue=1`` (the key's brands)."""
        state = current_app.extensions["ctxapi"]
        try:
            access = state.auth.authenticate(request.headers.get("Authorization"))
        except Unauthenticated as error:
            response = http.error_response(401, error.code.value, str(error))
            response.headers["WWW-Authenticate"] = error.challenge()
            return response
        except DatabaseUnavailable as error:
            return http.unavailable(error.public_message())
        g.access = access
        if not access.allows(Scope.CONTEXT_READ):
            forbidden = Forbidden(Scope.CONTEXT_READ, access.name)
            return http.error_response(403, forbidden.code.value, str(forbidden))
        decision = state.limiter.check(access.key_id, access.rate_limit)
        if not decision.allowed:
            message = f"This key may make {decision.limit} requests a minute on this instance."
            return http.rate_limited(message, ratelimit.headers(decision))
        customer = request.args.get("customer") or None
        if customer is None and request.args.get("queue") != "1":
            message = "Follow a customer (?customer=ID) or the queue (?queue=1)."
            return http.error_response(400, ErrorCode.BAD_REQUEST.value, message)
        brands = None if access.brands is None else frozenset(access.brands)
        if customer is not None:
            try:
                found = state.db.read(_VISIBLE, {"id": customer, "__brands": access.brands})
            except DatabaseUnavailable as error:
                return http.unavailable(error.public_message())
            if not found:
                message = "No customer of this key's brands has that id."
                return http.error_response(404, ErrorCode.NOT_FOUND.value, message)
        stream = Stream(customer, brands)
        if not feed.open(stream):
            message = "This server follows as many pages as it may; the page tries again."
            return http.unavailable(message)
        response = Response(
            events(feed, stream, settings.live_stream_seconds),
            mimetype="text/event-stream",
        )
        response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
        return response

    return desk


def _policy(parents: list[str]) -> str:
    """The pages' Content-Security-Policy: everything from ctxapi only, framed by ``parents``."""
    ancestors = " ".join(["'self'", *parents])
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {ancestors}"
    )
