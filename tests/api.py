"""Helpers for tests that speak GraphQL to the app."""

from __future__ import annotations

import time
from typing import Any

from flask.testing import FlaskClient


def query(api: FlaskClient, text: str, **variables: Any) -> dict[str, Any]:
    """The whole response body of one GraphQL request (errors included)."""
    response = api.post("/graphql", json={"query": text, "variables": variables})
    body: dict[str, Any] = response.json or {}
    assert body, response.status_code
    return body


def data(api: FlaskClient, text: str, **variables: Any) -> dict[str, Any]:
    """The ``data`` of a GraphQL request that must not fail."""
    body = query(api, text, **variables)
    assert "errors" not in body, body["errors"]
    return body["data"]  # type: ignore[no-any-return]


def ready(api: FlaskClient, timeout: float = 120) -> Any:
    """Probe ``/readyz`` until it says ready (the first probe starts planning the committed
    queries, which a cold Neo4j takes seconds to do) or ``timeout`` passes; the last answer."""
    deadline = time.monotonic() + timeout
    response = api.get("/readyz")
    while response.status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
        response = api.get("/readyz")
    return response
