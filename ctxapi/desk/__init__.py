"""The agent's desktop: the customer card (``/card``), the proactive queue (``/queue``) and
their live updates (``/events``), served by the app. docs/desktop.md is the reference.

The pages are shells with no data in them: their script asks ``/graphql`` with the agent's API
key (given by the embedding desktop, see ``pages``), so a page reads exactly what its key may.
"""

from __future__ import annotations

from flask import Flask

from ctxapi.config import Settings
from ctxapi.desk import pages
from ctxapi.desk.live import Feed


def init_app(app: Flask, settings: Settings) -> None:
    """Register the pages, their assets and the live-update stream on ``app``, with its
    feed (whose poller runs only while a page follows)."""
    db = app.extensions["ctxapi"].db
    feed = Feed(db, settings.now, settings.live_poll_seconds, settings.live_max_streams)
    app.register_blueprint(pages.blueprint(settings, feed))
