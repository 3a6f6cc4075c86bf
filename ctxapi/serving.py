"""gunicorn as ``ctxapi serve`` and ``ctxapi run`` configure it.

Threaded workers (gunicorn's ``gthread``): a worker's main loop accepts connections and keeps
idle ones (kept alive, or not sending yet) in its poller, and a pool of ``threads`` serves
requests. A client that sends its request slowly holds one thread, not the worker, and a worker
whose threads are all taken leaves new connections to the others (``ThreadWorker``), so
/healthz and /graphql keep answering while fewer than workers times threads clients stall.
The threads of a worker share its one Neo4j driver, made after the fork (the driver is
thread-safe; ``CTXAPI_NEO4J_POOL_SIZE`` bounds its connections).

Metrics: each server gets a fresh temporary ``PROMETHEUS_MULTIPROC_DIR`` (``multiprocess_metrics``)
before its workers start, so ``/metrics`` sums every worker (ctxapi.metrics); a worker that
exits drops its live gauges there, and the folder goes when the server stops.

The access log names the path without the query string: a GET to /graphql carries the query
and its variables (emails, phone numbers) in the URL. ``CTXAPI_ACCESS_LOG`` takes it off the
hot path: ``errors`` writes a line only for a failed or slow request, ``off`` none (gunicorn
then builds no line at all).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.workers import gthread

from ctxapi.config import Settings
from ctxapi.http import Redact
from ctxapi.ratelimit import RateLimiter

#: Time, method, path (no query string), status, body bytes, milliseconds, request id.
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'
#: Seconds an idle kept-alive connection stays open (in the poller, holding no thread).
KEEPALIVE_SECONDS = 5
#: ``CTXAPI_ACCESS_LOG``: every request, only failed or slow ones (``SLOW_SECONDS``), none.
ACCESS_LOG_MODES = ("all", "errors", "off")
SLOW_SECONDS = 1.0
GRACEFUL_TIMEOUT_SECONDS = 10


class Logger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger; its error log also carries the app's ``ctxapi`` records, and
    neither quotes query strings nor exception messages (see ``ctxapi.http.Redact``)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if not any(isinstance(f, Redact) for f in self.error_log.filters):
            self.error_log.addFilter(Redact())
        app_log = logging.getLogger("ctxapi")
        app_log.handlers = list(self.error_log.handlers)
        app_log.setLevel(logging.INFO)
        app_log.propagate = False
        # The driver's own records (with no handler, Python printed them bare on stderr: one
        # "Unable to retrieve routing information" per request in an outage) only when
        # critical: ctxapi.db logs every driver error it meets, once, in the log's format.
        driver_log = logging.getLogger("neo4j")
        driver_log.handlers = list(self.error_log.handlers)
        driver_log.addFilter(Redact())
        driver_log.setLevel(logging.CRITICAL)
        driver_log.propagate = False


class ErrorsLogger(Logger):
    """The logger of ``CTXAPI_ACCESS_LOG=errors``: an access line only for a request that
    failed (status 400 or more) or was slow (a second or more); a quick success costs no
    line."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        if resp.status_code < 400 and request_time.total_seconds() < SLOW_SECONDS:
            return
        super().access(resp, req, environ, request_time)


class ThreadWorker(gthread.ThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker, accepting connections only while one of its threads is free.

    The stock worker goes on accepting when slow clients hold all its threads, and what it
    accepts waits behind them however idle the other workers are; this one leaves new
    connections in the listen queue, for a worker with a free thread. Its counts change on the
    main loop only (``enqueue_req``, ``finish_request`` and accepting all run there: the
    gthread of gunicorn 27; tests/test_serving.py checks the methods it builds on).
    """

    busy = 0

    def enqueue_req(self, conn: Any) -> None:
        self.busy += 1
        super().enqueue_req(conn)
        if self.busy >= self.cfg.threads:
            self.set_accept_enabled(False)

    def finish_request(self, *args: Any) -> None:
        self.busy -= 1
        super().finish_request(*args)

    def set_accept_enabled(self, enabled: bool) -> None:
        # The main loop asks again on every turn, so accepting resumes once a thread is free.
        super().set_accept_enabled(enabled and self.busy < self.cfg.threads)


def options(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    worker_exit: Callable[[Any, Any], None],
) -> dict[str, Any]:
    """gunicorn's settings for one server."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": ThreadWorker,
        "threads": threads,
        "keepalive": KEEPALIVE_SECONDS,
        # With threads, the worker's main loop beats the heartbeat: this replaces a worker
        # whose loop hangs; CTXAPI_QUERY_TIMEOUT and the driver limits bound a slow request.
        "timeout": settings.worker_timeout,
        "graceful_timeout": GRACEFUL_TIMEOUT_SECONDS,
        "accesslog": None if settings.access_log == "off" else "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "logger_class": ErrorsLogger if settings.access_log == "errors" else Logger,
        # Several servers (tests, make run) may run at once; none needs the control socket.
        "control_socket_disable": True,
        "worker_exit": _and_mark_dead(worker_exit),
        "post_worker_init": warm_up,
    }


def _and_mark_dead(worker_exit: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """``worker_exit``, then prometheus_client's bookkeeping of the exiting worker."""

    def hook(server: Any, worker: Any) -> None:
        worker_exit(server, worker)
        if os.environ.get(MULTIPROC_DIR):
            from prometheus_client.multiprocess import mark_process_dead

            mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]

    return hook


MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def multiprocess_metrics() -> Iterator[str]:
    """A fresh ``PROMETHEUS_MULTIPROC_DIR`` for one server's workers, removed at the end.

    Set before the workers import prometheus_client (they load the app after the fork), and
    prometheus_client told again if this process loaded it already (``ctxapi run``)."""
    creator = os.getpid()
    folder = tempfile.mkdtemp(prefix="ctxapi-metrics-")
    before = os.environ.get(MULTIPROC_DIR)
    os.environ[MULTIPROC_DIR] = folder
    if "prometheus_client.values" in sys.modules:
        from prometheus_client import values

        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    try:
        yield folder
    finally:
        # A worker leaves gunicorn by SystemExit through here too: only the server cleans up.
        if os.getpid() == creator:
            shutil.rmtree(folder, ignore_errors=True)
            if before is None:
                os.environ.pop(MULTIPROC_DIR, None)
            else:
                os.environ[MULTIPROC_DIR] = before


def warm_up(worker: Any) -> None:
    """gunicorn's post_worker_init hook: plan the committed queries (ctxapi.warmup) in the
    background as soon as the worker has its app, before any probe asks."""
    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        app.extensions["ctxapi"].warmup.start()


class Server(BaseApplication):  # type: ignore[misc]
    """A gunicorn application serving ``create_app(settings)`` with ``options``."""

    def __init__(self, settings: Settings, settings_for_gunicorn: dict[str, Any]) -> None:
        self.settings = settings
        self.gunicorn_options = settings_for_gunicorn
        # Made here, in the master, so that every worker forked from it shares the budgets.
        self.limiter = RateLimiter.shared()
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.gunicorn_options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from ctxapi.app import create_app

        return create_app(self.settings, limiter=self.limiter)
