"""Webhooks: queue items fallen due, erasures, the signature a receiver checks, the commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from ctxapi import create_app
from ctxapi.cli import cli
from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.store.events import Event, parse_events
from ctxapi.webhooks import signing
from ctxapi.webhooks.dispatcher import Dispatcher
from ctxapi.webhooks.registry import Registry
from tests.api import data
from tests.conftest import clear_graph, neo4j_env
from tests.receiver import Receiver, fast_settings, no_webhooks, subscribe
from tests.writing import AGENT_SCOPES, NOW, build_world, client_with, together

PEPPER = "pepper-for-the-webhook-tests-" + "5" * 32


@pytest.fixture(scope="module")
def world(db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Database:
    return build_world(db, settings, tmp_path_factory)


@pytest.fixture(autouse=True, scope="module")
def _leave_a_clean_graph(db: Database) -> Iterator[None]:
    """The erasure leaves tombstones that other modules' loads would trip on."""
    yield
    clear_graph(db)


@pytest.fixture
def fast(settings: Settings, tmp_path: Path) -> Settings:
    return fast_settings(settings, tmp_path)


@pytest.fixture
def hooks(world: Database) -> Registry:
    return no_webhooks(world)


@pytest.fixture
def env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return neo4j_env(settings) | {
        "CTXAPI_AUDIT_LOG": str(tmp_path / "cli-audit.jsonl"),
        "CTXAPI_NOW": NOW,
        "CTXAPI_ERASURE_PEPPER": PEPPER,
    }


# -- queue.item_due ----------------------------------------------------------------------------
def test_each_queue_item_fallen_due_is_announced_once_however_often_it_is_scanned(
    world: Database, hooks: Registry, fast: Settings
) -> None:
    # given: brand b's late parcels and quiet cases (none of brand s), and a webhook each
    world.write(lambda tx: tx.run("MATCH (w:Write {event: 'queue.item_due'}) DELETE w").consume())
    ours, sisters = Receiver().up(), Receiver().up()
    try:
        subscribe(hooks, ours, Event.QUEUE_ITEM_DUE)
        subscribe(hooks, sisters, Event.QUEUE_ITEM_DUE, brand="s")
        with closing(Database(fast)) as other_db:
            first, second = Dispatcher(world, fast), Dispatcher(other_db, fast)
            # when: two dispatchers scan at once, then one scans again
            at_once = together([first.announce, second.announce])
            again = first.announce()
            first.deliver()
        # then
        writes = world.read(
            "MATCH (w:Write {event: 'queue.item_due'}) RETURN w.keyId AS key, w.customers AS c,"
            " w.brands AS brands, w.at AS at ORDER BY w.id"
        )
        assert (sum(at_once), again, len(writes)) == (4, 0, 4)
        assert {(w["key"], tuple(w["brands"])) for w in writes} == {("ctxapi", ("b",))}
        assert all(w["at"].to_native().isoformat() == NOW for w in writes)
        got = sorted((r.payload["data"] for r in ours.delivered()), key=lambda d: d["item"]["id"])
        assert got == [
            {"customers": ["C-A"], "item": {"id": "K-A"}, "reason": "UNRESOLVED_CASE",
             "dueAt": "2026-11-19T10:00:00Z"},
            {"customers": ["C-B"], "item": {"id": "K-B"}, "reason": "UNRESOLVED_CASE",
             "dueAt": "2026-11-19T10:00:00Z"},
            {"customers": ["C-A"], "item": {"id": "SH-A"}, "reason": "LATE_SHIPMENT",
             "dueAt": "2026-11-20T10:00:00Z"},
            {"customers": ["C-B"], "item": {"id": "SH-B"}, "reason": "LATE_SHIPMENT",
             "dueAt": "2026-11-20T10:00:00Z"},
        ]  # fmt: skip
        assert all(r.signed and r.payload["type"] == "queue.item_due" for r in ours.delivered())
        assert sisters.got == []
    finally:
        ours.down(for_good=True)
        sisters.down(for_good=True)


# -- the commands ------------------------------------------------------------------------------
def test_add_shows_the_secret_once_and_refuses_unknown_events_and_bad_urls(
    hooks: Registry, env: dict[str, str]
) -> None:
    # when
    run = CliRunner().invoke
    added = run(cli, ["webhooks", "add", "https://crm.example/h?t=1", "--brand", "b",
                      "--events", "interaction.recorded,customer.erased"], env=env)  # fmt: skip
    listed = run(cli, ["webhooks", "list"], env=env)
    unknown = run(cli, ["webhooks", "add", "https://crm.example/h", "--brand", "b",
                        "--events", "interaction.recorded,customers.merged"], env=env)  # fmt: skip
    ftp = run(cli, ["webhooks", "add", "ftp://crm.example/h", "--brand", "b"], env=env)
    nobrand = run(cli, ["webhooks", "add", "https://crm.example/h", "--brand", "zz"], env=env)
    # then
    assert added.exit_code == 0, added.output
    [hook] = hooks.webhooks()
    secret = hooks.db.read("MATCH (h:Webhook) RETURN h.secret AS s")[0]["s"]
    assert secret.startswith("whsec_")
    assert secret in added.output
    assert hook.id in added.output
    assert hook.events == ("interaction.recorded", "customer.erased")
    assert hook.id in listed.output
    assert secret not in listed.output
    assert unknown.exit_code == 2
    assert "unknown event(s): customers.merged; valid events: interaction.recorded," in " ".join(
        unknown.output.split()
    )
    assert "give an absolute http:// or https:// URL" in ftp.output
    assert ftp.exit_code == 1
    assert "there is no brand 'zz'" in nobrand.output
    assert len(hooks.webhooks()) == 1
    audit = Path(env["CTXAPI_AUDIT_LOG"]).read_text()
    assert '"event":"webhook.add"' in audit
    assert secret not in audit
    # when: removed
    removed = run(cli, ["webhooks", "remove", hook.id], env=env)
    missing = run(cli, ["webhooks", "remove", hook.id], env=env)
    # then
    assert removed.exit_code == 0
    assert hooks.webhooks() == []
    assert missing.exit_code == 1
    assert "no webhook" in missing.output


