"""The Neo4j driver's lifecycle (one per process, made after fork), read/write helpers, errors."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, LiteralString, TypeVar

from neo4j import READ_ACCESS, Driver, GraphDatabase, ManagedTransaction, Query, ResultSummary
from neo4j.exceptions import (
    AuthError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from ctxapi.config import Settings

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Per request (set by the GraphQL view): the duration in ms of every read it ran.
QUERY_LOG: ContextVar[list[float] | None] = ContextVar("ctxapi_query_log", default=None)


class DatabaseUnavailable(RuntimeError):
    """Neo4j cannot be reached right now (down, restarting, refusing our credentials)."""

    def public_message(self) -> str:
        """What an API client is told (the exception's own text may name hosts)."""
        return "The database is unavailable right now; retry shortly."


class QueryTimedOut(DatabaseUnavailable):
    """A read ran past ``query_timeout`` (a cold plan of a big query under load, a busy
    server): the client may retry shortly, like when the database is down."""

    def public_message(self) -> str:
        return "The query took too long (" + str(self) + "); retry shortly."


_TIMED_OUT = "Neo.ClientError.Transaction.TransactionTimedOut"
_TERMINATED = "Neo.ClientError.Transaction.Terminated"

# Errors that mean "the database is not there", as opposed to "this query is wrong".
# TransientError: Neo4j's own "database unavailable" (starting, stopping, a leader switch) and
# the other errors that a retry shortly after may not meet.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    ServiceUnavailable,
    SessionExpired,
    AuthError,
    TransientError,
    OSError,
)
# A Neo4jError is a DriverError too; unavailable_as_error re-raises those about the query.
_CAUGHT: tuple[type[Exception], ...] = (*UNAVAILABLE_ERRORS, DriverError)


