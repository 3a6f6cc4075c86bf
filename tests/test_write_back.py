"""Write-back: agent tools record what happened on a contact (recordInteraction)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from ctxapi import create_app
from ctxapi.access.keys import Scope
from ctxapi.config import Settings
from ctxapi.db import Database
from tests.api import query
from tests.conftest import keyed
from tests.writing import AGENT_SCOPES, NOW, build_world, client_with, together


@pytest.fixture(scope="module")
def world(db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Database:
    return build_world(db, settings, tmp_path_factory)


@pytest.fixture
def app(settings: Settings, world: Database, tmp_path: Path) -> Flask:
    return create_app(replace(settings, clock=NOW, audit_log=str(tmp_path / "audit.jsonl")))


@pytest.fixture
def agent(app: Flask, world: Database) -> FlaskClient:
    """An agent desktop's key: reads (personal data too) and writes contacts, brand b."""
    return client_with(app, world, AGENT_SCOPES, ["b"])


RECORD = """
mutation Record($input: RecordInteractionInput!) {
  recordInteraction(input: $input) {
    interaction { id channel direction occurredAt summary topic status sentiment
                  agent { id } case { id } about { type id } identity { kind value } }
    customer { id interactions(first: 50) { totalCount edges { node { id } } } }
    userErrors { field message code }
    replayed
  }
}
"""


def contact(**fields: Any) -> dict[str, Any]:
    """A recordInteraction input: a resolved inbound call of C-A unless ``fields`` say else."""
    base: dict[str, Any] = {
        "idempotencyKey": uuid.uuid4().hex,
        "customerId": "C-A",
        "channel": "PHONE",
        "direction": "INBOUND",
        "occurredAt": "2026-11-23T11:30:00Z",
        "summary": "Asked where the tent is; told it ships Monday",
    }
    return {k: v for k, v in (base | fields).items() if v is not None}


def record(api: FlaskClient, **fields: Any) -> dict[str, Any]:
    body = query(api, RECORD, input=contact(**fields))
    assert "errors" not in body, body["errors"]
    return body["data"]["recordInteraction"]  # type: ignore[no-any-return]


def count(
    db: Database, cypher: str = "MATCH (:Customer)-[:HAD]->(i:Interaction) RETURN count(i) AS n"
) -> int:
    return int(db.read(cypher)[0]["n"])


# -- recording ----------------------------------------------------------------------------------
def test_a_recorded_contact_is_in_the_very_next_read_of_the_customer(agent: FlaskClient) -> None:
    # given
    about = [{"type": "SHIPMENT", "id": "SH-A"}, {"type": "PRODUCT", "id": "P-1"}]
    fields = contact(
        agentId="AG-1", caseId="K-A", topic="where_is_my_order", sentiment=-0.4, about=about
    )
    # when
    body = query(agent, RECORD, input=fields)
    # then
    written = body["data"]["recordInteraction"]
    assert written["userErrors"] == []
    assert written["replayed"] is False
    interaction = written["interaction"]
    assert interaction["id"].startswith("ctx-")
    assert interaction["summary"] == fields["summary"]
    assert interaction["occurredAt"] == "2026-11-23T11:30:00Z"
    assert (interaction["channel"], interaction["direction"], interaction["status"]) == (
        "PHONE", "INBOUND", "RESOLVED")  # fmt: skip
    assert interaction["agent"] == {"id": "AG-1"}
    assert interaction["case"] == {"id": "K-A"}
    assert {(r["type"], r["id"]) for r in interaction["about"]} == {
        ("SHIPMENT", "SH-A"), ("PRODUCT", "P-1")}  # fmt: skip
    listed = [e["node"]["id"] for e in written["customer"]["interactions"]["edges"]]
    assert interaction["id"] in listed
    assert body["extensions"]["bookmarks"], "a mutation hands out its bookmarks"
    # and the next query, another request, sees it too
    again = query(
        agent,
        "query($id: ID!) { customer(id: $id) {"
        " interactions(first: 50) { edges { node { id } } } } }",
        id="C-A",
    )
    assert interaction["id"] in [
        e["node"]["id"] for e in again["data"]["customer"]["interactions"]["edges"]
    ]


def test_the_same_request_again_returns_the_first_result_and_writes_nothing(
    agent: FlaskClient, world: Database
) -> None:
    # given
    fields = contact()
    first = query(agent, RECORD, input=fields)["data"]["recordInteraction"]
    before = count(world)
    # when
    second = query(agent, RECORD, input=fields)["data"]["recordInteraction"]
    # then
    assert second["replayed"] is True
    assert second["userErrors"] == []
    assert second["interaction"]["id"] == first["interaction"]["id"]
    assert count(world) == before


