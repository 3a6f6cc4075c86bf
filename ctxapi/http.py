"""Request ids and JSON error responses, for every route of the app."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

# The package's logger, like the app's: records keep the name "ctxapi".
log = logging.getLogger("ctxapi")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def init_app(app: Flask) -> None:
    """Give every request an id (echoed as X-Request-Id) and every error a JSON body."""
    app.before_request(assign_request_id)
    app.after_request(echo_request_id)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)


def assign_request_id() -> None:
    """The client's X-Request-Id when it is a safe one, else a new one."""
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def echo_request_id(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "")
    return response


def http_error(error: HTTPException) -> Response:
    """Werkzeug's HTTP errors (404, 405, 413, …) as a BAD_REQUEST error, headers kept."""
    response = jsonify(
        errors=[{"message": error.description, "extensions": {"code": "BAD_REQUEST"}}],
        extensions={"requestId": g.get("request_id")},
    )
    response.status_code = error.code or 500
    for name in ("Allow", "Retry-After"):
        value = error.get_response().headers.get(name)
        if value:
            response.headers[name] = value
    return response


def unexpected(error: Exception) -> Response:
    """Any other exception: logged with its traceback, answered as INTERNAL with the id."""
    request_id = g.get("request_id", "-")
    log.exception("request %s failed", request_id)
    response = jsonify(
        errors=[
            {
                "message": f"Internal error (request {request_id}).",
                "extensions": {"code": "INTERNAL"},
            }
        ],
        extensions={"requestId": request_id},
    )
    response.status_code = 500
    return response
