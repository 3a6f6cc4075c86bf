"""``POST /gladly/lookup``: the URL a brand's Gladly Lookup Adapter app is pointed at.

A request must give an adapter's Basic-auth credentials and, the adapter having a signing
secret, Gladly's signature (ctxapi.gladly.signing); anything less is 401 with one message
that does not say which check failed (the log says, without values). It then sees only the
adapter's brand. Every answer with personal data is audited, naming the adapter.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import orjson
from flask import Blueprint, Response, current_app, g, request

from ctxapi import ratelimit
from ctxapi.access.audit import AuditUnavailable
from ctxapi.config import Settings
from ctxapi.gladly import signing
from ctxapi.gladly.adapter import BadLookup, Reader, answer, read_lookup
from ctxapi.gladly.adapters import Adapter, AdapterStore
from ctxapi.http import error_response, rate_limited, unavailable
from ctxapi.ratelimit import RateLimiter
from ctxapi.unavailable import DatabaseUnavailable

log = logging.getLogger(__name__)

PATH = "/gladly/lookup"
#: Lookups a minute one client address, and one adapter, may make (Gladly asks once a contact).
LOOKUPS_PER_MINUTE = 600
_UNAUTHENTICATED = (
    "Not authenticated: check the adapter's user name, password and signing key"
    " (ctxapi gladly add printed them)."
)

gladly = Blueprint("gladly", __name__)


class _Refused(Exception):
    """The request is not an adapter's: answered 401."""


@gladly.post(PATH)
def lookup() -> Response:
    """Answer one Gladly lookup with ``{"results": [...]}``."""
    state = current_app.extensions["ctxapi"]
    # A budget per client address before the credentials cost a read, and one per adapter.
    too_many = _over_budget(state.limiter, "gladly-from:" + (request.remote_addr or "-"))
    if too_many is not None:
        return too_many
    body = request.get_data(cache=True)
    try:
        adapter = _authenticate(AdapterStore(state.db), body, state.settings)
    except _Refused as refused:
        log.info("gladly lookup %s refused: %s", g.request_id, refused)
        response = error_response(401, "UNAUTHENTICATED", _UNAUTHENTICATED)
        response.headers["WWW-Authenticate"] = 'Basic realm="ctxapi gladly"'
        return response
    except DatabaseUnavailable as error:
        return unavailable(error.public_message())
    too_many = _over_budget(state.limiter, "gladly:" + adapter.id)
    if too_many is not None:
        return too_many
    try:
        asked = read_lookup(body)
    except BadLookup as error:
        return error_response(400, "BAD_REQUEST", f"Not a Gladly lookup: {error}.")
    reader = Reader(state.db, state.settings, adapter, g.request_id)
    try:
        results = answer(asked, reader)
    except DatabaseUnavailable as error:
        return unavailable(error.public_message())
    if reader.reads.customers:
        try:
            state.audit.record(
                "pii.read",
                key=adapter.name,
                keyId=adapter.id,
                adapter=adapter.id,
                requestId=g.request_id,
                operation=f"gladly.{asked.level.value}",
                fields=sorted(reader.reads.fields),
                customers=sorted(reader.reads.customers),
            )
        except AuditUnavailable:
            log.exception("gladly lookup %s: the audit log cannot be written", g.request_id)
            return unavailable("Personal data cannot be served now: its read cannot be audited.")
    log.info(
        "gladly lookup %s by %s: %s, %d result(s)",
        g.request_id,
        adapter.id,
        asked.level.value,
        len(results),
    )
    return Response(orjson.dumps({"results": results}), status=200, mimetype="application/json")


def _authenticate(store: AdapterStore, body: bytes, settings: Settings) -> Adapter:
    """The adapter whose Basic-auth credentials and signature the request carries."""
    credentials = request.authorization
    if credentials is None or credentials.type != "basic":
        raise _Refused("no Basic credentials")
    adapter = store.authenticate(credentials.username or "", credentials.password or "")
    if adapter is None:
        raise _Refused("unknown user name or wrong password")
    if adapter.signing_secret is not None:
        signed = signing.SignedRequest(
            method=request.method,
            path=request.script_root + request.path,
            query=request.query_string.decode("latin-1"),
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body,
        )
        try:
            signing.verify(
                adapter.signing_secret,
                signed,
                now=datetime.now(UTC),  # the real time, not CTXAPI_NOW: replay is real
                window=settings.gladly_signature_window,
            )
        except signing.SignatureRefused as error:
            raise _Refused(f"adapter {adapter.id}: signature {error.reason.value}") from None
    return adapter


def _over_budget(limiter: RateLimiter, who: str) -> Response | None:
    """429 with Retry-After when ``who`` made more than ``LOOKUPS_PER_MINUTE`` lookups."""
    decision = limiter.check(who, LOOKUPS_PER_MINUTE)
    if decision.allowed:
        return None
    message = f"More than {decision.limit} lookups a minute; retry in {decision.retry_after} s."
    return rate_limited(message, ratelimit.headers(decision))