def test_another_request_under_a_used_key_is_a_conflict_and_writes_nothing(
    agent: FlaskClient, world: Database
) -> None:
    # given
    fields = contact()
    record(agent, **fields)
    before = count(world)
    # when
    changed = query(agent, RECORD, input=fields | {"summary": "Something else"})
    # then
    payload = changed["data"]["recordInteraction"]
    assert payload["interaction"] is None
    assert payload["replayed"] is False
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "idempotencyKey"], "IDEMPOTENCY_CONFLICT")]  # fmt: skip
    assert count(world) == before


def test_the_same_key_from_another_api_key_is_another_request(
    app: Flask, agent: FlaskClient, world: Database
) -> None:
    # given
    other = client_with(app, world, [Scope.CONTEXT_READ, Scope.INTERACTIONS_WRITE], ["b"])
    fields = contact()
    mine = record(agent, **fields)
    # when
    theirs = record(other, **fields)
    # then
    assert theirs["replayed"] is False
    assert theirs["interaction"]["id"] != mine["interaction"]["id"]


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"sentiment": 2.0}, ["input", "sentiment"], "INVALID"),
        ({"summary": ""}, ["input", "summary"], "REQUIRED"),
        ({"customerId": None}, ["input", "customerId"], "REQUIRED"),
        ({"customerId": "C-NONE"}, ["input", "customerId"], "NOT_FOUND"),
        ({"caseId": "K-NONE"}, ["input", "caseId"], "NOT_FOUND"),
        ({"agentId": "AG-NONE"}, ["input", "agentId"], "NOT_FOUND"),
        ({"caseId": "K-B"}, ["input", "caseId"], "NOT_THE_CUSTOMERS"),
        ({"about": [{"type": "ORDER", "id": "O-B"}]}, ["input", "about"], "NOT_THE_CUSTOMERS"),
        ({"about": [{"type": "CASE", "id": "K-A"}]}, ["input", "about", "0", "type"], "INVALID"),
        ({"identity": {"email": "not-an-email"}}, ["input", "identity", "email"], "INVALID"),
        (
            {"identity": {"email": "a@b.co", "phone": "+14155550100"}},
            ["input", "identity"],
            "INVALID",
        ),
        ({"idempotencyKey": ""}, ["input", "idempotencyKey"], "INVALID"),
    ],
)
def test_bad_input_is_a_user_error_on_its_field_and_writes_nothing(
    agent: FlaskClient, world: Database, fields: dict[str, Any], path: list[str], code: str
) -> None:
    # given
    before = count(world, "MATCH (n) RETURN count(n) AS n")
    # when
    payload = query(agent, RECORD, input=contact(**fields))["data"]["recordInteraction"]
    # then
    assert payload["interaction"] is None
    assert payload["customer"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(path, code)], payload
    assert all(e["message"] for e in payload["userErrors"])
    assert count(world, "MATCH (n) RETURN count(n) AS n") == before


def test_an_enum_value_the_schema_lacks_is_a_top_level_bad_user_input(agent: FlaskClient) -> None:
    # when
    body = query(agent, RECORD, input=contact(channel="CARRIER_PIGEON"))
    # then
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# -- identities ---------------------------------------------------------------------------------
def test_a_contact_through_an_identifier_of_one_customer_finds_that_customer(
    agent: FlaskClient,
) -> None:
    # when
    written = record(agent, customerId=None, identity={"email": " Ann@Example.COM "})
    # then
    assert written["customer"]["id"] == "C-A"
    assert written["interaction"]["identity"] == {"kind": "EMAIL", "value": "ann@example.com"}


def test_a_shared_identifier_names_its_customers_and_writes_nothing(
    agent: FlaskClient, world: Database
) -> None:
    # given
    before = count(world)
    # when
    payload = record(agent, customerId=None, identity={"phone": "(415) 555-0100"})
    # then
    [error] = payload["userErrors"]
    assert error["code"] == "AMBIGUOUS_IDENTITY"
    assert error["field"] == ["input", "identity"]
    assert "C-A" in error["message"]
    assert "C-B" in error["message"]
    assert "555" not in error["message"], "the message names ids, not the number"
    assert count(world) == before


def test_a_new_identifier_a_customer_used_is_linked_to_them(
    agent: FlaskClient, world: Database
) -> None:
    # given
    handle = "x:@ann_" + uuid.uuid4().hex[:6]
    # when
    written = record(agent, identity={"handle": handle}, channel="SOCIAL")
    # then
    assert written["interaction"]["identity"]["value"] == handle.replace("@", "").lower()
    link = world.read(
        "MATCH (:Identity {kind: 'social', value: $v})-[l:IDENTIFIES]->(c:Customer)"
        " RETURN c.id AS customer, l.source AS source",
        {"v": handle.replace("@", "").lower()},
    )
    assert [(r["customer"], r["source"]) for r in link] == [("C-A", "interaction")]


