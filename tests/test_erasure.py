"""Erasure (GDPR Art. 17): eraseCustomer and `ctxapi erase` remove a customer's personal data,
keep de-identified aggregates if told to, and leave tombstones that keep a reload of an old
export from bringing the customer back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient

from ctxapi import create_app
from ctxapi.access.keys import KeyStore, Scope
from ctxapi.cli import cli
from ctxapi.config import ConfigError, Settings, from_env
from ctxapi.db import Database
from tests.api import data, query
from tests.conftest import clear_graph, keyed, neo4j_env
from tests.seeding import Outcome, seed_load
from tests.world import World, day

NOW = "2026-11-23T12:00:00+00:00"
PEPPER = "pepper-for-the-erasure-tests-" + "7" * 32
LANDLINE = "+14155550100"
#: Everything personal about Annabel (C-A) the export holds, but the landline she shares.
PERSONAL = (
    "Annabel Quist", "annabel@example.com", "x:annabelq", "12 Quist Lane", "Q-99999",
    "Annabel called about the tent", "tent_for_annabel", "Annabel's tent is late",
    "Annabel's tent was torn", "Annabel loved the tent", "TRK-ANNABEL", "NO-A",
)  # fmt: skip


def export() -> World:
    """Annabel (C-A) with an order, a parcel, a return, a case, a contact and feedback; Bob
    (C-B), who shares her landline; Sven (C-S) of sister brand s."""
    w = World()
    w.add("brands", id="s", name="Sister")
    w.add("customers", id="C-A", brand="b", name="Annabel Quist", tier="vip", locale="de-DE")
    w.add("customers", id="C-B", brand="b", name="Bob Shared")
    w.add("customers", id="C-S", brand="s", name="Sven Sister")
    w.add("identities", customer="C-A", kind="email", value="Annabel@Example.com")
    w.add("identities", customer="C-A", kind="phone", value=LANDLINE)
    w.add("identities", customer="C-A", kind="social", value="x:@AnnabelQ")
    w.add("identities", customer="C-B", kind="phone", value=LANDLINE)
    w.add("identities", customer="C-B", kind="email", value="bob@example.com")
    w.add("addresses", id="AD-A", customer="C-A", line1="12 Quist Lane", city="Springfield",
          postalCode="Q-99999", country="US")  # fmt: skip
    w.add("products", id="P-1", name="Tent")
    w.add("agents", id="AG-1", name="Agent One")
    for oid, cid in (("O-A", "C-A"), ("O-B", "C-B")):
        w.add("orders", id=oid, customer=cid, number="N" + oid, placedAt=day(10),
              status="shipped", total="10.00", currency="EUR",
              items=[{"product": "P-1", "quantity": 1, "unitPrice": "10.00"}])  # fmt: skip
    w.records["orders"][0]["number"] = "NO-A"
    w.add("shipments", id="SH-A", order="O-A", carrier="DHL", status="in_transit",
          trackingNumber="TRK-ANNABEL", promisedAt=day(3))  # fmt: skip
    w.add("returns", id="RT-A", order="O-A", reason="Annabel's tent was torn",
          status="requested", requestedAt=day(2))  # fmt: skip
    w.add("cases", id="K-A", customer="C-A", subject="Annabel's tent is late", status="open",
          openedAt=day(6))  # fmt: skip
    w.add("interactions", id="I-A", customer="C-A", channel="phone", direction="inbound",
          occurredAt=day(5), summary="Annabel called about the tent", topic="tent_for_annabel",
          sentiment=-0.5, identity={"kind": "phone", "value": LANDLINE}, case="K-A",
          agent="AG-1", about=[{"type": "order", "id": "O-A"}])  # fmt: skip
    w.add("feedback", id="F-A", customer="C-A", kind="csat", score=2,
          comment="Annabel loved the tent", submittedAt=day(4),
          rates={"type": "order", "id": "O-A"})  # fmt: skip
    return w


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export, as files a reload reads again."""
    return export().write(tmp_path_factory.mktemp("export"))


@pytest.fixture(autouse=True, scope="module")
def _no_tombstones_left(db: Database) -> Iterator[None]:
    """Other modules load without the pepper: leave them a graph without tombstones."""
    yield
    clear_graph(db)


