"""Webhooks: committed writes POSTed, signed, once each, to a real receiver on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ctxapi import create_app
from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.webhooks import delivery
from ctxapi.webhooks.delivery import Answer, Claimed
from ctxapi.webhooks.dispatcher import Dispatcher
from ctxapi.webhooks.registry import Registry
from tests.api import query
from tests.conftest import clear_graph
from tests.receiver import Receiver, fast_settings, no_webhooks, subscribe
from tests.writing import AGENT_SCOPES, NOW, build_world, client_with, together

RECORD = """
mutation Record($input: RecordInteractionInput!) {
  recordInteraction(input: $input) {
    interaction { id } customer { id } userErrors { field code } replayed
  }
}
"""


@pytest.fixture(scope="module")
def world(db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Database:
    return build_world(db, settings, tmp_path_factory)


@pytest.fixture(autouse=True, scope="module")
def _leave_a_clean_graph(db: Database) -> Iterator[None]:
    yield
    clear_graph(db)


@pytest.fixture
def fast(settings: Settings, tmp_path: Path) -> Settings:
    return fast_settings(settings, tmp_path)


@pytest.fixture
def hooks(world: Database) -> Registry:
    return no_webhooks(world)


@pytest.fixture
def app(fast: Settings, world: Database) -> Flask:
    return create_app(fast)


@pytest.fixture
def agent(app: Flask, world: Database) -> FlaskClient:
    return client_with(app, world, AGENT_SCOPES, ["b"])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    one = Receiver()
    yield one
    one.down(for_good=True)


@pytest.fixture
def dispatcher(world: Database, fast: Settings) -> Dispatcher:
    return Dispatcher(world, fast)


def record(api: FlaskClient, **fields: Any) -> dict[str, Any]:
    given = {
        "idempotencyKey": uuid.uuid4().hex,
        "customerId": "C-A",
        "channel": "PHONE",
        "direction": "INBOUND",
        "summary": "Asked where the tent is",
    } | fields
    body = query(api, RECORD, input=given)
    assert "errors" not in body, body["errors"]
    return body["data"]["recordInteraction"]  # type: ignore[no-any-return]


def deliveries(db: Database) -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in db.read(
            "MATCH (d:Delivery) RETURN d.eventId AS event, d.state AS state,"
            " d.attempts AS attempts, d.lastError AS error ORDER BY d.id"
        )
    ]


def until(done: Callable[[], bool], dispatcher: Dispatcher, timeout: float = 15) -> None:
    """Run the dispatcher's delivery rounds until ``done`` (or fail after ``timeout``)."""
    import time

    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "not done in time"
        dispatcher.deliver()
        time.sleep(0.05)


# -- what arrives ------------------------------------------------------------------------------
def test_a_recorded_interaction_arrives_once_signed_with_ids_and_no_personal_value(
    agent: FlaskClient, hooks: Registry, receiver: Receiver, dispatcher: Dispatcher
) -> None:
    # given
    receiver.up()
    hook = subscribe(hooks, receiver)
    written = record(agent)
    # when: delivered, and the dispatcher runs again
    first = dispatcher.deliver()
    again = dispatcher.deliver()
    # then
    assert (first["delivered"], sum(again.values())) == (1, 0)
    [got] = receiver.delivered()
    assert got.signed
    payload = got.payload
    assert payload["id"].startswith("evt_")
    assert got.headers["Ctxapi-Event-Id"] == payload["id"]
    assert got.headers["Ctxapi-Event-Type"] == "interaction.recorded"
    assert got.headers["Ctxapi-Signature"].startswith("t=" + got.headers["Ctxapi-Timestamp"] + ",")
    assert payload == {
        "id": payload["id"],
        "type": "interaction.recorded",
        "occurredAt": "2026-11-23T12:00:00Z",
        "brand": "b",
        "data": {
            "customers": ["C-A"],
            "customer": {"id": "C-A"},
            "interaction": {"id": written["interaction"]["id"]},
        },
    }
    assert b"tent" not in got.body
    [state] = hooks.status()
    assert (state.webhook.id, state.pending, state.delivered, state.dead) == (hook.id, 0, 1, 0)


def test_a_refused_mutation_and_a_replayed_one_announce_nothing(
    agent: FlaskClient, hooks: Registry, receiver: Receiver, dispatcher: Dispatcher, world: Database
) -> None:
    # given
    receiver.up()
    subscribe(hooks, receiver)
    # when: refused (another customer's case), then one request sent twice
    refused = record(agent, caseId="K-B")
    key = uuid.uuid4().hex
    once, replayed = record(agent, idempotencyKey=key), record(agent, idempotencyKey=key)
    dispatcher.deliver()
    # then: only the one write arrives
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_THE_CUSTOMERS"]
    assert (once["replayed"], replayed["replayed"]) == (False, True)
    assert len(deliveries(world)) == 1
    [got] = receiver.delivered()
    assert got.payload["data"]["interaction"]["id"] == once["interaction"]["id"]


