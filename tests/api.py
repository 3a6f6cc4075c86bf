"""Helpers for tests that speak GraphQL to the app."""

from __future__ import annotations

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