def environ(settings: Settings, **more: str) -> dict[str, str]:
    return neo4j_env(settings) | {
        "CTXAPI_ERASURE_PEPPER": PEPPER,
        "CTXAPI_NOW": NOW,
        "CTXAPI_AUDIT_LOG": settings.audit_log,
    } | more  # fmt: skip


def reload(settings: Settings, tmp_path: Path, files: Path, **env: str) -> Outcome:
    return seed_load(
        settings, tmp_path, files, environ=environ(settings, **env),
        summary_json=tmp_path / "summary.json",
    )  # fmt: skip


@pytest.fixture
def world(db: Database, settings: Settings, files: Path, tmp_path: Path) -> Database:
    """A graph with only the export in it, loaded without a reject."""
    clear_graph(db)
    outcome = reload(settings, tmp_path, files)
    assert outcome.exit_code == 0, outcome.output
    assert not outcome.rejects
    return db


@pytest.fixture
def app(settings: Settings, world: Database, tmp_path: Path) -> Flask:
    return create_app(
        replace(settings, clock=NOW, audit_log=str(tmp_path / "audit.jsonl"), erasure_pepper=PEPPER)
    )


def client_with(app: Flask, db: Database, scopes: list[Scope], brands: list[str] | None) -> Any:
    secret, _ = KeyStore(db).create("e-" + uuid.uuid4().hex[:10], scopes, brands)
    return keyed(app.test_client(), secret)


@pytest.fixture
def dpo(app: Flask, world: Database) -> FlaskClient:
    """The data protection officer's tool: erases customers of brand b."""
    return client_with(app, world, [Scope.CUSTOMERS_ERASE], ["b"])  # type: ignore[no-any-return]


@pytest.fixture
def agent(app: Flask, world: Database) -> FlaskClient:
    """An agent desktop of brand b: reads, personal data too, and records contacts."""
    scopes = [Scope.CONTEXT_READ, Scope.PII_READ, Scope.INTERACTIONS_WRITE]
    return client_with(app, world, scopes, ["b"])  # type: ignore[no-any-return]


ERASE = """
mutation Erase($input: EraseCustomerInput!) {
  eraseCustomer(input: $input) {
    erasure { id customerId at reason keptAggregates tombstones writesScrubbed
      removed { identities addresses notes orders shipments returns cases interactions feedback }
      kept { identities addresses notes orders shipments returns cases interactions feedback } }
    userErrors { field message code }
    replayed
  }
}
"""


def erase_input(customer: str = "C-A", **fields: Any) -> dict[str, Any]:
    return {"idempotencyKey": uuid.uuid4().hex, "customerId": customer, "reason": "DSR-7"} | fields


def erase(api: FlaskClient, **fields: Any) -> dict[str, Any]:
    body = query(api, ERASE, input=erase_input(**fields))
    assert "errors" not in body, body["errors"]
    return body["data"]["eraseCustomer"]  # type: ignore[no-any-return]


def erase_cli(settings: Settings, *arguments: str, input: str | None = None, **env: str) -> Result:
    return CliRunner().invoke(cli, ["erase", *arguments], env=environ(settings, **env), input=input)


def personal_in_graph(db: Database) -> list[str]:
    """Every personal value of Annabel's found in any node's or relationship's property, and
    her id anywhere but in the audit facts of the ledger."""
    found = db.read(
        "UNWIND $values AS v"
        " CALL (v) {"
        "  MATCH (n) WHERE any(k IN keys(n) WHERE toStringOrNull(n[k]) CONTAINS v)"
        "  RETURN n LIMIT 1"
        "  UNION MATCH ()-[n]->() WHERE any(k IN keys(n) WHERE toStringOrNull(n[k]) CONTAINS v)"
        "  RETURN n LIMIT 1"
        " } RETURN DISTINCT v"
        " UNION MATCH (n) WHERE NOT n:Write AND any(k IN keys(n) WHERE n[k] = 'C-A')"
        " RETURN DISTINCT 'C-A' AS v",
        {"values": list(PERSONAL)},
    )
    return sorted(row["v"] for row in found)


def count(db: Database, cypher: str, **parameters: Any) -> int:
    return int(db.read(cypher, parameters)[0]["n"])


def suppressed(outcome: Outcome, tmp_path: Path) -> dict[str, int]:
    summary = orjson.loads((tmp_path / "summary.json").read_bytes())
    return {k: v["suppressed"] for k, v in summary["types"].items() if v["suppressed"]}


