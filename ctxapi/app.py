"""The application factory: settings, the Flask app, and the parts that register on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from ctxapi import browsers, desk, http, metrics
from ctxapi.access.audit import AuditLog
from ctxapi.access.guard import Authenticator
from ctxapi.access.keys import KeyStore
from ctxapi.config import Settings, from_env
from ctxapi.gladly.views import gladly
from ctxapi.graphql import graphiql
from ctxapi.graphql.schema import schema
from ctxapi.graphql.view import GraphQLView
from ctxapi.health import health
from ctxapi.ratelimit import RateLimiter
from ctxapi.state import init_app as init_state
from ctxapi.warmup import Warmup


def create_app(
    config: Settings | Mapping[str, Any] | None = None, *, limiter: RateLimiter | None = None
) -> Flask:
    """The WSGI app. ``config`` is a Settings, or overrides of the environment's settings;
    ``limiter`` keeps the API keys' rate budgets (one of the process by default: gunicorn
    makes one in its master that the workers share).

    Without the ``ctxapi`` commands, which need this factory to serve: ``ctxapi.create_app``
    adds them for ``flask --app ctxapi``.
    """
    settings = config if isinstance(config, Settings) else from_env().with_overrides(config)
    app = Flask("ctxapi", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    state = init_state(app, settings)
    state.warmup = Warmup(state.db, settings)
    state.db.on_availability(state.warmup.availability)
    state.auth = Authenticator(KeyStore(state.db), settings.key_cache_seconds)
    state.audit = AuditLog(settings.audit_path(), echo=settings.audit_stdout)
    state.limiter = limiter or RateLimiter()
    http.init_app(app)
    browsers.init_app(app, settings)
    app.add_url_rule(
        "/graphql",
        "graphql",
        GraphQLView(schema.graphql_schema, settings.limits),
        methods=["GET", "POST"],
    )
    graphiql.init_app(app)
    desk.init_app(app, settings)
    app.register_blueprint(health)
    app.register_blueprint(gladly)  # POST /gladly/lookup (docs/gladly.md)
    metrics.init_app(app)
    return app