def test_every_event_has_a_meaning_and_names_parse_into_the_closed_set() -> None:
    assert all(event.meaning for event in Event)
    assert parse_events(" customer.merged ,queue.item_due,customer.merged") == [
        Event.CUSTOMER_MERGED,
        Event.QUEUE_ITEM_DUE,
    ]
    with pytest.raises(ValueError, match=r"valid events: interaction\.recorded"):
        parse_events("customers.merged")


# -- the signature a receiver checks -----------------------------------------------------------
def test_the_receiver_check_refuses_a_changed_body_a_stale_timestamp_and_another_secret() -> None:
    # given
    body = b'{"id":"evt_1","type":"interaction.recorded"}'
    stamp = int(time.time())
    header = signing.header("whsec_a", stamp, body)
    # then
    assert signing.verify("whsec_a", header, body) == stamp
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify("whsec_a", header, body.replace(b"evt_1", b"evt_2"))
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify("whsec_b", header, body)
    with pytest.raises(signing.SignatureError, match="stale"):
        signing.verify("whsec_a", header, body, now=stamp + 301)
    old = signing.header("whsec_a", stamp - 600, body)
    with pytest.raises(signing.SignatureError, match="stale"):
        signing.verify("whsec_a", old, body)
    with pytest.raises(signing.SignatureError, match="malformed"):
        signing.verify("whsec_a", "v1=abc", body)


# -- erasure -----------------------------------------------------------------------------------
def test_an_erasure_from_the_shell_is_announced_to_the_customers_brand(
    world: Database, hooks: Registry, fast: Settings, env: dict[str, str]
) -> None:
    # given
    receiver = Receiver().up()
    try:
        subscribe(hooks, receiver, Event.CUSTOMER_ERASED)
        # when
        erased = CliRunner().invoke(
            cli, ["erase", "C-B", "--reason", "DSR-9", "--yes", "--operator", "dpo"], env=env
        )
        Dispatcher(world, fast).deliver()
        # then: the customer is gone, their brand was known, and no reason or count travels
        assert erased.exit_code == 0, erased.output
        [got] = receiver.delivered()
        data = got.payload["data"]
        assert (got.payload["type"], got.payload["brand"]) == ("customer.erased", "b")
        assert data["customers"] == ["C-B"]
        assert data["erasure"]["id"].startswith("erasure-")
        assert set(data) == {"customers", "erasure"}
        assert set(data["erasure"]) == {"id"}
        assert b"DSR-9" not in got.body
    finally:
        receiver.down(for_good=True)


# -- the dispatcher as a service ---------------------------------------------------------------
def test_the_deliver_command_sends_events_as_they_are_written_until_sigterm(
    world: Database, hooks: Registry, fast: Settings, env: dict[str, str]
) -> None:
    # given: a dispatcher running, looking every 0.1 s
    receiver = Receiver().up()
    subscribe(hooks, receiver)
    command = [str(Path(sys.executable).with_name("ctxapi")), "webhooks", "deliver"]
    service = subprocess.Popen(
        command,
        env=os.environ | env | {"CTXAPI_WEBHOOK_POLL": "0.1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        agent = client_with(create_app(fast), world, AGENT_SCOPES, ["b"])
        # when
        written = data(agent, RECORD, input={"idempotencyKey": uuid.uuid4().hex,
                       "customerId": "C-A", "channel": "CHAT", "direction": "INBOUND",
                       "summary": "Where is my parcel?"})  # fmt: skip
        [got] = receiver.wait_for(1, timeout=30)
        service.send_signal(signal.SIGTERM)
        output, _ = service.communicate(timeout=30)
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
        receiver.down(for_good=True)
    # then
    assert got.signed
    interaction = written["recordInteraction"]["interaction"]["id"]
    assert got.payload["data"]["interaction"]["id"] == interaction
    assert service.returncode == 0, output
    assert "127.0.0.1" in output
    assert "Where is my parcel" not in output
    assert receiver.secret not in output
    assert "/hooks/ctxapi" not in output


RECORD = """
mutation Record($input: RecordInteractionInput!) {
  recordInteraction(input: $input) { interaction { id } userErrors { code } }
}
"""
