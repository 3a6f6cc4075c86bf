"""The identity lifecycle: identifiers linked and unlinked, customers merged and unmerged, and
every customer behind an identifier (customersBy)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from ctxapi import create_app
from ctxapi.access.keys import KeyStore, Scope
from ctxapi.config import Settings
from ctxapi.db import Database
from tests.api import query
from tests.conftest import keyed
from tests.world import World, day, load

NOW = "2026-11-23T12:00:00+00:00"
#: Pairs of customers to merge, one per test that merges (a merge changes them for good).
PAIRS = 13  # each test merges pairs of its own (the world is the module's)


def add_pair(w: World, n: int) -> None:
    """Survivor S{n} (gold) and M{n} (standard), each with an email, an order with a parcel on
    its way, an open case, a contact and feedback; M{n} also has an address and a handle."""
    for cid, tier in ((f"S{n}", "gold"), (f"M{n}", "standard")):
        w.customer(cid, tier=tier)
        w.add("identities", customer=cid, kind="email", value=f"{cid.lower()}@example.com")
        w.add("orders", id=f"O-{cid}", customer=cid, number=f"N-{cid}", placedAt=day(10),
              status="shipped", total="10.00", currency="EUR",
              items=[{"product": "P-1", "quantity": 1, "unitPrice": "10.00"}])  # fmt: skip
        w.add("shipments", id=f"SH-{cid}", order=f"O-{cid}", carrier="DHL",
              status="in_transit", promisedAt=day(3))  # fmt: skip
        w.add("cases", id=f"K-{cid}", customer=cid, subject="Late", status="open",
              openedAt=day(6))  # fmt: skip
        w.contact(
            cid, f"I-{cid}", 5, identity={"kind": "email", "value": f"{cid.lower()}@example.com"}
        )
        w.add("feedback", id=f"F-{cid}", customer=cid, kind="csat", score=2,
              submittedAt=day(4), rates={"type": "interaction", "id": f"I-{cid}"})  # fmt: skip
    w.add("identities", customer=f"M{n}", kind="social", value=f"x:m{n}", source="crm",
          confidence=0.7)  # fmt: skip
    w.add("addresses", id=f"AD-M{n}", customer=f"M{n}", line1="1 Road", city="Berlin",
          country="DE")  # fmt: skip
    # a landline both share: the survivor keeps its own link, the merged one's comes back
    for cid, confidence in ((f"S{n}", 0.9), (f"M{n}", 0.6)):
        w.add("identities", customer=cid, kind="phone", value=f"+1415555{n:04d}",
              source="import", confidence=confidence)  # fmt: skip


@pytest.fixture(scope="module")
def world(db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Database:
    w = World()
    w.add("brands", id="s", name="Sister")
    w.add("products", id="P-1", name="Tent")
    for n in range(PAIRS):
        add_pair(w, n)
    w.customer("C-S", brand="s")
    w.add("identities", customer="C-S", kind="email", value="sis@example.com")
    # a family landline: two customers, each linked, with their own confidence
    w.customer("C-H1")
    w.customer("C-H2")
    w.add("identities", customer="C-H1", kind="phone", value="+14155550100", source="crm",
          confidence=0.5)  # fmt: skip
    w.add("identities", customer="C-H2", kind="phone", value="+14155550100", source="import",
          confidence=0.9)  # fmt: skip
    w.add("identities", customer="C-S", kind="phone", value="+14155550100")
    w.customer("C-L")
    return load(w, db, settings, tmp_path_factory)


@pytest.fixture
def app(settings: Settings, world: Database, tmp_path: Path) -> Flask:
    return create_app(replace(settings, clock=NOW, audit_log=str(tmp_path / "audit.jsonl")))


def client_with(
    app: Flask, db: Database, scopes: list[Scope], brands: list[str] | None
) -> FlaskClient:
    secret, _ = KeyStore(db).create("i-" + uuid.uuid4().hex[:10], scopes, brands)
    return keyed(app.test_client(), secret)


@pytest.fixture
def steward(app: Flask, world: Database) -> FlaskClient:
    """A data steward's key for brand b: reads everything, manages identities, records contacts."""
    scopes = [Scope.CONTEXT_READ, Scope.PII_READ, Scope.IDENTITIES_MANAGE, Scope.INTERACTIONS_WRITE]
    return client_with(app, world, scopes, ["b"])


