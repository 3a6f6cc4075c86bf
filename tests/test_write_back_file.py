"""Write-back on a customer's file: updateCase, addNote, recordFeedback, markContacted."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ctxapi import create_app
from ctxapi.access.keys import Scope
from ctxapi.config import Settings
from ctxapi.db import Database
from tests.api import query
from tests.writing import AGENT_SCOPES, NOW, build_world, client_with


@pytest.fixture(scope="module")
def world(db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Database:
    return build_world(db, settings, tmp_path_factory)


@pytest.fixture
def app(settings: Settings, world: Database, tmp_path: Path) -> Flask:
    return create_app(replace(settings, clock=NOW, audit_log=str(tmp_path / "audit.jsonl")))


@pytest.fixture
def agent(app: Flask, world: Database) -> FlaskClient:
    return client_with(app, world, AGENT_SCOPES, ["b"])


def key() -> str:
    return uuid.uuid4().hex


def run(api: FlaskClient, document: str, name: str, /, **input: Any) -> dict[str, Any]:
    """The payload of mutation ``name``; the request must not fail at the top level."""
    body = query(api, document, input={"idempotencyKey": key()} | input)
    assert "errors" not in body, body["errors"]
    return body["data"][name]  # type: ignore[no-any-return]


def errors(payload: dict[str, Any]) -> list[tuple[list[str], str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


def nodes(db: Database) -> int:
    return int(db.read("MATCH (n) WHERE NOT n:Write RETURN count(n) AS n")[0]["n"])


UPDATE_CASE = """
mutation($input: UpdateCaseInput!) {
  updateCase(input: $input) {
    case { id status priority resolvedAt owner { id } }
    customer { id cases { id status } }
    userErrors { field message code } replayed
  }
}
"""
ADD_NOTE = """
mutation($input: AddNoteInput!) {
  addNote(input: $input) {
    note { id text writtenAt author { id } case { id } }
    customer { notes { id text } }
    userErrors { field message code } replayed
  }
}
"""
FEEDBACK = """
mutation($input: RecordFeedbackInput!) {
  recordFeedback(input: $input) {
    feedback { id kind score comment submittedAt rates { type id } }
    customer { feedback(first: 20) { edges { node { id } } } }
    userErrors { field message code } replayed
  }
}
"""
MARK = """
mutation($input: MarkContactedInput!) {
  markContacted(input: $input) {
    interaction { id direction channel about { type id } case { id } }
    customer { id }
    userErrors { field message code } replayed
  }
}
"""
QUEUE = "{ proactiveQueue(first: 20) { edges { node { about { type id } } } } }"


# -- updateCase ---------------------------------------------------------------------------------
def test_resolving_a_case_sets_its_resolution_time_and_reopening_clears_it(
    agent: FlaskClient,
) -> None:
    # when
    resolved = run(agent, UPDATE_CASE, "updateCase", caseId="K-A", status="RESOLVED",
                   ownerId="AG-2")  # fmt: skip
    reopened = run(agent, UPDATE_CASE, "updateCase", caseId="K-A", status="OPEN")
    # then
    assert resolved["userErrors"] == []
    assert resolved["case"]["status"] == "RESOLVED"
    assert resolved["case"]["resolvedAt"] == "2026-11-23T12:00:00Z"
    assert resolved["case"]["owner"] == {"id": "AG-2"}
    assert {"id": "K-A", "status": "RESOLVED"} in resolved["customer"]["cases"]
    assert reopened["case"]["resolvedAt"] is None
    assert reopened["case"]["owner"] == {"id": "AG-2"}, "what is left out stays"


def test_a_resolved_case_leaves_the_proactive_queue_and_a_reopened_one_returns(
    agent: FlaskClient,
) -> None:
    # given: K-A opened 6 days ago with no update: due
    def queued() -> set[tuple[str, str]]:
        edges = query(agent, QUEUE)["data"]["proactiveQueue"]["edges"]
        return {(e["node"]["about"]["type"], e["node"]["about"]["id"]) for e in edges}

    run(agent, UPDATE_CASE, "updateCase", caseId="K-A", status="OPEN")
    assert ("CASE", "K-A") in queued()
    # when
    run(agent, UPDATE_CASE, "updateCase", caseId="K-A", status="CLOSED")
    # then
    assert ("CASE", "K-A") not in queued()
    run(agent, UPDATE_CASE, "updateCase", caseId="K-A", status="OPEN")
    assert ("CASE", "K-A") in queued()


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"caseId": "K-NONE", "status": "OPEN"}, ["input", "caseId"], "NOT_FOUND"),
        ({"caseId": "K-A"}, ["input"], "REQUIRED"),
        ({"caseId": "K-A", "ownerId": "AG-NONE"}, ["input", "ownerId"], "NOT_FOUND"),
    ],
)
def test_update_case_refuses_bad_input_and_writes_nothing(
    agent: FlaskClient, world: Database, fields: dict[str, Any], path: list[str], code: str
) -> None:
    # given
    before = world.read("MATCH (k:Case {id: 'K-A'}) RETURN properties(k) AS p")
    # when
    payload = run(agent, UPDATE_CASE, "updateCase", **fields)
    # then
    assert errors(payload) == [(path, code)]
    assert payload["case"] is None
    assert world.read("MATCH (k:Case {id: 'K-A'}) RETURN properties(k) AS p") == before


def test_a_key_of_another_brand_cannot_update_the_case(app: Flask, world: Database) -> None:
    # given
    sister = client_with(app, world, AGENT_SCOPES, ["s"])
    # when
    payload = run(sister, UPDATE_CASE, "updateCase", caseId="K-A", status="CLOSED")
    # then
    assert errors(payload) == [(["input", "caseId"], "NOT_FOUND")]


# -- addNote ------------------------------------------------------------------------------------
def test_a_note_is_on_the_customer_s_file_with_its_author_and_case(agent: FlaskClient) -> None:
    # when
    payload = run(agent, ADD_NOTE, "addNote", customerId="C-A", text=" Prefers email ",
                  agentId="AG-1", caseId="K-A")  # fmt: skip
    # then
    note = payload["note"]
    assert (note["text"], note["author"], note["case"]) == (
        "Prefers email", {"id": "AG-1"}, {"id": "K-A"})  # fmt: skip
    assert note["writtenAt"] == "2026-11-23T12:00:00Z"
    assert {"id": note["id"], "text": "Prefers email"} in payload["customer"]["notes"]


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"text": "   "}, ["input", "text"], "INVALID"),
        ({"caseId": "K-B"}, ["input", "caseId"], "NOT_THE_CUSTOMERS"),
        ({"customerId": "C-S"}, ["input", "customerId"], "NOT_FOUND"),
    ],
)
def test_add_note_refuses_bad_input_and_writes_nothing(
    agent: FlaskClient, world: Database, fields: dict[str, Any], path: list[str], code: str
) -> None:
    # given
    before = nodes(world)
    # when
    payload = run(agent, ADD_NOTE, "addNote", **({"customerId": "C-A", "text": "x"} | fields))
    # then
    assert errors(payload) == [(path, code)]
    assert nodes(world) == before


def test_a_note_sent_twice_is_written_once(agent: FlaskClient, world: Database) -> None:
    # given
    fields = {"idempotencyKey": key(), "customerId": "C-A", "text": "Call back after 5"}
    first = query(agent, ADD_NOTE, input=fields)["data"]["addNote"]
    before = nodes(world)
    # when
    second = query(agent, ADD_NOTE, input=fields)["data"]["addNote"]
    # then
    assert second["replayed"] is True
    assert second["note"]["id"] == first["note"]["id"]
    assert nodes(world) == before


# -- recordFeedback -----------------------------------------------------------------------------
def test_feedback_on_a_case_is_recorded_and_read_back(agent: FlaskClient) -> None:
    # when
    payload = run(agent, FEEDBACK, "recordFeedback", customerId="C-A", kind="CSAT", score=2,
                  comment="Slow", rates={"type": "CASE", "id": "K-A"})  # fmt: skip
    # then
    feedback = payload["feedback"]
    assert (feedback["kind"], feedback["score"], feedback["comment"]) == ("CSAT", 2, "Slow")
    assert feedback["rates"] == {"type": "CASE", "id": "K-A"}
    assert feedback["submittedAt"] == "2026-11-23T12:00:00Z"
    edges = payload["customer"]["feedback"]["edges"]
    assert feedback["id"] in [e["node"]["id"] for e in edges]


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"kind": "NPS", "score": 11}, ["input", "score"], "INVALID"),
        ({"rates": {"type": "SHIPMENT", "id": "SH-A"}}, ["input", "rates", "type"], "INVALID"),
        ({"rates": {"type": "ORDER", "id": "O-B"}}, ["input", "rates"], "NOT_THE_CUSTOMERS"),
        ({"rates": {"type": "ORDER", "id": "O-NONE"}}, ["input", "rates"], "NOT_FOUND"),
    ],
)
def test_record_feedback_refuses_bad_input_and_writes_nothing(
    agent: FlaskClient, world: Database, fields: dict[str, Any], path: list[str], code: str
) -> None:
    # given
    before = nodes(world)
    base = {"customerId": "C-A", "kind": "CSAT", "score": 4}
    # when
    payload = run(agent, FEEDBACK, "recordFeedback", **(base | fields))
    # then
    assert errors(payload) == [(path, code)]
    assert nodes(world) == before


# -- markContacted ------------------------------------------------------------------------------
def test_marking_a_late_parcel_contacted_takes_it_off_the_queue(
    agent: FlaskClient, world: Database
) -> None:
    # given: SH-B, promised 3 days ago and not delivered, is due
    def queued() -> set[tuple[str, str]]:
        edges = query(agent, QUEUE)["data"]["proactiveQueue"]["edges"]
        return {(e["node"]["about"]["type"], e["node"]["about"]["id"]) for e in edges}

    assert ("SHIPMENT", "SH-B") in queued()
    # when
    payload = run(agent, MARK, "markContacted", item={"type": "SHIPMENT", "id": "SH-B"},
                  channel="EMAIL", summary="Told them it is delayed at the depot")  # fmt: skip
    # then
    contact = payload["interaction"]
    assert payload["customer"] == {"id": "C-B"}
    assert (contact["direction"], contact["channel"]) == ("OUTBOUND", "EMAIL")
    assert contact["about"] == [{"type": "SHIPMENT", "id": "SH-B"}]
    assert ("SHIPMENT", "SH-B") not in queued()
    [ledger] = world.read(
        "MATCH (w:Write) WHERE w.result CONTAINS $id RETURN w.operation AS op, w.event AS event",
        {"id": contact["id"]},
    )
    assert (ledger["op"], ledger["event"]) == ("markContacted", "queue.item_contacted")


def test_marking_a_case_contacted_files_the_contact_under_the_case(agent: FlaskClient) -> None:
    # when
    payload = run(agent, MARK, "markContacted", item={"type": "CASE", "id": "K-B"},
                  channel="PHONE", summary="Refund is on its way")  # fmt: skip
    # then
    assert payload["interaction"]["case"] == {"id": "K-B"}
    assert payload["customer"] == {"id": "C-B"}


@pytest.mark.parametrize(
    ("item", "path", "code"),
    [
        ({"type": "SHIPMENT", "id": "SH-NONE"}, ["input", "item"], "NOT_FOUND"),
        ({"type": "PRODUCT", "id": "P-1"}, ["input", "item", "type"], "INVALID"),
    ],
)
def test_mark_contacted_refuses_what_is_no_queue_item(
    agent: FlaskClient, world: Database, item: dict[str, str], path: list[str], code: str
) -> None:
    # given
    before = nodes(world)
    # when
    payload = run(agent, MARK, "markContacted", item=item, channel="EMAIL", summary="x")
    # then
    assert errors(payload) == [(path, code)]
    assert nodes(world) == before


def test_another_brand_s_parcel_is_not_found(app: Flask, world: Database) -> None:
    # given
    sister = client_with(app, world, AGENT_SCOPES, ["s"])
    # when
    payload = run(sister, MARK, "markContacted", item={"type": "SHIPMENT", "id": "SH-A"},
                  channel="EMAIL", summary="x")  # fmt: skip
    # then
    assert errors(payload) == [(["input", "item"], "NOT_FOUND")]


@pytest.mark.parametrize(
    ("text", "name", "fields"),
    [
        (UPDATE_CASE, "updateCase", {"caseId": "K-A", "status": "OPEN"}),
        (ADD_NOTE, "addNote", {"customerId": "C-A", "text": "x"}),
        (FEEDBACK, "recordFeedback", {"customerId": "C-A", "kind": "CSAT", "score": 5}),
        (MARK, "markContacted", {"item": {"type": "CASE", "id": "K-A"}, "channel": "EMAIL",
                                 "summary": "x"}),
    ],
)  # fmt: skip
def test_every_file_mutation_needs_interactions_write(
    app: Flask, world: Database, text: str, name: str, fields: dict[str, Any]
) -> None:
    # given
    reader = client_with(app, world, [Scope.CONTEXT_READ, Scope.PII_READ], None)
    before = nodes(world)
    # when
    body = query(reader, text, input={"idempotencyKey": key()} | fields)
    # then
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert nodes(world) == before


@pytest.mark.parametrize(
    ("text", "name", "fields", "written"),
    [
        (UPDATE_CASE, "updateCase", {"caseId": "K-B", "priority": "HIGH"}, "case"),
        (FEEDBACK, "recordFeedback", {"customerId": "C-B", "kind": "NPS", "score": 9}, "feedback"),
        (MARK, "markContacted", {"item": {"type": "ORDER", "id": "O-B"}, "channel": "SMS",
                                 "summary": "Your order is on its way"}, "interaction"),
    ],
)  # fmt: skip
def test_every_file_mutation_sent_again_is_a_replay_that_writes_nothing(
    agent: FlaskClient, world: Database, text: str, name: str, fields: dict[str, Any], written: str
) -> None:
    # given
    fields = {"idempotencyKey": key()} | fields
    first = query(agent, text, input=fields)["data"][name]
    before = world.read(
        "RETURN COUNT { MATCH (n) } AS nodes, COUNT { MATCH ()-[r]->() } AS links,"
        " COUNT { MATCH (w:Write) } AS writes"
    )
    # when
    again = query(agent, text, input=fields)["data"][name]
    # then
    assert first["userErrors"] == []
    assert first["replayed"] is False
    assert again["replayed"] is True
    assert again["userErrors"] == []
    assert again[written]["id"] == first[written]["id"]
    after = world.read(
        "RETURN COUNT { MATCH (n) } AS nodes, COUNT { MATCH ()-[r]->() } AS links,"
        " COUNT { MATCH (w:Write) } AS writes"
    )
    assert after == before