class Database:
    """Holds this process's driver; created lazily so gunicorn workers each get their own.

    Whoever makes a Database closes it: ``init_app`` does so at exit for the app's.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.neo4j_database
        self._driver: Driver | None = None
        self._pid = 0
        self._lock = threading.Lock()

    @property
    def driver(self) -> Driver:
        """The driver of this process; a forked child makes its own instead of sharing sockets."""
        if self._driver is None or self._pid != os.getpid():
            with self._lock:
                if self._driver is None or self._pid != os.getpid():
                    self._driver = self._connect()
                    self._pid = os.getpid()
        return self._driver

    def _connect(self) -> Driver:
        s = self.settings.resolved()
        return GraphDatabase.driver(
            s.neo4j_uri,
            auth=(s.neo4j_user, s.neo4j_password),
            connection_timeout=s.neo4j_connection_timeout,
            connection_acquisition_timeout=s.neo4j_acquisition_timeout,
            max_transaction_retry_time=s.neo4j_max_retry_time,
            max_connection_pool_size=s.neo4j_pool_size,
            user_agent="ctxapi",
            # Notifications are advice for humans at a console; the API has nobody to read them.
            notifications_min_severity="OFF",
        )

    def close(self) -> None:
        """Close this process's driver (a no-op when none was made or it belongs to a parent)."""
        if self._driver is not None and self._pid == os.getpid():
            self._driver.close()
        self._driver = None

    def read(
        self,
        query: LiteralString,
        parameters: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> list[Any]:
        """Run a read query with read routing (a cluster serves it from secondaries).

        An auto-commit query, deliberately not retried: when Neo4j is down the API answers
        503 UNAVAILABLE at once (with Retry-After) instead of holding the request through the
        driver's retry back-off. ``timeout`` (default ``query_timeout``) bounds a runaway
        query on the server.
        """
        started = time.perf_counter()
        records, _summary = self._run_read(query, parameters, timeout)
        timings = QUERY_LOG.get()
        if timings is not None:
            timings.append((time.perf_counter() - started) * 1000)
        return records

    def write(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Run ``work`` in a managed write transaction (the driver may retry it: be idempotent)."""
        with unavailable_as_error(), self.driver.session(database=self.name) as session:
            return session.execute_write(work)

    def profile(
        self,
        query: LiteralString,
        parameters: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> tuple[list[Any], dict[str, Any]]:
        """Run a read query once with ``PROFILE``: its records and Neo4j's profiled plan
        (operators with rows and db hits), for ``ctxapi explain --profile``. ``timeout``
        (default ``query_timeout``) bounds it on the server; a cold plan of a big query can
        take longer to make than an API request may wait."""
        records, summary = self._run_read("PROFILE " + query, parameters, timeout)
        return records, dict(summary.profile or {})

    def _run_read(
        self, query: LiteralString, parameters: Mapping[str, Any] | None, timeout: float | None
    ) -> tuple[list[Any], ResultSummary]:
        """One auto-commit read with read routing: its records and summary; Neo4j's timeout,
        termination and absence become QueryTimedOut and DatabaseUnavailable."""
        timeout = self.settings.query_timeout if timeout is None else timeout
        with (
            unavailable_as_error(),
            self.driver.session(database=self.name, default_access_mode=READ_ACCESS) as session,
        ):
            try:
                result = session.run(Query(query, timeout=timeout), dict(parameters or {}))
                return list(result), result.consume()
            except Neo4jError as error:
                if (error.code or "").startswith(_TIMED_OUT):
                    log.warning("query timed out after %s s", timeout)
                    _count("timed_out")
                    raise QueryTimedOut(f"the query did not finish within {timeout:g} s") from error
                if error.code == _TERMINATED:  # by an operator, or Neo4j's memory guard
                    log.warning("Neo4j terminated a read")
                    _count("other")
                    raise DatabaseUnavailable("Neo4j stopped the query") from error
                raise

    def run_batched(self, query: LiteralString) -> None:
        """Run a ``CALL { … } IN TRANSACTIONS`` statement, which Neo4j only accepts in an
        implicit (auto-commit) transaction. Not retried: make it idempotent and rerun it."""
        with unavailable_as_error(), self.driver.session(database=self.name) as session:
            session.run(query).consume()

    def ping(self) -> None:
        """Raise DatabaseUnavailable unless Neo4j answers now (no retries: used by /readyz)."""
        with unavailable_as_error():
            self.driver.verify_connectivity()


@dataclass
class CtxApi:
    """What the app keeps in ``app.extensions["ctxapi"]``: its settings, its database, and
    the warm-up of the committed queries' plans (ctxapi.warmup)."""

    settings: Settings
    db: Database
    warmup: Any = None


def init_app(app: Flask, settings: Settings) -> CtxApi:
    """Give ``app`` a Database for ``settings``; its driver is closed when the process exits
    (a gunicorn worker also closes its own when it exits: see ``ctxapi.cli``)."""
    state = CtxApi(settings=settings, db=Database(settings))
    app.extensions["ctxapi"] = state
    atexit.register(state.db.close)
    return state


@contextmanager
def unavailable_as_error() -> Iterator[None]:
    """Turn driver errors that mean "Neo4j is not reachable" into DatabaseUnavailable."""
    try:
        yield
    except _CAUGHT as error:
        if isinstance(error, Neo4jError) and not isinstance(error, UNAVAILABLE_ERRORS):
            raise
        log.warning("Neo4j unavailable: %s: %s", type(error).__name__, error)
        _count("unavailable")
        raise DatabaseUnavailable(describe(error)) from error


def _count(kind: str) -> None:
    """Count a driver error in ctxapi.metrics (imported here, when first needed: the process
    that starts gunicorn must not load prometheus_client before choosing its mode)."""
    from ctxapi import metrics

    metrics.neo4j_error(kind)


def describe(error: BaseException) -> str:
    """A short, safe description of a driver error for logs and readiness reasons."""
    if isinstance(error, AuthError):
        return "Neo4j refused ctxapi's credentials"
    if isinstance(error, (ServiceUnavailable, SessionExpired, OSError)):
        return "Neo4j is not reachable"
    if isinstance(error, TransientError):
        return "Neo4j cannot serve the database right now"
    return f"Neo4j error ({type(error).__name__})"