CUSTOMER = "id tier identities { kind value source confidence sharedWith } mergedInto { id }"
LINK = f"""
mutation($input: LinkIdentityInput!) {{ linkIdentity(input: $input) {{
  customer {{ {CUSTOMER} }} userErrors {{ field message code }} replayed }} }}
"""
UNLINK = f"""
mutation($input: UnlinkIdentityInput!) {{ unlinkIdentity(input: $input) {{
  customer {{ {CUSTOMER} }} userErrors {{ field message code }} replayed }} }}
"""
MERGE_FIELDS = "id reason at by movedCount movedTypes undoneAt survivor { id } merged { id }"
MERGE = f"""
mutation($input: MergeCustomersInput!) {{ mergeCustomers(input: $input) {{
  merge {{ {MERGE_FIELDS} }} survivor {{ {CUSTOMER} }} merged {{ {CUSTOMER} }}
  userErrors {{ field message code }} replayed }} }}
"""
UNMERGE = f"""
mutation($input: UnmergeCustomersInput!) {{ unmergeCustomers(input: $input) {{
  merge {{ {MERGE_FIELDS} }} survivor {{ {CUSTOMER} }} merged {{ {CUSTOMER} }}
  userErrors {{ field message code }} replayed }} }}
"""
CANDIDATES = """
query($i: IdentityInput!) { customersBy(identity: $i) {
  customer { id } source confidence linkedAt } }
"""


def key() -> str:
    return uuid.uuid4().hex


def payload(api: FlaskClient, text: str, **fields: Any) -> dict[str, Any]:
    body = query(api, text, input={"idempotencyKey": key()} | fields)
    assert "errors" not in body, body["errors"]
    [answer] = body["data"].values()
    return answer  # type: ignore[no-any-return]


def merge(api: FlaskClient, n: int, **fields: Any) -> dict[str, Any]:
    """S{n} absorbs M{n}."""
    base = {"survivorId": f"S{n}", "mergedId": f"M{n}", "reason": "same person, two accounts"}
    return payload(api, MERGE, **(base | fields))


def links(db: Database, cid: str) -> list[tuple[Any, ...]]:
    """Every link of a customer but its brand: type, direction, the record at the other end and
    the link's properties; sorted."""
    rows = db.read(
        "MATCH (c:Customer {id: $id})-[r]-(t) WHERE type(r) <> 'OF_BRAND'"
        " RETURN type(r) AS type, startNode(r) = c AS out,"
        " coalesce(t.id, t.kind + ':' + t.value) AS other, properties(r) AS props",
        {"id": cid},
    )
    return sorted(
        (r["type"], r["out"], r["other"], sorted((k, str(v)) for k, v in r["props"].items()))
        for r in rows
    )


def state(db: Database, cid: str) -> dict[str, Any]:
    [row] = db.read(
        "MATCH (c:Customer {id: $id}) RETURN properties(c) AS props, labels(c) AS labels",
        {"id": cid},
    )
    return {"props": row["props"], "labels": sorted(row["labels"]), "links": links(db, cid)}


def count(db: Database, cypher: str = "MATCH (n) RETURN count(n) AS n") -> int:
    return int(db.read(cypher)[0]["n"])


def codes(answer: dict[str, Any]) -> list[tuple[list[str], str]]:
    return [(e["field"], e["code"]) for e in answer["userErrors"]]


# -- never automatic ----------------------------------------------------------------------------
def test_loading_customers_that_share_an_identifier_never_merges_them(world: Database) -> None:
    # given: the world loaded two customers of brand b on one landline (and one of brand s)
    # when
    holders = world.read(
        "MATCH (:Identity {kind: 'phone', value: '+14155550100'})-[:IDENTIFIES]->(c:Customer)"
        " RETURN c.id AS id ORDER BY id"
    )
    # then
    assert [r["id"] for r in holders] == ["C-H1", "C-H2", "C-S"]
    assert count(world, "MATCH (m:Merge) RETURN count(m) AS n") == 0
    assert count(world, "MATCH (c:Merged) RETURN count(c) AS n") == 0


