"""Liveness and readiness."""

from __future__ import annotations

from flask.testing import FlaskClient

from ctxapi import create_app
from ctxapi.config import Settings
from ctxapi.neo4j_local import free_port


def test_healthz_says_the_process_is_up(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_200_when_neo4j_answers(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "database": "neo4j"}


def test_readyz_is_503_with_a_reason_when_neo4j_is_not_there() -> None:
    # given
    settings = Settings(neo4j_uri=f"neo4j://127.0.0.1:{free_port()}", neo4j_password="x")
    client = create_app(settings).test_client()
    # when
    response = client.get("/readyz")
    # then
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json == {"status": "unavailable", "reason": "Neo4j is not reachable"}


def test_readyz_reports_refused_credentials(client: FlaskClient, settings: Settings) -> None:
    # given
    wrong = Settings(neo4j_uri=settings.neo4j_uri, neo4j_password="not-the-password")
    # when
    response = create_app(wrong).test_client().get("/readyz")
    # then
    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "reason": "Neo4j refused ctxapi's credentials",
    }