READS = """
query Reads($email: String!, $phone: String!) {
  byId: customer(id: "C-A") { id }
  byEmail: customerBy(identity: {email: $email}) { id }
  byPhone: customerBy(identity: {phone: $phone}) { id identities { kind value sharedWith } }
  search: searchCustomers(query: "Annabel") { customer { id } }
  searchEmail: searchCustomers(query: "annabel@example.com") { customer { id } }
  order(number: "NO-A") { id }
  queue: proactiveQueue(first: 100) { edges { node { customer { id } } } }
}
"""


# -- the test ---------------------------------------------------------------------------
def test_an_erased_customer_stays_erased_when_the_original_export_is_loaded_again(
    dpo: FlaskClient, agent: FlaskClient, world: Database, settings: Settings, files: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    # given: Annabel can be found every way, and shares her landline with Bob
    variables = {"email": "annabel@example.com", "phone": LANDLINE}
    before = query(agent, READS, **variables)
    assert [e["path"] for e in before["errors"]] == [["byPhone"]]  # two customers have it
    found = before["data"]
    assert found["byId"] == found["byEmail"] == {"id": "C-A"}
    assert found["order"] is not None
    assert {"id": "C-A"} in [hit["customer"] for hit in found["search"]]
    assert {"id": "C-A"} in [e["node"]["customer"] for e in found["queue"]["edges"]]
    # when
    receipt = erase(dpo)
    # then: the receipt counts what went and what stayed, and names no personal value
    assert receipt["userErrors"] == []
    erasure = receipt["erasure"]
    assert erasure["customerId"] == "C-A"
    assert erasure["at"] == "2026-11-23T12:00:00Z"
    assert erasure["keptAggregates"] is True
    assert erasure["removed"] == {"identities": 2, "addresses": 1, "notes": 0, "orders": 0,
        "shipments": 0, "returns": 0, "cases": 0, "interactions": 0, "feedback": 0}  # fmt: skip
    assert erasure["kept"] == {"identities": 1, "addresses": 0, "notes": 0, "orders": 1,
        "shipments": 1, "returns": 1, "cases": 1, "interactions": 1, "feedback": 1}  # fmt: skip
    assert erasure["tombstones"] == 4  # her id, her order's, her email and handle
    assert not any(value in orjson.dumps(receipt).decode() for value in PERSONAL)
    # and nothing personal is left in the graph, and no read finds her
    assert personal_in_graph(world) == []
    reads = data(agent, READS, **variables)
    assert (reads["byId"], reads["byEmail"], reads["order"]) == (None, None, None)
    assert reads["search"] == reads["searchEmail"] == []
    assert reads["byPhone"]["id"] == "C-B", "the landline is Bob's alone now"
    assert {i["value"]: i["sharedWith"] for i in reads["byPhone"]["identities"]}[LANDLINE] == 0
    assert all(e["node"]["customer"]["id"] != "C-A" for e in reads["queue"]["edges"])
    # when: the original export is loaded again, twice
    first = reload(settings, tmp_path, files)
    first_suppressed = suppressed(first, tmp_path)
    second = reload(settings, tmp_path, files)
    # then: her records are suppressed, nothing personal came back, Bob is unchanged
    assert first.exit_code == 0, first.output
    assert first.rejects == []
    assert first_suppressed == {"customers": 1, "identities": 3, "addresses": 1, "orders": 1,
        "shipments": 1, "returns": 1, "cases": 1, "interactions": 1, "feedback": 1}  # fmt: skip
    assert "11 records of erased customers were suppressed" in first.output
    listing = orjson.loads((tmp_path / "summary.json").read_bytes())["suppressed"]
    assert len(listing) == 11
    assert {entry["reason"] for entry in listing} == {"erased on 2026-11-23"}
    assert set(listing[0]) == {"file", "line", "type", "reason"}
    assert second.exit_code == 0
    assert suppressed(second, tmp_path) == first_suppressed
    assert personal_in_graph(world) == []
    assert data(agent, READS, **variables) | {"queue": None} == reads | {"queue": None}
    assert count(world, "MATCH (c:Customer) RETURN count(c) AS n") == 2


def test_kept_aggregates_are_de_identified_and_reached_from_no_customer(
    dpo: FlaskClient, world: Database
) -> None:
    # when
    erase(dpo)
    # then
    [kept] = world.read(
        "MATCH (e:ErasedCustomer)-[:OF_BRAND]->(b:Brand)"
        " MATCH (e)-[:PLACED]->(o:Order)-[line:CONTAINS]->(p:Product)"
        " MATCH (o)-[:SHIPPED_AS]->(s:Shipment) MATCH (o)<-[:RETURNS]-(r:Return)"
        " MATCH (e)-[:HAD]->(i:Interaction)-[:ABOUT]->(o) MATCH (e)-[:GAVE]->(f:Feedback)"
        " MATCH (e)-[:OPENED]->(k:Case)<-[:PART_OF]-(i)"
        " RETURN b.id AS brand, e.tier AS tier, keys(e) AS customer, o.totalMinor AS total,"
        " line.unitPriceMinor AS price, p.id AS product, o {.*} AS o, s {.*} AS s, r {.*} AS r,"
        " i {.*} AS i, f {.*} AS f, k {.*} AS k"
    )
    assert (kept["brand"], kept["tier"], kept["total"], kept["price"], kept["product"]) == (
        "b", "vip", 1000, 1000, "P-1")  # fmt: skip
    assert sorted(kept["customer"]) == ["id", "tier"]
    assert (kept["i"]["channel"], kept["i"]["sentiment"], kept["f"]["score"]) == ("phone", -0.5, 2)
    for node in ("o", "s", "r", "i", "f", "k"):
        assert kept[node]["id"].startswith("erased-")
        assert "sourceHash" not in kept[node]
        assert "queueTier" not in kept[node]
    free_text = {"number", "trackingNumber", "reason", "summary", "topic", "comment", "subject"}
    assert free_text.isdisjoint(k for node in ("o", "s", "r", "i", "f", "k") for k in kept[node])
    linked = (
        "MATCH p = (:Customer)-[*1..4]-(:ErasedCustomer)"
        " WHERE none(n IN nodes(p) WHERE n:Brand OR n:Product OR n:Agent) RETURN count(p) AS n"
    )
    assert count(world, linked) == 0


def test_with_aggregates_off_the_cli_deletes_orders_contacts_and_feedback_too(
    world: Database, settings: Settings, files: Path, tmp_path: Path
) -> None:
    # given
    before = count(world, "MATCH (o:Order) RETURN count(o) AS n")
    # when
    result = erase_cli(
        settings, "C-A", "--reason", "DSR-8", "--yes", "--json",
        CTXAPI_ERASURE_KEEP_AGGREGATES="off",
    )  # fmt: skip
    # then
    assert result.exit_code == 0, result.output
    receipt = orjson.loads(result.output)
    assert receipt["keptAggregates"] is False
    assert receipt["kept"] == dict.fromkeys(receipt["kept"], 0) | {"identities": 1}
    assert receipt["removed"] | {"notes": 0} == {"identities": 2, "addresses": 1, "notes": 0,
        "orders": 1, "shipments": 1, "returns": 1, "cases": 1, "interactions": 1,
        "feedback": 1}  # fmt: skip
    assert count(world, "MATCH (o:Order) RETURN count(o) AS n") == before - 1
    assert count(world, "MATCH (e:ErasedCustomer) RETURN count(e) AS n") == 0
    assert count(world, "MATCH (n) WHERE n:Interaction OR n:Feedback OR n:Case"
                        " OR n:Shipment OR n:Return RETURN count(n) AS n") == 0  # fmt: skip
    assert personal_in_graph(world) == []
    # and a reload brings nothing back either
    outcome = reload(settings, tmp_path, files)
    assert outcome.exit_code == 0
    assert sum(suppressed(outcome, tmp_path).values()) == 11
    assert personal_in_graph(world) == []


# -- the command --------------------------------------------------------------------------------
def test_the_command_asks_first_shows_what_it_would_do_and_is_audited_as_its_operator(
    world: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    audit_log = tmp_path / "cli-audit.jsonl"
    env = {"CTXAPI_AUDIT_LOG": str(audit_log)}
    # when: a dry run, a refused prompt, then a confirmed one
    dry = erase_cli(settings, "C-A", "--reason", "DSR-9", "--dry-run", **env)
    refused = erase_cli(settings, "C-A", "--reason", "DSR-9", input="n\n", **env)
    still_there = count(world, "MATCH (c:Customer {id: 'C-A'}) RETURN count(c) AS n")
    done = erase_cli(
        settings, "C-A", "--reason", "DSR-9", "--operator", "dpo-alice", input="y\n", **env
    )
    again = erase_cli(settings, "C-A", "--reason", "DSR-9", "--yes", **env)
    unknown = erase_cli(settings, "C-NONE", "--reason", "DSR-9", "--yes", **env)
    # then
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output
    assert "removed: identities 2, addresses 1" in dry.output
    assert refused.exit_code == 1
    assert "Nothing was erased." in refused.output
    assert still_there == 1
    assert done.exit_code == 0, done.output
    assert "Erased customer C-A" in done.output
    assert "orders 1" in done.output
    assert again.exit_code == 3
    assert "was erased on 2026-11-23" in again.output
    assert unknown.exit_code == 1
    assert "does not exist" in unknown.output
    lines = [orjson.loads(line) for line in audit_log.read_bytes().splitlines()]
    facts = [(x["operation"], x["outcome"], x["key"], x["keyId"], x["customers"]) for x in lines]
    assert facts == [("eraseCustomer", "written", "dpo-alice", "-", ["C-A"])]
    assert not any(value in audit_log.read_text() for value in PERSONAL)
    [ledger] = world.read(
        "MATCH (w:Write {operation: 'eraseCustomer'}) RETURN w.keyName AS key, w.keyId AS id,"
        " w.event AS event, w.customers AS customers, w.result AS result"
    )
    assert (ledger["key"], ledger["id"], ledger["event"], ledger["customers"]) == (
        "dpo-alice", "-", "customer.erased", ["C-A"])  # fmt: skip
    assert orjson.loads(ledger["result"])["erasure"]["reason"] == "DSR-9"


# -- who may erase, and again -------------------------------------------------------------------
def test_a_key_without_customers_erase_is_forbidden_and_nothing_is_erased(
    app: Flask, agent: FlaskClient, world: Database
) -> None:
    # when
    body = query(agent, ERASE, input=erase_input())
    # then
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "customers:erase" in body["errors"][0]["message"]
    assert count(world, "MATCH (c:Customer {id: 'C-A'}) RETURN count(c) AS n") == 1


def test_a_key_of_another_brand_finds_no_such_customer(app: Flask, world: Database) -> None:
    # given
    sister = client_with(app, world, [Scope.CUSTOMERS_ERASE], ["s"])
    # when
    payload = erase(sister)
    # then
    assert payload["erasure"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "customerId"], "NOT_FOUND")]  # fmt: skip
    assert count(world, "MATCH (c:Customer {id: 'C-A'}) RETURN count(c) AS n") == 1