def test_linking_an_identifier_another_customer_has_shares_it_and_merges_nothing(
    steward: FlaskClient, world: Database
) -> None:
    # when
    answer = payload(steward, LINK, customerId="C-L", identity={"email": "s0@example.com"})
    # then
    assert answer["userErrors"] == []
    [email] = [i for i in answer["customer"]["identities"] if i["kind"] == "EMAIL"]
    assert email["sharedWith"] == 1
    assert count(world, "MATCH (c:Merged) RETURN count(c) AS n") == 0


# -- customersBy and customerBy -----------------------------------------------------------------
def test_customers_by_a_shared_landline_lists_each_most_confident_first(
    steward: FlaskClient,
) -> None:
    # when
    body = query(steward, CANDIDATES, i={"phone": "(415) 555-0100"})
    # then: brand b's two, not the sister brand's
    found = [
        (c["customer"]["id"], c["source"], c["confidence"]) for c in body["data"]["customersBy"]
    ]
    assert found == [("C-H2", "import", 0.9), ("C-H1", "crm", 0.5)]


def test_customers_by_an_identifier_nobody_has_is_empty(steward: FlaskClient) -> None:
    body = query(steward, CANDIDATES, i={"email": "nobody@example.com"})
    assert body["data"]["customersBy"] == []


def test_customer_by_a_shared_identifier_names_the_candidates_ids_not_the_number(
    steward: FlaskClient,
) -> None:
    # when
    body = query(steward, '{ customerBy(identity: {phone: "+1 415 555 0100"}) { id } }')
    # then
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "identifies 2 customers (C-H1, C-H2)" in error["message"]
    assert "0100" not in error["message"]


# -- linkIdentity / unlinkIdentity --------------------------------------------------------------
def test_a_linked_identifier_finds_its_customer_with_its_provenance(
    steward: FlaskClient, world: Database
) -> None:
    # when
    answer = payload(
        steward,
        LINK,
        customerId="C-L",
        identity={"email": " Lou@Example.COM "},
        source="agent-call",
        confidence=0.8,
    )
    # then
    assert (answer["userErrors"], answer["replayed"]) == ([], False)
    assert {
        "kind": "EMAIL", "value": "lou@example.com", "source": "agent-call", "confidence": 0.8,
        "sharedWith": 0,
    } in answer["customer"]["identities"]  # fmt: skip
    found = query(steward, CANDIDATES, i={"email": "LOU@example.com"})["data"]["customersBy"]
    assert [(c["customer"]["id"], c["linkedAt"]) for c in found] == [
        ("C-L", "2026-11-23T12:00:00Z")]  # fmt: skip
    [written] = world.read(
        "MATCH (w:Write {event: 'identity.linked'}) WHERE 'C-L' IN w.customers RETURN count(w) AS n"
    )
    assert written["n"] >= 1


def test_a_link_is_the_same_graph_as_a_loaded_one(steward: FlaskClient, world: Database) -> None:
    # when
    payload(steward, LINK, customerId="C-L", identity={"handle": "X:@Lou"}, confidence=0.5)
    # then: the loader's properties on IDENTIFIES, nothing else
    [link] = world.read(
        "MATCH (:Identity {kind: 'social', value: 'x:lou'})-[l:IDENTIFIES]->(:Customer {id: 'C-L'})"
        " RETURN keys(l) AS keys, l.source AS source"
    )
    assert sorted(link["keys"]) == ["confidence", "linkedAt", "source", "sourceHash"]
    assert link["source"] == "agent"


def test_linking_again_with_the_same_key_is_a_replay(steward: FlaskClient, world: Database) -> None:
    # given
    fields = {"idempotencyKey": key(), "customerId": "C-L", "identity": {"chat": "intercom:L1"}}
    first = query(steward, LINK, input=fields)["data"]["linkIdentity"]
    writes = count(world, "MATCH (w:Write) RETURN count(w) AS n")
    # when
    again = query(steward, LINK, input=fields)["data"]["linkIdentity"]
    # then
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert again["customer"]["id"] == "C-L"
    assert count(world, "MATCH (w:Write) RETURN count(w) AS n") == writes


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"confidence": 1.5}, ["input", "confidence"], "INVALID"),
        ({"source": "  "}, ["input", "source"], "REQUIRED"),
        ({"identity": {"email": "not-an-email"}}, ["input", "identity", "email"], "INVALID"),
        ({"identity": {"email": "a@b.co", "chat": "x:1"}}, ["input", "identity"], "INVALID"),
        ({"customerId": "C-NONE"}, ["input", "customerId"], "NOT_FOUND"),
        ({"idempotencyKey": ""}, ["input", "idempotencyKey"], "INVALID"),
    ],
)
def test_a_bad_link_is_a_user_error_on_its_field_and_writes_nothing(
    steward: FlaskClient, world: Database, fields: dict[str, Any], path: list[str], code: str
) -> None:
    # given
    before = count(world)
    base = {"customerId": "C-L", "identity": {"email": "new@example.com"}}
    # when
    answer = payload(steward, LINK, **(base | fields))
    # then
    assert answer["customer"] is None
    assert codes(answer) == [(path, code)]
    assert count(world) == before


