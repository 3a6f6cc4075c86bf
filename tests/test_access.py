"""Access control: API keys, scopes and masking, brand isolation, rate limits, the audit log.

Two sister brands share a product and one email address: Sam North (northwind) and Sam South
(southwind) both use shared@example.com; Sam North and Lee North share a landline. A key of
one brand must see its own customers exactly as if the other brand did not exist.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from graphql import GraphQLSchema

from ctxapi import create_app
from ctxapi.access import guard
from ctxapi.access.audit import AuditLog, tail
from ctxapi.access.keys import KeyStore, Scope
from ctxapi.cli import cli
from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.graphql.fields import Value, registry
from ctxapi.graphql.schema import schema
from ctxapi.limits import Limits
from tests.api import query
from tests.conftest import keyed, neo4j_env
from tests.seeding import seed_load, write_lines

NOW = "2026-11-23T12:00:00+00:00"
SHARED_EMAIL = "shared@example.com"
LANDLINE = "+14155550100"
SOUTH_ONLY = "south.only@example.com"
#: What a northwind key must never see, in any form.
SOUTH = (
    "C-S1", "Sam South", "SW-1", "SH-S1", "INT-S1", "INT-S2", "South secret", "south.only",
    "samsouth", "9 South",
)  # fmt: skip


def _lines(*records: dict[str, Any]) -> list[str]:
    return [json.dumps(record) for record in records]


@pytest.fixture
def sisters(empty_graph: Database, settings: Settings, tmp_path: Path) -> Database:
    """Two brands, three customers, one shared email, one shared landline, one product."""
    folder = tmp_path / "sisters"
    files: dict[str, list[dict[str, Any]]] = {
        "brands": [{"id": "northwind", "name": "Northwind"}, {"id": "southwind", "name": "S"}],
        "products": [{"id": "P-TENT", "name": "Tent", "price": "99.00", "currency": "EUR"}],
        "customers": [
            {"id": "C-N1", "brand": "northwind", "name": "Sam North", "tier": "vip"},
            {"id": "C-N2", "brand": "northwind", "name": "Lee North"},
            {"id": "C-S1", "brand": "southwind", "name": "Sam South"},
        ],
        "addresses": [
            {"id": "ADR-N1", "customer": "C-N1", "kind": "shipping", "line1": "1 North Road",
             "line2": "Flat 2", "city": "Leeds", "postalCode": "LS1 4AP", "country": "GB"},
            {"id": "ADR-S1", "customer": "C-S1", "kind": "shipping", "line1": "9 South Road",
             "city": "Leeds", "postalCode": "LS9 9ZZ", "country": "GB"},
        ],
        "identities": [
            {"customer": "C-N1", "kind": "email", "value": SHARED_EMAIL},
            {"customer": "C-N1", "kind": "phone", "value": LANDLINE},
            {"customer": "C-N1", "kind": "social", "value": "x:@samnorth"},
            {"customer": "C-N2", "kind": "phone", "value": LANDLINE},
            {"customer": "C-S1", "kind": "email", "value": SHARED_EMAIL},
            {"customer": "C-S1", "kind": "email", "value": SOUTH_ONLY},
            {"customer": "C-S1", "kind": "social", "value": "x:@samsouth"},
        ],
        "orders": [
            {"id": "O-N1", "customer": "C-N1", "number": "NW-1", "placedAt": "2026-11-10T10:00:00Z",
             "status": "shipped", "total": "99.00", "currency": "EUR",
             "items": [{"product": "P-TENT", "quantity": 1, "unitPrice": "99.00"}]},
            {"id": "O-S1", "customer": "C-S1", "number": "SW-1", "placedAt": "2026-11-12T10:00:00Z",
             "status": "shipped", "total": "99.00", "currency": "EUR",
             "items": [{"product": "P-TENT", "quantity": 1, "unitPrice": "99.00"}]},
        ],
        "shipments": [
            {"id": "SH-N1", "order": "O-N1", "carrier": "DHL", "status": "in_transit",
             "shippedAt": "2026-11-11T09:00:00Z", "promisedAt": "2026-11-14T18:00:00Z"},
            {"id": "SH-S1", "order": "O-S1", "carrier": "DHL", "status": "in_transit",
             "shippedAt": "2026-11-13T09:00:00Z", "promisedAt": "2026-11-16T18:00:00Z"},
        ],
        "interactions": [
            {"id": "INT-N1", "customer": "C-N1", "channel": "email", "direction": "inbound",
             "occurredAt": "2026-11-18T10:00:00Z", "summary": "Where is my tent?",
             "sentiment": -0.2, "identity": {"kind": "email", "value": SHARED_EMAIL}},
            {"id": "INT-S1", "customer": "C-S1", "channel": "phone", "direction": "inbound",
             "occurredAt": "2026-11-20T10:00:00Z", "summary": "The tent leaks.",
             "sentiment": -0.9, "about": [{"type": "product", "id": "P-TENT"}]},
            # links a loader took although they cross customers (and brands): a southwind
            # contact filed under a northwind case, a northwind contact about a southwind order
            {"id": "INT-S2", "customer": "C-S1", "channel": "chat", "direction": "inbound",
             "occurredAt": "2026-11-21T10:00:00Z", "summary": "South secret", "case": "CS-N1"},
            {"id": "INT-N2", "customer": "C-N1", "channel": "chat", "direction": "inbound",
             "occurredAt": "2026-11-21T11:00:00Z", "summary": "Which order?",
             "about": [{"type": "order", "id": "O-S1"}, {"type": "product", "id": "P-TENT"}]},
        ],
        "cases": [
            {"id": "CS-N1", "customer": "C-N1", "subject": "Late tent", "status": "open",
             "priority": "normal", "openedAt": "2026-11-17T10:00:00Z"},
        ],
    }  # fmt: skip
    for name, records in files.items():
        write_lines(folder, name + ".jsonl", *_lines(*records))
    outcome = seed_load(settings, tmp_path, folder)
    assert outcome.exit_code == 0, outcome.output
    return empty_graph


def _key(db: Database, scopes: list[Scope], brands: list[str] | None, rate: int = 0) -> str:
    secret, _ = KeyStore(db).create("t-" + uuid.uuid4().hex[:10], scopes, brands, rate)
    return secret


@pytest.fixture
def agent_app(settings: Settings, tmp_path: Path) -> Any:
    # (the whole context through every entry point selects more lists than a client may)
    roomy = Limits(max_lists=200, max_rows=1_000_000, max_fields=2000)
    audit = str(tmp_path / "audit.jsonl")
    # (and Neo4j plans such a document cold in over 10 s on a busy host: this is no timeout test)
    return create_app(
        replace(settings, clock=NOW, audit_log=audit, limits=roomy, query_timeout=120)
    )


def _as(app: Any, key: str) -> FlaskClient:
    return keyed(app.test_client(), key)


WHOLE = """
query Whole($email: String!, $id: ID!, $number: String!, $words: String!) {
  byEmail: customerBy(identity: {email: $email}) { ...everything }
  byId: customer(id: $id) { ...everything ...insights }
  order(number: $number) { number customer { ...everything } }
  searchCustomers(query: $words) { score customer { ...everything } }
  proactiveQueue(first: 20) {
    edges { node { detail about { id } customer { ...everything } } }
  }
}
fragment everything on Customer {
  id name brand { id name }
  identities { kind value sharedWith }
  addresses { line1 line2 postalCode city }
  orders(first: 10) { totalCount edges { node { number } } }
  interactions(first: 10) {
    edges { node { id summary identity { value sharedWith } about { id label } case { id } } }
  }
  cases { id channels contacts { id summary } }
  timeline(first: 20) { edges { node { id summary } } }
}
# (insights on one root only: planning them cold under every root takes a minute)
fragment insights on Customer {
  insights {
    shared {
      sharedIdentities { value otherCustomers customers { id name } }
      problems { about { id } otherCustomers detail }
    }
  }
}
"""


# -- keys ---------------------------------------------------------------------------------
def test_no_key_a_wrong_key_and_a_revoked_key_are_401_with_a_challenge(
    sisters: Database, settings: Settings
) -> None:
    # given an API that trusts its key cache not at all, and a key
    app = create_app(replace(settings, key_cache_seconds=0))
    key = _key(sisters, [Scope.CONTEXT_READ], ["northwind"])
    ask = {"query": "{ apiVersion }"}
    # when
    bare = app.test_client().post("/graphql", json=ask)
    wrong = _as(app, "ctx_live_" + "x" * 40).post("/graphql", json=ask)
    basic = app.test_client().post("/graphql", json=ask, headers={"Authorization": "Basic eA=="})
    good = _as(app, key).post("/graphql", json=ask)
    KeyStore(sisters).revoke(next(k.name for k in KeyStore(sisters).list() if _hint(k, key)))
    revoked = _as(app, key).post("/graphql", json=ask)
    # then
    assert good.status_code == 200
    assert bare.status_code == 401
    assert bare.headers["WWW-Authenticate"] == 'Bearer realm="ctxapi"'
    for refused in (wrong, basic, revoked):
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].endswith('error="invalid_token"')
    for refused in (bare, wrong, basic, revoked):
        assert refused.json is not None
        [error] = refused.json["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"


def _hint(info: Any, key: str) -> bool:
    return bool(key.startswith(info.hint))


def test_made_up_keys_never_push_a_real_key_out_of_the_cache(
    sisters: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a small cache that knows one real key
    monkeypatch.setattr(guard, "CACHE_SIZE", 10)
    authenticator = guard.Authenticator(KeyStore(sisters), ttl=600)
    key = _key(sisters, [Scope.CONTEXT_READ], ["northwind"])
    name = authenticator.authenticate("Bearer " + key).name
    # when a flood of made-up keys is checked, and then the real key is revoked in Neo4j
    for n in range(25):
        with pytest.raises(guard.Unauthenticated):
            authenticator.authenticate("Bearer ctx_live_" + f"{n:040d}")
    KeyStore(sisters).revoke(name)
    # then the real key is still answered from the cache (revocation waits for its time to
    # live, as documented): the flood did not evict it, nor send it back to Neo4j
    assert authenticator.authenticate("Bearer " + key).name == name
    authenticator.forget()
    with pytest.raises(guard.Unauthenticated):
        authenticator.authenticate("Bearer " + key)


def test_neo4j_keeps_a_hash_of_a_key_never_the_key(sisters: Database) -> None:
    # when
    key = _key(sisters, [Scope.CONTEXT_READ], ["northwind"])
    # then
    [row] = sisters.read(
        "MATCH (k:ApiKey) WHERE k.hint = $hint RETURN properties(k) AS p", {"hint": key[:13]}
    )
    stored = orjson.dumps(row["p"], default=str).decode()
    assert key not in stored
    assert key[13:] not in stored
    assert len(row["p"]["hash"]) == 64


def test_a_key_without_the_read_scope_is_403(sisters: Database, agent_app: Any) -> None:
    # given
    writer = _as(agent_app, _key(sisters, [Scope.INTERACTIONS_WRITE], ["northwind"]))
    # when
    response = writer.post("/graphql", json={"query": '{ customer(id: "C-N1") { id } }'})
    # then
    assert response.status_code == 403
    assert response.json is not None
    [error] = response.json["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "context:read" in error["message"]


# -- brands -------------------------------------------------------------------------------
def test_an_identifier_shared_with_a_sister_brand_finds_the_one_customer_of_the_key(
    sisters: Database, agent_app: Any
) -> None:
    # given
    north = _as(agent_app, _key(sisters, [Scope.CONTEXT_READ], ["northwind"]))
    south = _as(agent_app, _key(sisters, [Scope.CONTEXT_READ], ["southwind"]))
    both = _as(agent_app, _key(sisters, [Scope.CONTEXT_READ], None))
    who = "query ($e: String!) { customerBy(identity: {email: $e}) { id } }"
    # when
    found = [query(api, who, e=SHARED_EMAIL) for api in (north, south, both)]
    # then
    assert found[0]["data"]["customerBy"] == {"id": "C-N1"}
    assert found[1]["data"]["customerBy"] == {"id": "C-S1"}
    assert found[2]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "identifies 2 customers" in found[2]["errors"][0]["message"]


def test_a_key_of_one_brand_sees_nothing_of_another_through_any_entry_or_edge(
    sisters: Database, agent_app: Any
) -> None:
    # given a northwind key, and every entry point aimed at southwind
    north = _as(agent_app, _key(sisters, [Scope.CONTEXT_READ, Scope.PII_READ], ["northwind"]))
    aimed = {"email": SOUTH_ONLY, "id": "C-S1", "number": "SW-1", "words": "sam"}
    # when
    body = query(north, WHOLE, **aimed)
    text = orjson.dumps(body).decode()
    # then nothing of southwind comes back: no ids, names, numbers, identifiers
    assert "errors" not in body, body
    assert [s for s in SOUTH if s in text] == []
    found = body["data"]
    assert found["byEmail"] is None
    assert found["byId"] is None
    assert found["order"] is None
    assert [hit["customer"]["id"] for hit in found["searchCustomers"]] == ["C-N1"]
    queued = [edge["node"]["customer"]["id"] for edge in found["proactiveQueue"]["edges"]]
    assert set(queued) == {"C-N1"}  # a late parcel and an open case


def test_counts_of_other_customers_stay_within_the_key_s_brands(
    sisters: Database, agent_app: Any
) -> None:
    # given the same customer seen by a northwind key and by a key of every brand
    north = _as(agent_app, _key(sisters, [Scope.CONTEXT_READ, Scope.PII_READ], ["northwind"]))
    every = _as(agent_app, _key(sisters, [Scope.CONTEXT_READ, Scope.PII_READ], None))
    aimed = {"email": SHARED_EMAIL, "id": "C-N1", "number": "NW-1", "words": "sam north"}
    # when
    # (byEmail is ambiguous for the key of every brand: that is the first test's point)
    answers = {name: query(api, WHOLE, **aimed) for name, api in (("n", north), ("e", every))}
    seen = {name: body["data"]["byId"] for name, body in answers.items()}
    # then the shared email is shared only across brands: not shared for northwind
    shared = {
        name: {i["value"]: i["sharedWith"] for i in customer["identities"]}
        for name, customer in seen.items()
    }
    assert shared["n"] == {SHARED_EMAIL: 0, LANDLINE: 1, "x:samnorth": 0}
    assert shared["e"] == {SHARED_EMAIL: 1, LANDLINE: 1, "x:samnorth": 0}
    insight = {name: customer["insights"]["shared"] for name, customer in seen.items()}
    assert insight["n"]["sharedIdentities"] == [
        {"value": LANDLINE, "otherCustomers": 1, "customers": [{"id": "C-N2", "name": "Lee North"}]}
    ]
    assert {s["value"] for s in insight["e"]["sharedIdentities"]} == {SHARED_EMAIL, LANDLINE}
    # and Sam South's complaint about the tent counts only for a key that sees southwind
    assert insight["n"]["problems"] == []
    assert [(p["about"]["id"], p["otherCustomers"]) for p in insight["e"]["problems"]] == [
        ("P-TENT", 1)
    ]


# -- masking ------------------------------------------------------------------------------
def _pii_fields(graphql_schema: GraphQLSchema) -> set[str]:
    specs = registry(graphql_schema).fields
    return {
        f"{type_name}.{name}"
        for type_name, fields in specs.items()
        for name, spec in fields.items()
        if isinstance(spec, Value) and spec.pii is not None
    }


def test_without_pii_read_every_personal_field_is_masked_wherever_it_is_reached(
    sisters: Database, agent_app: Any
) -> None:
    # given a key that reads context but not PII, and one that reads both
    masked = _as(agent_app, _key(sisters, [Scope.CONTEXT_READ], ["northwind"]))
    plain = _as(agent_app, _key(sisters, [Scope.CONTEXT_READ, Scope.PII_READ], ["northwind"]))
    aimed = {"email": SHARED_EMAIL, "id": "C-N1", "number": "NW-1", "words": "sam"}
    # when: the whole context, through every entry point
    hidden = query(masked, WHOLE, **aimed)
    shown = query(plain, WHOLE, **aimed)
    # then no raw identifier, street or postal code appears anywhere in the masked answer
    assert "errors" not in hidden, hidden
    text = orjson.dumps(hidden).decode()
    for raw in (SHARED_EMAIL, LANDLINE, "samnorth", "1 North Road", "Flat 2", "LS1 4AP"):
        assert raw not in text
        assert raw in orjson.dumps(shown).decode()
    # and what is there is recognisable
    customer = hidden["data"]["byId"]
    assert {i["value"] for i in customer["identities"]} == {
        "s***@example.com", "+1 ••• ••• 0100", "x:s***"
    }  # fmt: skip
    assert customer["addresses"] == [
        {"line1": "•••", "line2": "•••", "postalCode": "LS•••", "city": "Leeds"}
    ]
    contacts = {e["node"]["id"]: e["node"] for e in customer["interactions"]["edges"]}
    via = contacts["INT-N1"]["identity"]["value"]
    assert via == "s***@example.com"
    shared = customer["insights"]["shared"]["sharedIdentities"][0]["value"]
    assert shared == "+1 ••• ••• 0100"
    queued = hidden["data"]["proactiveQueue"]["edges"][0]["node"]["customer"]
    assert queued["identities"] == customer["identities"]
    found = hidden["data"]["searchCustomers"][0]["customer"]
    assert found["addresses"] == customer["addresses"]
    # and the document above reaches every field declared personal
    assert _pii_fields(schema.graphql_schema) == {
        "Identity.value", "SharedIdentity.value", "Address.line1", "Address.line2",
        "Address.postalCode",
    }  # fmt: skip


def test_without_pii_read_words_do_not_match_identifiers_prefix_by_prefix(
    sisters: Database, agent_app: Any
) -> None:
    # given the digits of a masked phone number, as a caller would guess them one at a time
    masked = _as(agent_app, _key(sisters, [Scope.CONTEXT_READ], ["northwind"]))
    plain = _as(agent_app, _key(sisters, [Scope.CONTEXT_READ, Scope.PII_READ], ["northwind"]))
    hits = "query ($q: String!) { searchCustomers(query: $q) { customer { id } } }"
    # when
    guessed = {q: query(masked, hits, q=q)["data"]["searchCustomers"] for q in ("1415", "samn")}
    found = query(plain, hits, q="1415")["data"]["searchCustomers"]
    by_name = query(masked, hits, q="sam")["data"]["searchCustomers"]
    # then a masked key learns nothing from prefixes of identifiers; names still match
    assert guessed == {"1415": [], "samn": []}
    assert {hit["customer"]["id"] for hit in found} == {"C-N1", "C-N2"}
    assert [hit["customer"]["id"] for hit in by_name] == ["C-N1"]


# -- audit --------------------------------------------------------------------------------
def test_an_unmasked_read_is_audited_without_the_data_and_a_masked_one_is_not(
    sisters: Database, agent_app: Any, tmp_path: Path
) -> None:
    # given
    masked = _as(agent_app, _key(sisters, [Scope.CONTEXT_READ], ["northwind"]))
    plain = _as(agent_app, _key(sisters, [Scope.CONTEXT_READ, Scope.PII_READ], ["northwind"]))
    who = (
        "query Card($e: String!) { customerBy(identity: {email: $e}) { id name"
        " identities { value } addresses { line1 } } }"
    )
    log = tmp_path / "audit.jsonl"
    # when
    masked.post("/graphql", json={"query": who, "variables": {"e": SHARED_EMAIL}})
    assert not log.exists() or log.read_text() == ""
    response = plain.post("/graphql", json={"query": who, "variables": {"e": SHARED_EMAIL}})
    # then one record: who, which request and operation, which fields of which customer
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(records) == 1
    [record] = records
    assert record["event"] == "pii.read"
    assert record["requestId"] == response.json["extensions"]["requestId"]  # type: ignore[index]
    assert record["operation"] == "Card"
    assert record["customers"] == ["C-N1"]
    assert record["fields"] == ["Address.line1", "Identity.value"]
    assert record["key"].startswith("t-")
    # and never the data itself
    text = log.read_text()
    for raw in (SHARED_EMAIL, LANDLINE, "1 North Road", "Sam North"):
        assert raw not in text
    assert (log.stat().st_mode & 0o077) == 0


def test_a_personal_read_that_cannot_be_audited_is_refused(
    sisters: Database, settings: Settings, tmp_path: Path
) -> None:
    # given an audit log that cannot be written (a file stands where its folder should be)
    (tmp_path / "blocked").write_text("")
    app = create_app(replace(settings, audit_log=str(tmp_path / "blocked" / "audit.jsonl")))
    plain = _as(app, _key(sisters, [Scope.CONTEXT_READ, Scope.PII_READ], ["northwind"]))
    who = "query ($e: String!) { customerBy(identity: {email: $e}) { identities { value } } }"
    # when
    response = plain.post("/graphql", json={"query": who, "variables": {"e": SHARED_EMAIL}})
    # then the data is not served
    assert response.status_code == 503
    assert response.json is not None
    assert response.json["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert LANDLINE not in response.get_data(as_text=True)


def test_audit_tail_reads_the_end_of_a_long_log(tmp_path: Path) -> None:
    # given a log of thousands of records, one torn by a crash mid-write
    log = AuditLog(tmp_path / "audit.jsonl")
    for n in range(3000):
        log.record("pii.read", key="k", customers=[f"C-{n}"])
    with (tmp_path / "audit.jsonl").open("ab") as file:
        file.write(b'{"event": "pii.re')
    log.record("pii.read", key="k", customers=["C-last"])
    # when
    last = tail(tmp_path / "audit.jsonl", 20)
    # then
    assert len(last) == 20
    assert [r["customers"][0] for r in last[-2:]] == ["C-2999", "C-last"]


# -- rate limits --------------------------------------------------------------------------
def test_a_key_over_its_budget_gets_429_with_retry_after_and_ratelimit_headers(
    sisters: Database, agent_app: Any
) -> None:
    # given a key of two requests a minute
    api = _as(agent_app, _key(sisters, [Scope.CONTEXT_READ], ["northwind"], rate=2))
    ask = {"query": "{ apiVersion }"}
    # when
    answers = [api.post("/graphql", json=ask) for _ in range(3)]
    # then
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["RateLimit-Limit"] == "2"
    assert answers[0].headers["RateLimit-Remaining"] == "1"
    assert answers[1].headers["RateLimit-Remaining"] == "0"
    refused = answers[2]
    assert 1 <= int(refused.headers["Retry-After"]) <= 30
    assert refused.json is not None
    assert refused.json["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    # and another key is not held back by it
    other = _as(agent_app, _key(sisters, [Scope.CONTEXT_READ], ["northwind"], rate=2))
    assert other.post("/graphql", json=ask).status_code == 200


# -- the command line and GraphiQL --------------------------------------------------------
@pytest.fixture
def operator(sisters: Database, settings: Settings, tmp_path: Path) -> Any:
    environ = neo4j_env(settings) | {"CTXAPI_AUDIT_LOG": str(tmp_path / "audit.jsonl")}

    def run(*arguments: str) -> Any:
        return CliRunner().invoke(cli, list(arguments), env=environ)

    return run


def test_keys_are_created_listed_rotated_and_revoked_from_the_shell(
    operator: Any, sisters: Database, settings: Settings
) -> None:
    # given
    app = create_app(replace(settings, key_cache_seconds=0))
    ask = {"query": "{ apiVersion }"}
    name = "crm-" + uuid.uuid4().hex[:6]
    # when
    created = operator("keys", "create", "--name", name, "--brand", "northwind", "--quiet")
    key = created.output.strip()
    listed = operator("keys", "list")
    rotated = operator("keys", "rotate", name, "--grace", "60", "--quiet")
    new = rotated.output.strip()
    # then the key works, is listed by its hint only, and both work during the grace period
    assert created.exit_code == 0, created.output
    assert _as(app, key).post("/graphql", json=ask).status_code == 200
    assert name in listed.output
    assert key not in listed.output
    assert key[:13] in listed.output
    assert new != key
    assert _as(app, new).post("/graphql", json=ask).status_code == 200
    assert _as(app, key).post("/graphql", json=ask).status_code == 200
    # when rotated again without grace, and then revoked
    newest = operator("keys", "rotate", name, "--quiet").output.strip()
    assert _as(app, new).post("/graphql", json=ask).status_code == 401
    assert _as(app, newest).post("/graphql", json=ask).status_code == 200
    revoked = operator("keys", "revoke", name)
    # then
    assert revoked.exit_code == 0, revoked.output
    assert _as(app, newest).post("/graphql", json=ask).status_code == 401
    tail = operator("audit", "tail", "--key", name)
    events = [json.loads(line)["event"] for line in tail.output.splitlines()]
    assert events == ["key.create", "key.rotate", "key.rotate", "key.revoke"]
    assert key not in tail.output


def test_key_commands_refuse_what_they_cannot_do_in_one_line(operator: Any) -> None:
    # when
    unknown_brand = operator("keys", "create", "--name", "x1", "--brand", "eastwind")
    no_brand = operator("keys", "create", "--name", "x2")
    bad_scope = operator("keys", "create", "--name", "x3", "--all-brands", "--scopes", "god")
    nobody = operator("keys", "revoke", "nobody-" + uuid.uuid4().hex[:6])
    # then
    assert "no brand eastwind in the graph" in unknown_brand.output
    assert "give --brand" in no_brand.output
    assert "unknown scope god" in bad_scope.output
    assert "context:read" in bad_scope.output
    assert "no key named" in nobody.output
    for outcome in (unknown_brand, no_brand, bad_scope, nobody):
        assert outcome.exit_code != 0
        assert "Traceback" not in outcome.output


def test_graphiql_is_off_in_production(settings: Settings, db: Database) -> None:
    # given
    html = {"Accept": "text/html"}
    # when
    development = create_app(settings).test_client().get("/graphql", headers=html)
    production = create_app(replace(settings, env="production")).test_client()
    off = production.get("/graphql", headers=html)
    # then
    assert development.status_code == 200
    assert b"GraphiQL" in development.data
    assert b"Bearer " in development.data  # the Headers tab shows where a key goes
    assert off.status_code == 404


def test_graphiql_carries_a_key_only_for_a_server_on_loopback(
    settings: Settings, db: Database
) -> None:
    # given the same key given to a server on loopback and to one on every interface
    html = {"Accept": "text/html"}
    key = "ctx_live_" + "k" * 40
    local = create_app(replace(settings, graphiql_key=key)).test_client()
    exposed = create_app(replace(settings, graphiql_key=key, host="0.0.0.0")).test_client()  # noqa: S104
    # when
    pages = [client.get("/graphql", headers=html).data for client in (local, exposed)]
    # then
    assert key.encode() in pages[0]
    assert key.encode() not in pages[1]
