"""ctxapi: the omnichannel customer-context API for support agents."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__version__ = "0.1.0"

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass
class CtxApi:
    """What the app keeps in ``app.extensions["ctxapi"]``: its settings and its database."""

    settings: Any
    db: Any


def create_app(config: Mapping[str, Any] | Any | None = None) -> Any:
    """Build the Flask app. ``config`` is a Settings, or overrides of the environment's settings."""
    from flask import Flask, Response, g, jsonify, request
    from werkzeug.exceptions import HTTPException

    from ctxapi import config as configuration
    from ctxapi.db import Database
    from ctxapi.graphql.schema import schema
    from ctxapi.graphql.view import GraphQLView
    from ctxapi.health import health

    if isinstance(config, configuration.Settings):
        settings = config
    else:
        settings = configuration.from_env().with_overrides(config)

    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.extensions["ctxapi"] = CtxApi(settings=settings, db=Database(settings))

    @app.before_request
    def assign_request_id() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
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

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
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

    app.add_url_rule(
        "/graphql",
        "graphql",
        GraphQLView(schema.graphql_schema),
        methods=["GET", "POST"],
    )
    static = Path(__file__).parent / "graphql" / "static" / "graphiql"

    def graphiql_static(filename: str) -> Any:
        from flask import send_from_directory

        return send_from_directory(static, filename, max_age=86400)

    app.add_url_rule("/graphiql/<path:filename>", "graphiql_static", graphiql_static)
    app.register_blueprint(health)

    from ctxapi.cli import register

    register(app)
    return app