def test_unlinking_the_last_link_forgets_the_identifier_and_a_shared_one_stays(
    steward: FlaskClient, world: Database
) -> None:
    # given
    payload(steward, LINK, customerId="C-L", identity={"externalId": "shop:L9"})
    payload(steward, LINK, customerId="C-H1", identity={"externalId": "shop:L9"})
    # when
    first = payload(steward, UNLINK, customerId="C-L", identity={"externalId": "Shop:L9"})
    shared = count(world, "MATCH (i:Identity {value: 'shop:L9'}) RETURN count(i) AS n")
    last = payload(steward, UNLINK, customerId="C-H1", identity={"externalId": "shop:L9"})
    # then
    assert (first["userErrors"], last["userErrors"]) == ([], [])
    assert "shop:L9" not in [i["value"] for i in first["customer"]["identities"]]
    assert shared == 1
    assert count(world, "MATCH (i:Identity {value: 'shop:L9'}) RETURN count(i) AS n") == 0


def test_unlinking_an_identifier_the_customer_does_not_have_is_not_found(
    steward: FlaskClient, world: Database
) -> None:
    # given
    before = count(world)
    # when
    answer = payload(steward, UNLINK, customerId="C-L", identity={"email": "s1@example.com"})
    # then
    assert codes(answer) == [(["input", "identity"], "NOT_FOUND")]
    assert count(world) == before


# -- who may ------------------------------------------------------------------------------------
ANY: dict[str, dict[str, Any]] = {
    LINK: {"customerId": "C-L", "identity": {"email": "x@example.com"}},
    UNLINK: {"customerId": "C-L", "identity": {"email": "x@example.com"}},
    MERGE: {"survivorId": "S11", "mergedId": "M11", "reason": "r"},
    UNMERGE: {"mergeId": "mrg-none"},
}


@pytest.mark.parametrize("text", list(ANY), ids=["link", "unlink", "merge", "unmerge"])
def test_a_key_without_identities_manage_is_forbidden_and_writes_nothing(
    app: Flask, world: Database, text: str
) -> None:
    # given
    other = client_with(app, world, [Scope.CONTEXT_READ, Scope.INTERACTIONS_WRITE], None)
    before = count(world)
    # when
    body = query(other, text, input={"idempotencyKey": key()} | ANY[text])
    # then
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "identities:manage" in body["errors"][0]["message"]
    assert count(world) == before


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (LINK, ["input", "customerId"]),
        (UNLINK, ["input", "customerId"]),
        (MERGE, ["input", "survivorId"]),
    ],
    ids=["link", "unlink", "merge"],
)
def test_a_key_of_another_brand_finds_no_such_customer(
    app: Flask, world: Database, text: str, path: list[str]
) -> None:
    # given
    sister = client_with(app, world, [Scope.CONTEXT_READ, Scope.IDENTITIES_MANAGE], ["s"])
    before = count(world)
    # when
    answer = payload(sister, text, **ANY[text])
    # then
    assert codes(answer) == [(path, "NOT_FOUND")]
    assert count(world) == before


def test_a_key_of_another_brand_cannot_undo_a_merge(
    app: Flask, steward: FlaskClient, world: Database
) -> None:
    # given
    done = merge(steward, 10)
    sister = client_with(app, world, [Scope.CONTEXT_READ, Scope.IDENTITIES_MANAGE], ["s"])
    # when
    answer = payload(sister, UNMERGE, mergeId=done["merge"]["id"])
    # then
    assert codes(answer) == [(["input", "mergeId"], "NOT_FOUND")]
    assert world.read("MATCH (c:Customer {id: 'M10'}) RETURN c:Merged AS m")[0]["m"] is True


