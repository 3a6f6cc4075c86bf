"""ctxapi: the omnichannel customer-context API for support agents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ctxapi.version import __version__

if TYPE_CHECKING:
    from flask import Flask

    from ctxapi.config import Settings

__all__ = ["__version__", "create_app"]


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """The app of ``ctxapi.app.create_app`` with the ``ctxapi`` commands on its CLI, as
    ``flask --app ctxapi ctxapi …`` finds it. ``config`` is a Settings, or overrides of the
    environment's settings."""
    # Imported here, so that the `ctxapi` command does not load Flask and the schema to start.
    from ctxapi.app import create_app as build_app
    from ctxapi.cli import register

    app = build_app(config)
    register(app)
    return app
