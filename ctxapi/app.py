"""The application factory: settings, the Flask app, and the parts that register on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from ctxapi import db, http, metrics
from ctxapi.config import Settings, from_env
from ctxapi.graphql import graphiql
from ctxapi.graphql.schema import schema
from ctxapi.graphql.view import GraphQLView
from ctxapi.health import health
from ctxapi.warmup import Warmup


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """The WSGI app. ``config`` is a Settings, or overrides of the environment's settings.

    Without the ``ctxapi`` commands, which need this factory to serve: ``ctxapi.create_app``
    adds them for ``flask --app ctxapi``.
    """
    settings = config if isinstance(config, Settings) else from_env().with_overrides(config)
    app = Flask("ctxapi", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    state = db.init_app(app, settings)
    state.warmup = Warmup(state.db, settings)
    state.db.on_availability(state.warmup.availability)
    http.init_app(app)
    app.add_url_rule(
        "/graphql",
        "graphql",
        GraphQLView(schema.graphql_schema, settings.limits),
        methods=["GET", "POST"],
    )
    graphiql.init_app(app)
    app.register_blueprint(health)
    metrics.init_app(app)
    return app