# -- mergeCustomers -----------------------------------------------------------------------------
def test_a_merge_moves_everything_to_the_survivor_and_records_it(
    steward: FlaskClient, world: Database
) -> None:
    # given
    before = links(world, "M0")
    # when
    answer = merge(steward, 0)
    # then
    assert (answer["userErrors"], answer["replayed"]) == ([], False)
    record = answer["merge"]
    assert record["id"].startswith("mrg-")
    assert (record["reason"], record["at"], record["undoneAt"]) == (
        "same person, two accounts", "2026-11-23T12:00:00Z", None)  # fmt: skip
    assert (record["survivor"], record["merged"]) == ({"id": "S0"}, {"id": "M0"})
    assert record["movedCount"] == len(before)
    assert set(record["movedTypes"]) == {
        "IDENTIFIES",
        "LIVES_AT",
        "PLACED",
        "OPENED",
        "HAD",
        "GAVE",
    }
    assert [link[:3] for link in links(world, "M0")] == [("MERGED_INTO", True, "S0")]
    survivor = answer["survivor"]
    values = {i["value"] for i in survivor["identities"]}
    assert {"s0@example.com", "m0@example.com", "x:m0", "+14155550000"} <= values
    [landline] = [i for i in survivor["identities"] if i["kind"] == "PHONE"]
    assert (landline["confidence"], landline["sharedWith"]) == (0.9, 0), "its own link, no double"
    assert answer["merged"] == {
        "id": "M0",
        "tier": "STANDARD",
        "identities": [],
        "mergedInto": {"id": "S0"},
    }
    # the merged customer's parcel now queues with the survivor's tier
    [tier] = world.read("MATCH (s:Shipment {id: 'SH-M0'}) RETURN s.queueTier AS t")
    assert tier["t"] == "gold"
    [merge_node] = world.read(
        "MATCH (g:Merge {id: $id}) RETURN g.survivor AS s, g.merged AS m, g.keyName AS key,"
        " g.mergedProperties AS props",
        {"id": record["id"]},
    )
    assert (merge_node["s"], merge_node["m"]) == ("S0", "M0")
    assert merge_node["key"] == record["by"]
    assert orjson.loads(merge_node["props"])["tier"] == "standard"


def test_reads_after_a_merge_find_the_survivor_and_never_the_merged_customer(
    steward: FlaskClient,
) -> None:
    # given
    merge(steward, 1)
    # when
    by_email = query(steward, '{ customerBy(identity: {email: "m1@example.com"}) { id } }')
    by_order = query(steward, '{ order(number: "N-M1") { id } }')
    search = query(steward, '{ searchCustomers(query: "M1") { customer { id } } }')
    candidates = query(steward, CANDIDATES, i={"phone": "+14155550001"})
    by_id = query(steward, '{ customer(id: "M1") { id orders(first: 5) { totalCount }'
                  " mergedInto { id orders(first: 5) { totalCount } } } }")  # fmt: skip
    # then
    assert by_email["data"]["customerBy"] == {"id": "S1"}
    assert by_order["data"]["order"] == {"id": "O-M1"}
    assert "M1" not in [h["customer"]["id"] for h in search["data"]["searchCustomers"]]
    assert "S1" in [h["customer"]["id"] for h in search["data"]["searchCustomers"]]
    assert [c["customer"]["id"] for c in candidates["data"]["customersBy"]] == ["S1"]
    assert by_id["data"]["customer"] == {
        "id": "M1", "orders": {"totalCount": 0}, "mergedInto": {"id": "S1", "orders": {"totalCount": 2}}}  # fmt: skip  # noqa: E501


def test_both_customers_list_the_merge_so_anyone_can_undo_it(steward: FlaskClient) -> None:
    # given
    done = merge(steward, 12)["merge"]["id"]
    # when
    survivor = query(steward, '{ customer(id: "S12") { merges { id undoneAt } } }')
    merged = query(steward, '{ customer(id: "M12") { merges { id reason } } }')
    # then
    assert survivor["data"]["customer"]["merges"] == [{"id": done, "undoneAt": None}]
    assert merged["data"]["customer"]["merges"] == [
        {"id": done, "reason": "same person, two accounts"}]  # fmt: skip


