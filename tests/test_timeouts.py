"""A read past its timeout: the caller stops waiting, and Neo4j stops the work."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import replace
from typing import Any, LiteralString

import pytest

from ctxapi.config import Settings
from ctxapi.db import REQUEST_ID, Database, DatabaseUnavailable, PlansWarming, QueryTimedOut

# Seconds of work for Neo4j on any machine: far more than any timeout below.
SLOW: LiteralString = "UNWIND range(1, 2000000000) AS x WITH x WHERE x % 7 = 0 RETURN count(*)"
# Long enough to be seen running, short enough for the suite: a few seconds on this machine.
LONG: LiteralString = "UNWIND range(1, 40000000) AS x WITH x WHERE x % 7 = 0 RETURN count(*)"


def _transactions(db: Database, request: str) -> list[dict[str, Any]]:
    """Neo4j's running transactions of the reads of ``request``."""
    rows = db.read(
        "SHOW TRANSACTIONS YIELD transactionId, metaData, status "
        "WHERE metaData.ctxapi STARTS WITH $prefix "
        "RETURN transactionId, metaData.ctxapi AS tag, status",
        {"prefix": request + "/"},
    )
    return [dict(row) for row in rows]


def _as_request(request: str) -> None:
    REQUEST_ID.set(request)


def _poll(check: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def test_a_read_past_its_timeout_is_cut_and_leaves_no_work_in_neo4j(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    # given a request whose read takes far longer than it may
    request = uuid.uuid4().hex
    _as_request(request)
    caplog.set_level(logging.INFO, logger="ctxapi.db")
    # when
    with pytest.raises(QueryTimedOut) as timed_out:
        db.read(SLOW, timeout=0.5)
    # then the caller is told, ctxapi terminated the read in Neo4j (not Neo4j's own timeout,
    # the backstop), and Neo4j no longer runs it
    _as_request("-")
    assert "did not finish within 0.5 s" in str(timed_out.value)
    terminated = "terminated 1 transaction(s) of a timed-out read"
    assert _poll(lambda: terminated in caplog.messages, 30), caplog.messages
    assert _poll(lambda: not _transactions(db, request), 30)


def test_terminate_stops_a_read_that_runs_in_neo4j(db: Database) -> None:
    # given a read running in Neo4j for a request
    request = uuid.uuid4().hex
    outcome: list[BaseException | None] = []

    def run() -> None:
        _as_request(request)
        try:
            db.read(SLOW, timeout=120)
            outcome.append(None)
        except DatabaseUnavailable as error:
            outcome.append(error)

    reader = threading.Thread(target=run)
    reader.start()
    running = _poll(lambda: _transactions(db, request), 60)
    assert running, "the read never showed in SHOW TRANSACTIONS"
    # when
    terminated = db.terminate(running[0]["tag"])
    reader.join(timeout=60)
    # then it stopped, and its caller was told the database stopped it
    assert terminated == 1
    assert not reader.is_alive()
    assert isinstance(outcome[0], DatabaseUnavailable)
    assert _poll(lambda: not _transactions(db, request), 30)


def test_a_read_of_a_query_being_warmed_waits_for_the_warm_up(settings: Settings) -> None:
    # given a warm-up of a query that takes a few seconds
    db = Database(replace(settings, warming_wait=0.2))
    warming = threading.Thread(target=db.warm, args=(LONG,))
    warming.start()
    _poll(lambda: LONG in db._flights, 30)
    # when a request reads the same query while it is being warmed
    with pytest.raises(PlansWarming) as waited:
        db.read(LONG)
    warming.join(timeout=120)
    # then it waited for the warm-up, a while, instead of running the query a second time
    assert waited.value.public_message() == (
        "The database is warming up after a restart; retry shortly."
    )
    # and once warm, the same read runs
    assert db.read(LONG, timeout=120)[0][0] > 0
    db.close()


def test_held_queries_wait_until_released(db: Database, settings: Settings) -> None:
    # given a query held for warming (as while Neo4j is away)
    waiting = Database(replace(settings, warming_wait=0.1))
    waiting.hold(["RETURN 1 AS one"])
    # when / then
    with pytest.raises(PlansWarming):
        waiting.read("RETURN 1 AS one")
    waiting.release("RETURN 1 AS one")
    assert waiting.read("RETURN 1 AS one")[0]["one"] == 1
    waiting.close()
