"""Request ids and JSON error responses, for every route of the app."""

from __future__ import annotations

import logging
import re
import traceback
import uuid

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

# The package's logger, like the app's: records keep the name "ctxapi".
log = logging.getLogger("ctxapi")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def init_app(app: Flask) -> None:
    """Give every request an id (echoed as X-Request-Id) and every error a JSON body; keep
    request data out of the package's logs (``Redact``)."""
    redact_logs()
    app.before_request(assign_request_id)
    app.after_request(echo_request_id)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)


def assign_request_id() -> None:
    """The client's X-Request-Id when it is a safe one, else a new one."""
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def echo_request_id(response: Response) -> Response:
    """Every response names its request, and is neither sniffed, cached nor referred from."""
    response.headers["X-Request-Id"] = g.get("request_id", "")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def error_response(status: int, code: str, message: str) -> Response:
    """One error in the shape of every error body: ``errors`` with a code, the request id."""
    response = jsonify(
        errors=[{"message": message, "extensions": {"code": code}}],
        extensions={"requestId": g.get("request_id", "-")},
    )
    response.status_code = status
    return response


def unavailable(message: str, retry_after: int = 5) -> Response:
    """503 UNAVAILABLE with ``Retry-After``: come back, nothing was wrong with the request."""
    response = error_response(503, "UNAVAILABLE", message)
    response.headers["Retry-After"] = str(retry_after)
    return response


def rate_limited(message: str, headers: dict[str, str]) -> Response:
    """429 RATE_LIMITED with the budget's headers (``ratelimit.headers``: Retry-After …)."""
    response = error_response(429, "RATE_LIMITED", message)
    response.headers.update(headers)
    return response


def http_error(error: HTTPException) -> Response:
    """Werkzeug's HTTP errors (404, 405, 413, …) as a BAD_REQUEST error, headers kept."""
    response = error_response(error.code or 500, "BAD_REQUEST", error.description or "")
    for name in ("Allow", "Retry-After"):
        value = error.get_response().headers.get(name)
        if value:
            response.headers[name] = value
    return response


def unexpected(error: Exception) -> Response:
    """Any other exception: logged with its traceback, answered as INTERNAL with the id."""
    request_id = g.get("request_id", "-")
    log.exception("request %s failed", request_id)
    return error_response(500, "INTERNAL", f"Internal error (request {request_id}).")


class Redact(logging.Filter):
    """Keeps what clients send out of log records.

    An exception keeps its type, its chain and its stack (files, lines, functions) but not its
    message, which may quote a client's value (a Neo4j error quotes the text it failed to
    parse, a GraphQL error the variable); a string argument that is a URI loses its query
    string (a GET to /graphql carries the query and its variables there).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redacted_traceback(record.exc_info[1])
            record.exc_info = None
        if isinstance(record.args, tuple):
            record.args = tuple(_without_query(arg) for arg in record.args)
        return True


def redact_logs() -> None:
    """Put a ``Redact`` on the ``ctxapi`` logger and on every ``ctxapi.*`` logger made so far
    (a logger's filters see only the records logged through it, not its children's)."""
    names = [name for name in logging.root.manager.loggerDict if name.startswith("ctxapi.")]
    for name in ["ctxapi", "ctxapi.graphql.view", *names]:
        logger = logging.getLogger(name)
        if not any(isinstance(f, Redact) for f in logger.filters):
            logger.addFilter(Redact())


def redacted_traceback(error: BaseException) -> str:
    """The traceback of ``error`` and the exceptions it came from, with no messages."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        cause = current.__cause__
        current = (
            cause if cause is not None or current.__suppress_context__ else current.__context__
        )
    parts: list[str] = []
    for position, each in enumerate(reversed(chain)):
        if position:
            parts.append("\nwhich led to (messages are not logged: they may quote client data)\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(each.__traceback__))
        parts.append(_kind(each))
    return "".join(parts)


def _kind(error: BaseException) -> str:
    """``module.Type``, with a Neo4j error's status code (it names the problem, not data)."""
    kind = type(error)
    code = getattr(error, "code", None)
    suffix = f" [{code}]" if isinstance(code, str) and _NEO4J_CODE.match(code) else ""
    return f"{kind.__module__}.{kind.__qualname__}{suffix}"


_NEO4J_CODE = re.compile(r"^Neo\.[A-Za-z]+\.[A-Za-z]+\.[A-Za-z]+$")


def _without_query(value: object) -> object:
    if isinstance(value, str) and value.startswith(("/", "http://", "https://")):
        return value.partition("?")[0]
    return value