def test_merging_again_with_the_same_key_is_a_replay(steward: FlaskClient, world: Database) -> None:
    # given
    fields = {"idempotencyKey": key(), "survivorId": "S2", "mergedId": "M2", "reason": "dup"}
    first = query(steward, MERGE, input=fields)["data"]["mergeCustomers"]
    # when
    again = query(steward, MERGE, input=fields)["data"]["mergeCustomers"]
    # then
    assert (first["replayed"], again["replayed"], again["userErrors"]) == (False, True, [])
    assert again["merge"]["id"] == first["merge"]["id"]
    assert count(world, "MATCH (g:Merge {merged: 'M2'}) RETURN count(g) AS n") == 1


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"mergedId": "S3"}, ["input", "mergedId"], "CONFLICT"),
        ({"mergedId": "C-NONE"}, ["input", "mergedId"], "NOT_FOUND"),
        ({"survivorId": "C-NONE"}, ["input", "survivorId"], "NOT_FOUND"),
        ({"mergedId": "C-S"}, ["input", "mergedId"], "NOT_FOUND"),
        ({"reason": " "}, ["input", "reason"], "REQUIRED"),
        ({"reason": "x" * 501}, ["input", "reason"], "INVALID"),
        ({"idempotencyKey": ""}, ["input", "idempotencyKey"], "INVALID"),
    ],
)
def test_a_bad_merge_is_a_user_error_on_its_field_and_writes_nothing(
    steward: FlaskClient, world: Database, fields: dict[str, Any], path: list[str], code: str
) -> None:
    # given
    before = state(world, "M3"), count(world)
    # when
    answer = merge(steward, 3, **fields)
    # then
    assert answer["merge"] is None
    assert codes(answer) == [(path, code)]
    assert (state(world, "M3"), count(world)) == before


def test_customers_of_two_brands_are_never_merged(app: Flask, world: Database) -> None:
    # given: a key of every brand sees both
    admin = client_with(app, world, [Scope.CONTEXT_READ, Scope.IDENTITIES_MANAGE], None)
    # when
    answer = payload(admin, MERGE, survivorId="S4", mergedId="C-S", reason="r")
    # then
    assert codes(answer) == [(["input", "mergedId"], "CONFLICT")]


def test_a_customer_merged_away_cannot_be_merged_again_either_way(
    steward: FlaskClient, world: Database
) -> None:
    # given
    merge(steward, 4)
    # when
    into_it = merge(steward, 5, survivorId="M4", mergedId="M5")
    from_it = merge(steward, 5, survivorId="S5", mergedId="M4")
    # then
    assert codes(into_it) == [(["input", "survivorId"], "CONFLICT")]
    assert codes(from_it) == [(["input", "mergedId"], "CONFLICT")]
    assert "'S4'" in into_it["userErrors"][0]["message"]


def test_a_contact_recorded_for_a_merged_customer_is_refused_naming_the_survivor(
    steward: FlaskClient,
) -> None:
    # given
    merge(steward, 6)
    # when
    answer = payload(
        steward,
        "mutation($input: RecordInteractionInput!) { recordInteraction(input: $input)"
        " { interaction { id } userErrors { field message code } } }",
        customerId="M6", channel="PHONE", direction="INBOUND", summary="called",
    )  # fmt: skip
    # then
    assert codes(answer) == [(["input", "customerId"], "CONFLICT")]
    assert "'S6'" in answer["userErrors"][0]["message"]