def test_the_same_request_again_is_a_replay_and_a_new_one_finds_no_such_customer(
    dpo: FlaskClient, world: Database
) -> None:
    # given
    fields = erase_input()
    first = query(dpo, ERASE, input=fields)["data"]["eraseCustomer"]
    # when
    replay = query(dpo, ERASE, input=fields)["data"]["eraseCustomer"]
    anew = erase(dpo)
    # then
    assert replay["replayed"] is True
    assert replay["erasure"] == first["erasure"]
    assert anew["erasure"] is None
    assert [e["code"] for e in anew["userErrors"]] == ["NOT_FOUND"]


@pytest.mark.parametrize(("reason", "code"), [("", "REQUIRED"), ("x" * 501, "INVALID")])
def test_an_erasure_says_why(dpo: FlaskClient, world: Database, reason: str, code: str) -> None:
    # when
    payload = erase(dpo, reason=reason)
    # then
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", "reason"], code)]
    assert count(world, "MATCH (c:Customer {id: 'C-A'}) RETURN count(c) AS n") == 1


# -- the ledger, the audit log ------------------------------------------------------------------
def test_earlier_writes_lose_their_request_digest_and_keep_their_audit_facts(
    app: Flask, dpo: FlaskClient, agent: FlaskClient, world: Database
) -> None:
    # given: a contact recorded through the API, with a summary naming her
    recorded = query(
        agent,
        "mutation($input: RecordInteractionInput!) { recordInteraction(input: $input)"
        " { userErrors { code } } }",
        input={"idempotencyKey": "k-1", "customerId": "C-A", "channel": "EMAIL",
               "direction": "OUTBOUND", "summary": "Annabel called about the tent again"},
    )  # fmt: skip
    assert recorded["data"]["recordInteraction"]["userErrors"] == []
    # when
    receipt = erase(dpo)
    # then
    assert receipt["erasure"]["writesScrubbed"] == 1
    [write] = world.read(
        "MATCH (w:Write {operation: 'recordInteraction'}) WHERE w.id ENDS WITH '/k-1'"
        " RETURN w.requestHash AS hash, w.customers AS customers, w.event AS event"
    )
    assert (write["hash"], write["customers"], write["event"]) == (
        "erased", ["C-A"], "interaction.recorded")  # fmt: skip
    audit = Path(app.extensions["ctxapi"].settings.audit_log).read_text()
    lines = [orjson.loads(line) for line in audit.splitlines()]
    assert [x["operation"] for x in lines if x["event"] == "write"] == [
        "recordInteraction", "eraseCustomer"]  # fmt: skip
    assert not any(value in audit for value in PERSONAL)
    # and the same request sent again says its customer is gone, not that the key was reused
    again = query(
        agent,
        "mutation($input: RecordInteractionInput!) { recordInteraction(input: $input)"
        " { userErrors { field code } } }",
        input={"idempotencyKey": "k-1", "customerId": "C-A", "channel": "EMAIL",
               "direction": "OUTBOUND", "summary": "Annabel called about the tent again"},
    )  # fmt: skip
    assert again["data"]["recordInteraction"]["userErrors"] == [
        {"field": ["input", "idempotencyKey"], "code": "NOT_FOUND"}]  # fmt: skip


