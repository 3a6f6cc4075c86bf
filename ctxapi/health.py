"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import Blueprint, current_app, jsonify

from ctxapi.db import DatabaseUnavailable
from ctxapi.state import CtxApi

health = Blueprint("health", __name__)

# One spare thread bounds /readyz's answer time even if a connect attempt hangs.
_checker = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz")
# What answering takes besides waiting (a busy host): /readyz answers within readiness_timeout.
_HEADROOM = 0.3


@health.get("/healthz")
def healthz() -> Any:
    """200 while the process serves requests; says nothing about the database."""
    return jsonify(status="ok")


@health.get("/readyz")
def readyz() -> Any:
    """200 when Neo4j answers and the committed queries are planned (ctxapi.warmup), else
    503 with the reason; always within the readiness timeout."""
    state: CtxApi = current_app.extensions["ctxapi"]
    started = time.monotonic()
    budget = max(0.1, state.settings.readiness_timeout - _HEADROOM)
    future = _checker.submit(state.db.ping)
    try:
        future.result(timeout=budget)
    except (DatabaseUnavailable, FutureTimeout) as error:
        reason = (
            str(error) if isinstance(error, DatabaseUnavailable) else "Neo4j did not answer in time"
        )
        return _not_ready(reason)
    state.warmup.start()
    left = budget - (time.monotonic() - started)
    if not state.warmup.wait(max(left, 0.0)):
        return _not_ready("planning the committed queries (warm-up)")
    return jsonify(status="ready", database=state.db.name, plans=state.warmup.state)


def _not_ready(reason: str) -> Any:
    response = jsonify(status="unavailable", reason=reason)
    response.status_code = 503
    response.headers["Retry-After"] = "5"
    return response
