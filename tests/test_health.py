"""Liveness and readiness."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from flask.testing import FlaskClient

from ctxapi import create_app
from ctxapi.config import Settings
from ctxapi.neo4j_local import free_port


def test_healthz_says_the_process_is_up(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_200_when_neo4j_answers_and_the_committed_queries_are_planned(
    client: FlaskClient,
) -> None:
    # when: probed until ready (the first probe starts the warm-up; a cold plan of the
    # insights query may take longer than one probe waits)
    deadline = time.monotonic() + 120
    response = client.get("/readyz")
    while response.status_code != 200 and time.monotonic() < deadline:
        assert response.json == {
            "status": "unavailable",
            "reason": "planning the committed queries (warm-up)",
        }
        time.sleep(0.5)
        response = client.get("/readyz")
    # then every committed query ran once, with the warm-up's own timeout
    assert response.status_code == 200
    assert response.json == {"status": "ready", "database": "neo4j", "plans": "warm"}
    warmup = client.application.extensions["ctxapi"].warmup
    assert set(warmup.seconds) == {
        "customer_context",
        "customer_context_insights",
        "proactive_queue",
        "proactive_customers",
        "search_customers",
        "card",
    }


def test_the_warm_up_waits_longer_for_a_plan_than_a_request_may(
    settings: Settings, db: object
) -> None:
    # given an API whose requests may take 1 ms: a cold plan of the insights query cannot
    app = create_app(replace(settings, query_timeout=0.001, warmup_timeout=120))
    warmup = app.extensions["ctxapi"].warmup
    # when
    warmup.run()
    # then the warm-up is not cut short by the request timeout
    assert (warmup.state, warmup.ready) == ("warm", True)


def test_the_warm_up_goes_stale_when_neo4j_is_away() -> None:
    # given
    settings = Settings(neo4j_uri=f"neo4j://127.0.0.1:{free_port()}", neo4j_password="x")
    warmup = create_app(settings).extensions["ctxapi"].warmup
    # when
    warmup.run()
    # then it is tried again on the next probe
    assert (warmup.state, warmup.ready) == ("stale", False)


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


def test_a_warm_up_that_fails_on_the_query_itself_does_not_hold_readiness(
    settings: Settings, db: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a committed query that cannot run (here: variables it refuses)
    monkeypatch.setattr(
        "ctxapi.warmup.COMMITTED", (("broken", "customer_context.graphql", {"email": "nobody"}),)
    )
    warmup = create_app(settings).extensions["ctxapi"].warmup
    # when
    warmup.run()
    # then readiness is not held back by it, and the state says what happened
    assert (warmup.state, warmup.ready) == ("failed", True)