# -- who may write ------------------------------------------------------------------------------
def test_a_key_without_interactions_write_is_forbidden_and_nothing_is_written(
    app: Flask, world: Database
) -> None:
    # given
    reader = client_with(app, world, [Scope.CONTEXT_READ], None)
    before = count(world)
    # when
    body = query(reader, RECORD, input=contact())
    # then
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "interactions:write" in body["errors"][0]["message"]
    assert count(world) == before


def test_a_key_of_one_brand_cannot_write_to_another_brand_s_customer(
    app: Flask, world: Database
) -> None:
    # given
    sister = client_with(app, world, [Scope.CONTEXT_READ, Scope.INTERACTIONS_WRITE], ["s"])
    # when
    payload = query(sister, RECORD, input=contact())["data"]["recordInteraction"]
    # then: as if the customer did not exist
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "customerId"], "NOT_FOUND")]  # fmt: skip


def test_another_brand_s_records_named_as_references_are_not_found_not_someone_else_s(
    app: Flask, world: Database
) -> None:
    # given: a key of brand s, writing for its customer C-S
    sister = client_with(app, world, AGENT_SCOPES, ["s"])
    # when: it names brand b's case and order, which exist
    by_case = query(sister, RECORD, input=contact(customerId="C-S", caseId="K-A"))
    by_order = query(
        sister, RECORD, input=contact(customerId="C-S", about=[{"type": "ORDER", "id": "O-A"}])
    )
    # then: as if they did not exist
    for body, path in ((by_case, ["input", "caseId"]), (by_order, ["input", "about"])):
        errors = body["data"]["recordInteraction"]["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [(path, "NOT_FOUND")]
        assert "does not exist" in errors[0]["message"]


def test_a_write_only_key_writes_but_cannot_read_back(app: Flask, world: Database) -> None:
    # given
    writer = client_with(app, world, [Scope.INTERACTIONS_WRITE], ["b"])
    # when
    body = query(
        writer,
        "mutation($input: RecordInteractionInput!) { recordInteraction(input: $input)"
        " { replayed userErrors { code } customer { id } } }",
        input=contact(),
    )
    # then
    assert (
        body["data"]["recordInteraction"] is None
        or body["data"]["recordInteraction"]["customer"] is None
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


def test_every_write_is_audited_in_the_log_and_the_graph_without_personal_data(
    agent: FlaskClient, app: Flask, world: Database
) -> None:
    # given
    fields = contact(identity={"email": "ann@example.com"})
    # when
    record(agent, **fields)
    record(agent, **fields)
    # then
    path = Path(app.extensions["ctxapi"].settings.audit_log)
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    writes = [line for line in lines if line["event"] == "write"]
    assert [(w["operation"], w["outcome"], w["customers"]) for w in writes] == [
        ("recordInteraction", "written", ["C-A"]),
        ("recordInteraction", "replayed", ["C-A"]),
    ]
    text = path.read_text()
    assert "ann@example.com" not in text
    assert fields["summary"] not in text
    [ledger] = world.read(
        "MATCH (w:Write) WHERE w.id ENDS WITH $key RETURN w.operation AS op, w.customers AS"
        " customers, w.event AS event, w.keyName AS key",
        {"key": "/" + fields["idempotencyKey"]},
    )
    assert (ledger["op"], ledger["customers"], ledger["event"]) == (
        "recordInteraction", ["C-A"], "interaction.recorded")  # fmt: skip


# -- at the same time ---------------------------------------------------------------------------
def test_one_request_sent_eight_times_at_once_writes_once(
    app: Flask, agent: FlaskClient, world: Database
) -> None:
    # given
    fields = contact()
    before = count(world)
    clients = [
        keyed(app.test_client(), agent.environ_base["HTTP_AUTHORIZATION"].split()[1])
        for _ in range(8)
    ]
    # when
    answers = together([partial(query, c, RECORD, input=fields) for c in clients])
    # then
    payloads = [a["data"]["recordInteraction"] for a in answers]
    assert all(p["userErrors"] == [] for p in payloads), payloads
    assert len({p["interaction"]["id"] for p in payloads}) == 1
    assert sum(not p["replayed"] for p in payloads) == 1
    assert count(world) == before + 1


def test_agents_writing_the_same_customer_at_once_lose_nothing(
    app: Flask, agent: FlaskClient, world: Database
) -> None:
    # given
    secret = agent.environ_base["HTTP_AUTHORIZATION"].split()[1]
    before = count(world)
    # when
    answers = together(
        [lambda: query(keyed(app.test_client(), secret), RECORD, input=contact()) for _ in range(8)]
    )
    # then
    ids = {a["data"]["recordInteraction"]["interaction"]["id"] for a in answers}
    assert len(ids) == 8
    assert count(world) == before + 8


# -- read-your-writes across instances ----------------------------------------------------------
def _routing(settings: Settings, tmp_path: Path) -> Flask:
    """An app that reaches the test Neo4j through neo4j:// routing (a cluster's way)."""
    uri = settings.neo4j_uri.replace("bolt://", "neo4j://")
    audit = str(tmp_path / f"audit-{uuid.uuid4().hex[:6]}.jsonl")
    return create_app(replace(settings, neo4j_uri=uri, clock=NOW, audit_log=audit))


def test_a_write_through_one_instance_is_read_through_another_with_its_bookmarks(
    settings: Settings, world: Database, tmp_path: Path
) -> None:
    # given two instances, each with its own driver, routing through neo4j://
    one, two = _routing(settings, tmp_path), _routing(settings, tmp_path)
    writer = client_with(one, world, AGENT_SCOPES, ["b"])
    reader = client_with(two, world, AGENT_SCOPES, ["b"])
    # when one records a contact and the other reads with the write's bookmarks
    body = query(writer, RECORD, input=contact())
    bookmarks = body["extensions"]["bookmarks"]
    written = body["data"]["recordInteraction"]["interaction"]["id"]
    reader.environ_base["HTTP_CTXAPI_BOOKMARKS"] = ",".join(bookmarks)
    read = query(reader, CONTACTS, id="C-A")
    # then
    assert bookmarks
    assert all(isinstance(b, str) and b for b in bookmarks)
    assert "errors" not in read, read
    edges = read["data"]["customer"]["interactions"]["edges"]
    assert written in [edge["node"]["id"] for edge in edges]


CONTACTS = (
    "query($id: ID!) { customer(id: $id) { interactions(first: 100) { edges { node { id } } } } }"
)


@pytest.mark.parametrize("header", [",".join(["x"] * 17), "bad\x01bookmark"])
def test_a_malformed_bookmarks_header_is_a_bad_request(agent: FlaskClient, header: str) -> None:
    # given
    agent.environ_base["HTTP_CTXAPI_BOOKMARKS"] = header
    # when
    response = agent.post("/graphql", json={"query": CONTACTS, "variables": {"id": "C-A"}})
    # then
    assert response.status_code == 400
    assert (response.json or {})["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_a_bookmark_neo4j_does_not_know_is_a_bad_request_not_an_internal_error(
    agent: FlaskClient,
) -> None:
    # given
    agent.environ_base["HTTP_CTXAPI_BOOKMARKS"] = "FB:not-a-real-bookmark"
    # when
    body = query(agent, CONTACTS, id="C-A")
    # then
    codes = [error["extensions"]["code"] for error in body["errors"]]
    assert codes == ["BAD_REQUEST"], body
    assert "Ctxapi-Bookmarks" in body["errors"][0]["message"]


def test_a_write_whose_result_failed_on_a_deadlock_is_run_again(world: Database) -> None:
    """The driver retries a deadlock met by the statement being read, but reports one met
    while another result of the transaction was read as a ResultFailedError, and gives up
    (seen once in 741 tests under a busy CPU): Database.write runs the transaction again."""
    # given: a transaction that meets that error the first time it runs
    from neo4j.exceptions import Neo4jError, ResultFailedError

    runs: list[int] = []

    def work(tx: Any) -> int:
        runs.append(1)
        value = int(tx.run("RETURN 41 + 1 AS n").single(strict=True)["n"])
        if len(runs) == 1:
            deadlock = Neo4jError._hydrate_neo4j(
                code="Neo.TransientError.Transaction.DeadlockDetected", message="deadlock"
            )
            raise ResultFailedError(None, "the result has failed") from deadlock
        return value

    # when
    answer = world.write(work)
    # then
    assert (answer, len(runs)) == (42, 2)


def test_a_constraint_met_while_another_result_was_read_is_that_constraint(
    world: Database,
) -> None:
    """Reported as a ResultFailedError, it is still the query's own error (the ledger answers
    a request whose twin committed first as a replay on it), not an outage."""
    # given
    from neo4j.exceptions import ConstraintError, Neo4jError, ResultFailedError

    def work(tx: Any) -> None:
        tx.run("RETURN 1").consume()
        taken = Neo4jError._hydrate_neo4j(
            code="Neo.ClientError.Schema.ConstraintValidationFailed", message="already exists"
        )
        raise ResultFailedError(None, "the result has failed") from taken

    # when / then
    with pytest.raises(ConstraintError):
        world.write(work)
