"""Live updates (/events): a card's stream tells of its customer's changes, and only to a key
that may read them; the stream carries ids, never personal data."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from ctxapi import create_app
from ctxapi.access.keys import Scope
from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.desk.live import Feed, Stream
from tests.writing import AGENT_SCOPES, NOW, build_world, client_with

RECORD = """
mutation ($input: RecordInteractionInput!) {
  recordInteraction(input: $input) { userErrors { message } interaction { id } }
}
"""


@pytest.fixture(scope="module")
def world(db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Database:
    return build_world(db, settings, tmp_path_factory)


@pytest.fixture
def app(world: Database, settings: Settings) -> Flask:
    return create_app(replace(settings, clock=NOW, live_poll_seconds=0.1, live_max_streams=2))


@pytest.fixture
def agent(app: Flask, world: Database) -> FlaskClient:
    return client_with(app, world, AGENT_SCOPES, ["b"])


def record(client: FlaskClient, customer: str, summary: str, key: str) -> None:
    variables = {
        "input": {
            "idempotencyKey": key,
            "customerId": customer,
            "channel": "EMAIL",
            "direction": "INBOUND",
            "summary": summary,
        }
    }
    body = client.post("/graphql", json={"query": RECORD, "variables": variables}).get_json()
    assert body["data"]["recordInteraction"]["userErrors"] == [], body


def events(chunks: Iterator[Any], count: int) -> list[tuple[str, Any]]:
    """The next ``count`` events of a stream (comments skipped), as (name, data)."""
    found: list[tuple[str, Any]] = []
    for chunk in chunks:
        for block in chunk.decode().split("\n\n"):
            lines = dict(
                line.split(": ", 1) for line in block.splitlines() if line and ":" in line[1:]
            )
            if "event" in lines:
                found.append((lines["event"], orjson.loads(lines.get("data", "{}"))))
        if len(found) >= count:
            return found
    return found


def test_a_cards_stream_tells_of_its_customers_change_with_ids_only(
    agent: FlaskClient, app: Flask, world: Database
) -> None:
    # given C-A's card following its customer
    response = agent.get("/events?customer=C-A", buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    chunks: Iterator[Any] = iter(response.response)
    assert events(chunks, 1) == [("ready", {})]
    # when a contact is recorded for C-B, then for C-A, by another agent
    other = client_with(app, world, AGENT_SCOPES, ["b"])
    result: list[list[tuple[str, Any]]] = []
    reader = threading.Thread(target=lambda: result.append(events(chunks, 1)), daemon=True)
    reader.start()
    record(other, "C-B", "Asked about bob's refund at bob@example.com", "live-b")
    record(other, "C-A", "Asked about ann's tent at ann@example.com", "live-a")
    reader.join(timeout=30)
    response.close()
    # then the stream tells of C-A's change only, by ids, without the summary or the email
    assert result == [[("change", {"event": "interaction.recorded", "customers": ["C-A"],
                                   "at": result[0][0][1]["at"]})]]  # fmt: skip


def test_the_stream_needs_a_key_that_may_read_the_customer(
    app: Flask, world: Database, agent: FlaskClient
) -> None:
    # given no key, a key without context:read, and a key of sister brand s
    anonymous = app.test_client()
    writer = client_with(app, world, [Scope.INTERACTIONS_WRITE], ["b"])
    sister = client_with(app, world, AGENT_SCOPES, ["s"])
    # when each follows C-A, and the agent follows nothing
    answers = [c.get("/events?customer=C-A") for c in (anonymous, writer, sister)] + [
        agent.get("/events")
    ]
    # then: 401, 403 naming the scope, 404 as if C-A did not exist, 400 saying what to follow
    assert [a.status_code for a in answers] == [401, 403, 404, 400]
    codes = [a.get_json()["errors"][0]["extensions"]["code"] for a in answers]
    assert codes == ["UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_REQUEST"]
    assert "context:read" in answers[1].get_json()["errors"][0]["message"]


def test_a_process_follows_at_most_its_share_of_pages_and_says_when_to_come_back(
    agent: FlaskClient,
) -> None:
    # given a process that follows at most 2 pages (CTXAPI_LIVE_MAX_STREAMS), following 2
    open_streams = [agent.get("/events?queue=1", buffered=False) for _ in range(2)]
    for stream in open_streams:
        assert events(iter(stream.response), 1) == [("ready", {})]
    # when a third page asks
    third = agent.get("/events?queue=1")
    # then it is told to come back (the card works meanwhile, without live updates)
    assert third.status_code == 503
    assert third.headers["Retry-After"] == "5"
    for stream in open_streams:
        stream.close()


def test_a_burst_of_writes_of_one_moment_reaches_the_pages_once_each(
    world: Database, settings: Settings
) -> None:
    # given a feed following a page, and 2,500 writes of one moment (a scan's announcements)
    feed = Feed(world, lambda: NOW, poll_seconds=60, max_streams=1)
    stream = Stream(None, frozenset({"b"}))
    feed._by_id[id(stream)] = stream  # followed, without the poller thread: polled by hand
    burst = (
        "UNWIND range(1, 2500) AS n CREATE (:Write {id: 'burst/' + toString(n),"
        " event: 'queue.item_due', customers: ['C-A'], brands: ['b'], at: datetime($at)})"
    )
    world.write(lambda tx: tx.run(burst, at=NOW).consume())
    try:
        # when it polls twice
        first, second = feed.poll(), feed.poll()
        # then the first poll hands every one of them to the page, in pages, and the second none
        burst_ids = {c.id for c in first if c.id.startswith("burst/")}
        assert len(burst_ids) == 2500
        assert stream.changes.qsize() == len(first)
        assert [c for c in second if c.id.startswith("burst/")] == []
    finally:
        world.write(
            lambda tx: tx.run("MATCH (w:Write) WHERE w.id STARTS WITH 'burst/' DELETE w").consume()
        )