# -- the pepper ---------------------------------------------------------------------------------
def test_without_the_pepper_nothing_is_erased_and_no_load_runs_past_the_tombstones(
    app: Flask, dpo: FlaskClient, world: Database, settings: Settings, files: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    # given: an API and a shell without the pepper
    bare = create_app(replace(settings, clock=NOW, erasure_pepper=""))
    secret = dpo.environ_base["HTTP_AUTHORIZATION"].split()[1]
    # when
    refused_api = query(keyed(bare.test_client(), secret), ERASE, input=erase_input())
    refused_cli = erase_cli(settings, "C-A", "--reason", "DSR-1", "--yes",
                            CTXAPI_ERASURE_PEPPER="")  # fmt: skip
    # then
    assert refused_api["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert "erasure pepper" in refused_api["errors"][0]["message"]
    assert refused_cli.exit_code == 1
    assert "CTXAPI_ERASURE_PEPPER" in refused_cli.output
    assert count(world, "MATCH (c:Customer {id: 'C-A'}) RETURN count(c) AS n") == 1
    # when: erased with the pepper, then loaded without it and with another
    erase(dpo)
    missing = reload(settings, tmp_path, files, CTXAPI_ERASURE_PEPPER="")
    other = reload(settings, tmp_path, files, CTXAPI_ERASURE_PEPPER="another-" + "1" * 32)
    # then: both stop before writing anything, and say why
    for outcome in (missing, other):
        assert outcome.exit_code == 1
        assert "CTXAPI_ERASURE_PEPPER" in outcome.output
    assert "not set" in missing.output
    assert "never change" in other.output
    assert personal_in_graph(world) == []


def test_an_erased_identifier_under_a_new_customer_id_is_suppressed_too(
    dpo: FlaskClient, world: Database, settings: Settings, tmp_path: Path
) -> None:
    # given: another system's export, with her email (any spelling) under another id
    erase(dpo)
    other = World()
    other.add("customers", id="CRM-7", brand="b", name="A. Quist")
    other.add("identities", customer="CRM-7", kind="email", value=" ANNABEL@example.com ")
    other.add("identities", customer="C-B", kind="phone", value=LANDLINE)
    # when
    outcome = reload(settings, tmp_path, other.write(tmp_path / "crm"))
    # then: the customer record loads, her email does not; Bob's landline is his
    assert outcome.exit_code == 0, outcome.output
    assert suppressed(outcome, tmp_path) == {"identities": 1}
    assert count(world, "MATCH (i:Identity {kind: 'email', value: 'annabel@example.com'})"
                        " RETURN count(i) AS n") == 0  # fmt: skip


def test_the_settings_check_the_pepper_and_never_repeat_it() -> None:
    # when
    with pytest.raises(ConfigError) as error:
        from_env({"CTXAPI_ERASURE_PEPPER": "short-secret"})
    peppered = from_env({"CTXAPI_ERASURE_PEPPER": PEPPER, "CTXAPI_ERASURE_KEEP_AGGREGATES": "off"})
    # then
    assert "CTXAPI_ERASURE_PEPPER" in str(error.value)
    assert "short-secret" not in str(error.value)
    assert PEPPER not in repr(peppered)
    assert peppered.erasure_keep_aggregates is False
    assert from_env({}).erasure_keep_aggregates is True
    with pytest.raises(ConfigError, match="use on or off"):
        from_env({"CTXAPI_ERASURE_KEEP_AGGREGATES": "maybe"})


def test_the_local_development_graph_gets_a_pepper_of_its_own_kept_beside_it(
    tmp_path: Path,
) -> None:
    # given: the managed local Neo4j (no NEO4J_URI), and a server named by NEO4J_URI
    local = Settings(home=tmp_path / "home")
    named = Settings(home=tmp_path / "other", neo4j_uri="neo4j://db:7687")
    # when
    first, again = local.pepper(), local.pepper()
    # then
    path = tmp_path / "home" / "erasure-pepper"
    assert first is not None
    assert len(first) == 64
    assert first == again
    assert path.read_text().strip() == first
    assert path.stat().st_mode & 0o777 == 0o600
    assert named.pepper() is None, "a real database needs CTXAPI_ERASURE_PEPPER"
    assert Settings(home=tmp_path / "x", erasure_pepper=PEPPER).pepper() == PEPPER


# -- erasure and merges -------------------------------------------------------------------------
MERGE = """
mutation($input: MergeCustomersInput!) {
  mergeCustomers(input: $input) { merge { id } userErrors { code } }
}
"""


def merged_bob_into_annabel(app: Flask, world: Database) -> None:
    """An agent said Bob (C-B) is Annabel (C-A): C-B merged into C-A."""
    steward = client_with(app, world, [Scope.CONTEXT_READ, Scope.IDENTITIES_MANAGE], ["b"])
    fields = {"idempotencyKey": uuid.uuid4().hex, "survivorId": "C-A", "mergedId": "C-B",
              "reason": "same person"}  # fmt: skip
    answer = data(steward, MERGE, input=fields)["mergeCustomers"]
    assert answer["userErrors"] == []


def test_erasing_a_survivor_erases_who_was_merged_into_them_and_the_merge(
    app: Flask, dpo: FlaskClient, world: Database, settings: Settings, files: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    # given
    merged_bob_into_annabel(app, world)
    # when
    body = query(dpo, "mutation($input: EraseCustomerInput!) { eraseCustomer(input: $input) {"
                 " erasure { mergedAway merges tombstones } userErrors { code } } }",
                 input=erase_input())  # fmt: skip
    # then
    erasure = body["data"]["eraseCustomer"]["erasure"]
    assert (erasure["mergedAway"], erasure["merges"]) == (1, 1)
    assert count(world, "MATCH (g:Merge) RETURN count(g) AS n") == 0
    assert count(world, "MATCH (c:Customer) WHERE c.id IN ['C-A', 'C-B'] RETURN count(c) AS n") == 0
    bob = ["Bob Shared", "bob@example.com"]
    assert (
        world.read(
            "MATCH (n) WHERE any(k IN keys(n) WHERE toStringOrNull(n[k]) IN $values) RETURN n",
            {"values": bob},
        )
        == []
    )
    # and a reload of the export brings neither back
    outcome = reload(settings, tmp_path, files)
    assert outcome.exit_code == 0, outcome.output
    assert suppressed(outcome, tmp_path)["customers"] == 2
    assert count(world, "MATCH (c:Customer) WHERE c.id IN ['C-A', 'C-B'] RETURN count(c) AS n") == 0


def test_a_customer_merged_away_is_erased_through_the_survivor(
    app: Flask, dpo: FlaskClient, world: Database, settings: Settings
) -> None:
    # given
    merged_bob_into_annabel(app, world)
    # when
    over_api = erase(dpo, customer="C-B")
    from_shell = erase_cli(settings, "C-B", "--reason", "DSR-8", "--yes")
    # then
    [error] = over_api["userErrors"]
    assert (error["field"], error["code"]) == (["input", "customerId"], "CONFLICT")
    assert "'C-A'" in error["message"]
    assert from_shell.exit_code == 1
    assert "merged into 'C-A'" in from_shell.output
    assert count(world, "MATCH (c:Customer) WHERE c.id IN ['C-A', 'C-B'] RETURN count(c) AS n") == 2
