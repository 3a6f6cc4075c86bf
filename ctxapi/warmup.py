"""Plan the committed queries before serving them, so a cold plan cache never causes an outage.

The Cypher of the headline query with insights is about 14 KB: planned cold (after a restart
or a bulk load, on a busy host) it can take longer than ``query_timeout``, and a query cut at
the timeout never leaves its plan in Neo4j's cache, so every attempt fails the same way. The
warm-up runs each committed query once (schema/queries/, with variables that match nobody)
with ``warmup_timeout`` instead, from a background thread of each process. ``/readyz`` says
ready once this process's first warm-up is done. When Neo4j comes back after being away (its
plan cache may be empty) the Database tells the warm-up, which runs again; meanwhile reads of a
query being warmed wait for it rather than plan it at the same time (ctxapi.db.Database.warm).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from graphql import parse

from ctxapi import metrics
from ctxapi.config import PROJECT_ROOT, Settings
from ctxapi.db import Database, DatabaseUnreachable
from ctxapi.graphql.compiler import CompiledQuery, compile
from ctxapi.graphql.schema import schema

log = logging.getLogger(__name__)

QUERIES = PROJECT_ROOT / "schema" / "queries"
#: Each committed query with variables that find nobody (the plan is what matters).
COMMITTED: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("customer_context", "customer_context.graphql", {"email": "warm-up@ctxapi.invalid"}),
    (
        "customer_context_insights",
        "customer_context.graphql",
        {"email": "warm-up@ctxapi.invalid", "withInsights": True},
    ),
    ("proactive_queue", "proactive_queue.graphql", {"after": None}),
    ("proactive_customers", "proactive_customers.graphql", {"after": None}),
    ("search_customers", "search_customers.graphql", {"query": "warm-up@ctxapi.invalid"}),
    ("card", "card.graphql", {"id": "warm-up"}),
)


@dataclass
class Warmup:
    """This process's warm-up: ``state`` is ``pending``, ``running``, ``warm``, ``stale``
    (Neo4j went away since: warmed again when it is back) or ``failed`` (a committed query
    itself failed, logged); ``ready`` once one warm-up has finished."""

    db: Database
    settings: Settings
    state: str = "pending"
    seconds: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _done: threading.Event = field(default_factory=threading.Event)
    _held_texts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        metrics.warmup_state(self.state, ready=self.ready)

    @property
    def ready(self) -> bool:
        """Whether one warm-up has finished (``warm`` or ``failed``), for good."""
        return self._done.is_set()

    def _to(self, state: str) -> None:
        """Move to ``state`` (holding the lock); a finished warm-up makes the process ready."""
        self.state = state
        if state in ("warm", "failed"):
            self._done.set()
        metrics.warmup_state(state, ready=self.ready)

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the first warm-up; whether it has finished."""
        return self._done.wait(seconds)

    def start(self) -> None:
        """Warm up in the background unless warm or already warming."""
        with self._lock:
            if self.state in ("running", "warm", "failed"):
                return
            self._to("running")
        threading.Thread(target=self.run, name="ctxapi-warmup", daemon=True).start()

    def availability(self, available: bool) -> None:
        """Told by the Database: Neo4j went away (plans may be gone when it is back) or answers
        again (warm them now, before requests meet cold plans)."""
        if available:
            with self._lock:
                stale = self.state == "stale"
            if stale:
                self.start()
        else:
            self.stale()

    def stale(self) -> None:
        """Neo4j is not there: its plan cache may be empty when it is back, so reads of the
        committed queries wait for the next warm-up rather than plan them cold all at once."""
        with self._lock:
            if self.state != "warm":
                return
            self._to("stale")
            self.db.hold(self._texts())

    def _texts(self) -> list[str]:
        """The committed queries' Cypher texts (compiled once: they do not change)."""
        if not self._held_texts:
            self._held_texts = [query.text for _, queries in self._compiled() for query in queries]
        return self._held_texts

    def _compiled(self) -> list[tuple[str, list[CompiledQuery]]]:
        """Each committed query's name and Cypher, compiled now (``$__now`` is today's)."""
        return [
            (name, compile(schema.graphql_schema, parse((QUERIES / file).read_text()), variables,
                           settings=self.settings))
            for name, file, variables in COMMITTED
        ]  # fmt: skip

    def run(self) -> None:
        """Run every committed query once; a failure leaves the state ``stale`` (retried)."""
        compiled: list[tuple[str, list[CompiledQuery]]] = []
        try:
            compiled = self._compiled()
            for name, queries in compiled:
                started = time.perf_counter()
                for query in queries:
                    self.db.warm(query.text, query.params)
                self.seconds[name] = round(time.perf_counter() - started, 3)
        except DatabaseUnreachable as error:
            log.warning("warm-up stopped: %s", error.public_message())
            with self._lock:
                self._to("stale")  # before holding: a notice that Neo4j is back starts a run
                self.db.hold(query.text for _, queries in compiled for query in queries)
            if not self.db.away:  # it came back while this run was failing: nobody will say so
                self.start()
            return
        except Exception:
            # A timeout of the warm-up's own, a query Neo4j could not serve now, or the query
            # itself (a schema not applied, say): requests meet the same and report it;
            # readiness does not wait for it forever, and nothing stays held.
            log.exception("warm-up failed")
            for _, queries in compiled:
                for query in queries:
                    self.db.release(query.text)
            with self._lock:
                self._to("failed")
            return
        log.info("query plans warm: %s", self.seconds)
        with self._lock:
            self._to("warm")
