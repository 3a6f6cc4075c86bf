"""What Neo4j's absence looks like to ctxapi: the errors a read or a ping raises when the
database is not there, stopped a query, or took too long, and what clients and logs are told."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from neo4j.exceptions import (
    AuthError,
    DriverError,
    Neo4jError,
    ResultFailedError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

log = logging.getLogger("ctxapi.db")
T = TypeVar("T")


class DatabaseUnavailable(RuntimeError):
    """Neo4j cannot be reached right now (down, restarting, refusing our credentials)."""

    def public_message(self) -> str:
        """What an API client is told (the exception's own text may name hosts)."""
        return "The database is unavailable right now; retry shortly."


class DatabaseUnreachable(DatabaseUnavailable):
    """Neo4j itself is not there (no connection, no handshake, refused credentials, its own
    "database unavailable"), as opposed to one query that it could not serve now: what makes
    ctxapi hold the committed queries until Neo4j is back (ctxapi.warmup)."""


class PlansWarming(DatabaseUnavailable):
    """Neo4j is back after being away and this query's plan is being made again (ctxapi.warmup):
    the client may retry shortly."""

    def public_message(self) -> str:
        return "The database is warming up after a restart; retry shortly."


class QueryTimedOut(DatabaseUnavailable):
    """A read ran past ``query_timeout`` (a cold plan of a big query under load, a busy
    server): the client may retry shortly, like when the database is down."""

    def public_message(self) -> str:
        return "The query took too long (" + str(self) + "); retry shortly."


class WriteConflict(DatabaseUnavailable):
    """A write transaction met an error Neo4j says to retry (a deadlock with a concurrent
    write) while another of its results was read, which the driver reports as a
    ResultFailedError and does not retry itself: ``Database.write`` runs it again."""


#: How often a write meets a retryable error the driver does not retry before it gives up.
WRITE_ATTEMPTS = 5


def retrying_conflicts(once: Callable[[], T]) -> T:
    """``once()`` again (with a short back-off) while it raises WriteConflict, a few times."""
    for attempt in range(1, WRITE_ATTEMPTS):
        try:
            return once()
        except WriteConflict:
            time.sleep(0.05 * 2**attempt)
    return once()


class InvalidBookmarks(ValueError):
    """A request's bookmarks (the Ctxapi-Bookmarks header) that Neo4j does not know."""


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
_DATABASE_UNAVAILABLE = "Neo.TransientError.General.DatabaseUnavailable"
# A Neo4jError is a DriverError too; unavailable_as_error re-raises those about the query.
_CAUGHT: tuple[type[Exception], ...] = (*UNAVAILABLE_ERRORS, DriverError)


@contextmanager
def unavailable_as_error() -> Iterator[None]:
    """Turn driver errors that mean "Neo4j is not reachable" into DatabaseUnavailable."""
    try:
        yield
    except _CAUGHT as error:
        if isinstance(error, Neo4jError) and not isinstance(error, UNAVAILABLE_ERRORS):
            raise
        cause = error.__cause__
        if isinstance(error, ResultFailedError) and isinstance(cause, Neo4jError):
            # the driver's report of an error met while another result was read
            if cause.is_retryable():
                raise WriteConflict(describe(cause)) from error
            if not isinstance(cause, UNAVAILABLE_ERRORS):
                raise cause from error  # about the query (a constraint …): as if met directly
        log.warning("Neo4j unavailable: %s: %s", type(error).__name__, error)
        count("unavailable")
        if isinstance(error, TransientError) and error.code != _DATABASE_UNAVAILABLE:
            raise DatabaseUnavailable(describe(error)) from error  # this query, not Neo4j
        raise DatabaseUnreachable(describe(error)) from error


def count(kind: str) -> None:
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