def test_a_webhook_hears_of_its_brand_only_and_of_nothing_before_it_was_added(
    app: Flask, agent: FlaskClient, hooks: Registry, dispatcher: Dispatcher, world: Database
) -> None:
    # given: a write before any webhook, then a webhook for each brand
    record(agent)
    ours, sisters = Receiver().up(), Receiver().up()
    try:
        subscribe(hooks, ours, brand="b")
        subscribe(hooks, sisters, brand="s")
        sister_agent = client_with(app, world, AGENT_SCOPES, ["s"])
        # when
        record(agent, customerId="C-A")
        record(sister_agent, customerId="C-S")
        dispatcher.deliver()
        # then
        assert [r.payload["data"]["customers"] for r in ours.delivered()] == [["C-A"]]
        assert [r.payload["data"]["customers"] for r in sisters.delivered()] == [["C-S"]]
        assert [r.payload["brand"] for r in sisters.delivered()] == ["s"]
    finally:
        ours.down(for_good=True)
        sisters.down(for_good=True)


# -- when the receiver is away -----------------------------------------------------------------
def test_a_receiver_down_for_a_while_gets_the_event_when_it_is_back(
    agent: FlaskClient, hooks: Registry, receiver: Receiver, dispatcher: Dispatcher, world: Database
) -> None:
    # given: the receiver is down (connections refused), then answers 500 once
    subscribe(hooks, receiver)
    record(agent)
    dispatcher.deliver()
    assert deliveries(world)[0] | {"event": None} == {
        "event": None, "state": "pending", "attempts": 1, "error": "connection refused"
    }  # fmt: skip
    receiver.up(failures=1)
    # when
    until(lambda: bool(receiver.delivered()), dispatcher)
    # then: the third attempt arrived, signed
    [delivery] = deliveries(world)
    assert (delivery["state"], delivery["attempts"]) == ("delivered", 3)
    assert [r.answered for r in receiver.got] == [500, 200]
    assert all(r.signed for r in receiver.got)
    assert receiver.got[0].payload["id"] == receiver.got[1].payload["id"] == delivery["event"]
    [state] = hooks.status()
    assert (state.delivered, state.last_error) == (1, "HTTP 500")


def test_a_receiver_never_up_leaves_a_dead_letter_that_retry_sends_again(
    agent: FlaskClient,
    hooks: Registry,
    receiver: Receiver,
    dispatcher: Dispatcher,
    world: Database,
    cli_env: dict[str, str],
) -> None:
    from click.testing import CliRunner

    from ctxapi.cli import cli

    # given: every attempt refused
    hook = subscribe(hooks, receiver)
    record(agent)
    until(lambda: deliveries(world)[0]["state"] == "dead", dispatcher)
    # when
    status = CliRunner().invoke(cli, ["webhooks", "status"], env=cli_env)
    # then
    [dead] = deliveries(world)
    assert status.exit_code == 0, status.output
    assert f"{hook.id}  127.0.0.1  brand b" in status.output
    assert "pending 0, delivered 0, dead 1" in status.output
    assert f"{dead['event']}  interaction.recorded  3 attempts  connection refused" in status.output
    assert receiver.secret not in status.output
    # when: retried, with the receiver up
    retried = CliRunner().invoke(cli, ["webhooks", "retry", dead["event"]], env=cli_env)
    receiver.up()
    until(lambda: bool(receiver.delivered()), dispatcher)
    # then
    assert retried.exit_code == 0, retried.output
    assert "1 dead letter(s) pending again" in retried.output
    assert deliveries(world)[0]["state"] == "delivered"
    assert receiver.delivered()[0].payload["id"] == dead["event"]


@pytest.fixture
def cli_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    from tests.conftest import neo4j_env

    return neo4j_env(settings) | {"CTXAPI_AUDIT_LOG": str(tmp_path / "cli-audit.jsonl")}


# -- several dispatchers -----------------------------------------------------------------------
def test_two_dispatchers_at_once_deliver_each_event_once(
    agent: FlaskClient,
    hooks: Registry,
    receiver: Receiver,
    dispatcher: Dispatcher,
    fast: Settings,
    world: Database,
) -> None:
    # given: 12 events waiting
    receiver.up()
    subscribe(hooks, receiver)
    written = {record(agent)["interaction"]["id"] for _ in range(12)}
    with closing(Database(fast)) as other_db:
        other = Dispatcher(other_db, fast)
        # when
        results = together([dispatcher.deliver, other.deliver])
    # then: each event arrived once (the leases kept the dispatchers apart: at-least-once
    # becomes exactly-once unless a lease runs out mid-send)
    got = receiver.delivered()
    assert sum(result["delivered"] for result in results) == 12, (results, deliveries(world))
    assert len(got) == 12
    assert len({r.payload["id"] for r in got}) == 12
    assert {r.payload["data"]["interaction"]["id"] for r in got} == written
    assert {d["state"] for d in deliveries(world)} == {"delivered"}


def test_a_receiver_that_answers_a_byte_at_a_time_is_cut_off_at_the_deadline(
    fast: Settings,
) -> None:
    # given a receiver that sends its status line, then one byte a second, forever
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def trickle() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            with contextlib.suppress(OSError):
                for _ in range(60):
                    connection.sendall(b"X")
                    time.sleep(1)

    threading.Thread(target=trickle, daemon=True).start()
    one = Claimed("d1", "evt_1", "interaction.recorded", NOW, "{}", 0, "wh_1",
                  f"http://127.0.0.1:{port}/hook", "s" * 32, "b", "c1")  # fmt: skip
    # when a delivery is POSTed to it (connect 2 s + read 5 s in these settings)
    started = time.monotonic()
    answer = delivery.post(one, fast)
    took = time.monotonic() - started
    listener.close()
    # then the attempt ends at its deadline as a time-out, not when the receiver stops
    assert answer == Answer(None, "timed out")
    assert took < 30  # the deadline is 7 s; the receiver would go on for 60
