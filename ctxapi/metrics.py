"""What the API serves at ``GET /metrics``, in Prometheus' text format (``prometheus_client``).

Two modes, chosen by prometheus_client when it is first imported in a process:

- **Multiprocess** under ``ctxapi serve`` / ``ctxapi run``: ``ctxapi.serving`` points
  ``PROMETHEUS_MULTIPROC_DIR`` at a fresh temporary folder per server (removed when it stops)
  before any worker starts; every worker writes its values there, and ``/metrics``, whichever
  worker answers, sums them all (a gone worker's live gauges are dropped by ``worker_exit``).
- **One process** (the Flask test client, ``flask run``): the default registry.

Labels never carry a client's values: the operation name only when it is a short GraphQL
name (else ``other``), the HTTP status, a limit's name, an error kind, a warm-up state.
Only the GraphQL view records requests: ``/metrics``, ``/healthz`` and ``/readyz`` are not
counted. Answering needs neither Neo4j nor any lock held by a request.
"""

from __future__ import annotations

import os
import re

from flask import Flask, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

#: Seconds; the API's p50 is about 5 ms, a read may run up to the query timeout (10 s).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MAX_OPERATION_LENGTH = 64
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: What ``db.py`` tells apart when it turns a driver error into DatabaseUnavailable.
ERROR_KINDS = ("unavailable", "timed_out", "other")
#: The states of ``ctxapi.warmup.Warmup``.
WARMUP_STATES = ("pending", "running", "warm", "stale", "failed")

REQUESTS = Counter(
    "ctxapi_graphql_requests",
    "GraphQL requests by operation name and HTTP status.",
    ["operation", "status"],
)
LATENCY = Histogram(
    "ctxapi_graphql_request_duration_seconds",
    "Time /graphql took to answer, by operation name.",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
TOO_COMPLEX = Counter(
    "ctxapi_graphql_too_complex",
    "Requests refused with QUERY_TOO_COMPLEX, by the limit they were over.",
    ["limit"],
)
NEO4J_ERRORS = Counter(
    "ctxapi_neo4j_errors",
    "Neo4j errors answered as UNAVAILABLE: unavailable (unreachable, refused credentials, "
    "Neo4j's own 'not now'), timed_out (a read past the query timeout), other (terminated).",
    ["kind"],
)
WARMUP = Gauge(
    "ctxapi_plans_warmup",
    "Worker processes whose warm-up of the committed queries' plans is in each state.",
    ["state"],
    multiprocess_mode="livesum",
)
READY = Gauge(
    "ctxapi_plans_ready",
    "1 when every worker has finished its first warm-up (ctxapi.warmup), else 0.",
    multiprocess_mode="livemin",
)

#: How a query was answered: ``fast`` (the compiled fast path, ctxapi.graphql.fast), ``gave_up``
#: (it started there and graphql-core answered: an error to word), ``graphql`` (not for it).
EXECUTION_PATHS = ("fast", "gave_up", "graphql")
EXECUTIONS = Counter(
    "ctxapi_graphql_executions",
    "Queries by how they were answered: fast (the compiled fast path), gave_up (started on it,"
    " answered by graphql-core to word an error), graphql (not made only of compiled fields).",
    ["path"],
)

LIVE_STREAMS = Gauge(
    "ctxapi_live_streams",
    "Pages following live updates (/events) now, over the worker processes.",
    multiprocess_mode="livesum",
)


def init_app(app: Flask) -> None:
    """Serve ``/metrics`` on ``app``."""
    app.add_url_rule("/metrics", "metrics", serve, methods=["GET"])


def serve() -> Response:
    """The metrics of this process, or of every worker of the server in multiprocess mode."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def operation_label(name: str | None) -> str:
    """The operation's name as a label: ``anonymous``, or ``other`` when it could be anything."""
    if not name:
        return "anonymous"
    if len(name) > MAX_OPERATION_LENGTH or not _NAME.fullmatch(name):
        return "other"
    return name


def observe_request(operation: str | None, status: int, seconds: float) -> None:
    """One /graphql request answered."""
    label = operation_label(operation)
    REQUESTS.labels(label, str(status)).inc()
    LATENCY.labels(label).observe(seconds)


def too_complex(limit: str) -> None:
    """One request refused for going over ``limit`` (a name of ``ctxapi.limits.Limits``)."""
    TOO_COMPLEX.labels(limit).inc()


def executed(path: str) -> None:
    """One query answered by ``path`` (one of EXECUTION_PATHS)."""
    EXECUTIONS.labels(path).inc()


def neo4j_error(kind: str) -> None:
    """One driver error turned into DatabaseUnavailable; ``kind`` is one of ERROR_KINDS."""
    NEO4J_ERRORS.labels(kind).inc()


def warmup_state(state: str, *, ready: bool) -> None:
    """This process's warm-up is now in ``state``."""
    for name in WARMUP_STATES:
        WARMUP.labels(name).set(1 if name == state else 0)
    READY.set(1 if ready else 0)
