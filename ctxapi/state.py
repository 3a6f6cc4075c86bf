"""What a ctxapi app keeps for its requests (``app.extensions["ctxapi"]``)."""

from __future__ import annotations

import atexit
from dataclasses import dataclass
from typing import Any

from flask import Flask

from ctxapi.config import Settings
from ctxapi.db import Database


@dataclass
class CtxApi:
    """What the app keeps in ``app.extensions["ctxapi"]``: its settings, its database, and
    the warm-up of the committed queries' plans (ctxapi.warmup), the check of API keys, the
    audit log and the rate limiter (ctxapi.access)."""

    settings: Settings
    db: Database
    warmup: Any = None
    auth: Any = None
    audit: Any = None
    limiter: Any = None


def init_app(app: Flask, settings: Settings) -> CtxApi:
    """Give ``app`` a Database for ``settings``; its driver is closed when the process exits
    (a gunicorn worker also closes its own when it exits: see ``ctxapi.cli``)."""
    state = CtxApi(settings=settings, db=Database(settings))
    app.extensions["ctxapi"] = state
    atexit.register(state.db.close)
    return state