# -- unmergeCustomers ---------------------------------------------------------------------------
def test_an_unmerge_restores_both_exactly_and_later_items_stay_with_the_survivor(
    steward: FlaskClient, world: Database
) -> None:
    # given: a note linked to the merged customer the way no write of ctxapi links one yet
    world.write(
        lambda tx: tx.run(
            "MATCH (c:Customer {id: 'M7'}) CREATE (c)-[:WROTE {pinned: true}]->(:Note {id: 'NT-7'})"
        ).consume()
    )
    before = {cid: state(world, cid) for cid in ("S7", "M7")}
    done = merge(steward, 7)
    assert links(world, "M7")[0][0] == "MERGED_INTO"
    later = payload(
        steward,
        "mutation($input: RecordInteractionInput!) { recordInteraction(input: $input)"
        " { interaction { id } userErrors { code } } }",
        customerId="S7", channel="PHONE", direction="INBOUND", summary="after the merge",
        identity={"email": "m7@example.com"},
    )["interaction"]["id"]  # fmt: skip
    # when
    answer = payload(steward, UNMERGE, mergeId=done["merge"]["id"])
    # then
    assert (answer["userErrors"], answer["replayed"]) == ([], False)
    assert answer["merge"]["undoneAt"] == "2026-11-23T12:00:00Z"
    assert answer["merged"]["mergedInto"] is None
    after = {cid: state(world, cid) for cid in ("S7", "M7")}
    assert after["M7"] == before["M7"]
    contact: tuple[Any, ...] = ("HAD", True, later, [])
    assert after["S7"]["links"] == sorted([*before["S7"]["links"], contact])
    assert after["S7"]["props"] == before["S7"]["props"]
    [tier] = world.read("MATCH (s:Shipment {id: 'SH-M7'}) RETURN s.queueTier AS t")
    assert tier["t"] == "standard"


def test_unmerging_twice_is_a_conflict_and_the_same_request_again_a_replay(
    steward: FlaskClient, world: Database
) -> None:
    # given
    done = merge(steward, 8)
    fields = {"idempotencyKey": key(), "mergeId": done["merge"]["id"]}
    first = query(steward, UNMERGE, input=fields)["data"]["unmergeCustomers"]
    before = state(world, "M8")
    # when
    replay = query(steward, UNMERGE, input=fields)["data"]["unmergeCustomers"]
    twice = payload(steward, UNMERGE, mergeId=done["merge"]["id"])
    # then
    assert (first["userErrors"], replay["replayed"]) == ([], True)
    assert codes(twice) == [(["input", "mergeId"], "CONFLICT")]
    assert state(world, "M8") == before


def test_a_merge_whose_survivor_was_merged_away_since_is_undone_after_that_one(
    steward: FlaskClient, world: Database
) -> None:
    # given: M9 into S9, then S9 into S11
    first = merge(steward, 9)["merge"]["id"]
    second = merge(steward, 9, survivorId="S11", mergedId="S9")["merge"]["id"]
    # when
    refused = payload(steward, UNMERGE, mergeId=first)
    payload(steward, UNMERGE, mergeId=second)
    undone = payload(steward, UNMERGE, mergeId=first)
    # then
    assert codes(refused) == [(["input", "mergeId"], "CONFLICT")]
    assert "'S11'" in refused["userErrors"][0]["message"]
    assert undone["userErrors"] == []
    assert "m9@example.com" in {i["value"] for i in undone["merged"]["identities"]}
    assert "s9@example.com" in {i["value"] for i in undone["survivor"]["identities"]}


def test_an_unknown_merge_is_not_found(steward: FlaskClient) -> None:
    answer = payload(steward, UNMERGE, mergeId="mrg-none")
    assert codes(answer) == [(["input", "mergeId"], "NOT_FOUND")]


def test_every_identity_write_is_audited_in_the_log_and_the_graph(
    app: Flask, steward: FlaskClient, world: Database
) -> None:
    # given
    fields = {"idempotencyKey": key(), "survivorId": "S5", "mergedId": "M5", "reason": "dup"}
    # when
    query(steward, MERGE, input=fields)
    query(steward, MERGE, input=fields)
    merge(steward, 5)
    # then
    path = Path(app.extensions["ctxapi"].settings.audit_log)
    writes = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    seen = [(w["operation"], w["outcome"], w["customers"]) for w in writes if w["event"] == "write"]
    assert seen == [
        ("mergeCustomers", "written", ["M5", "S5"]),
        ("mergeCustomers", "replayed", ["M5", "S5"]),
        ("mergeCustomers", "refused", []),
    ]  # fmt: skip
    [ledger] = world.read(
        "MATCH (w:Write) WHERE w.id ENDS WITH $key RETURN w.event AS event, w.customers AS c",
        {"key": "/" + fields["idempotencyKey"]},
    )
    assert (ledger["event"], ledger["c"]) == ("customer.merged", ["M5", "S5"])
