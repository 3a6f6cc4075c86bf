"""The Gladly Lookup Adapter: requests built and signed as Gladly's protocol documents them
(the signing below is written from the protocol's text, not from ctxapi's verifier)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ctxapi import create_app
from ctxapi.access.audit import tail
from ctxapi.cli import cli
from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.gladly.adapters import AdapterStore, Credentials
from tests.conftest import neo4j_env
from tests.world import World, day, load

URL = "/gladly/lookup"
SIGNED_HEADERS = "content-type;gladly-time"


# -- the protocol, from its text -------------------------------------------------------------
def gladly_signature(
    secret: str, method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> str:
    """Steps 1 to 4 of Gladly's request signing, for the headers in ``headers`` (in order)."""
    body_hash = hashlib.sha256(body).hexdigest()
    lines = [method, path, query]
    lines += [f"{name}:{' '.join(value.split())}" for name, value in headers.items()]
    canonical = "\n".join(lines) + "\n\n" + ";".join(headers) + "\n" + body_hash
    canonical_hash = hashlib.sha256(canonical.encode()).hexdigest()
    moment = headers["gladly-time"]
    signing_key = hmac.new(secret.encode(), moment.split("T")[0].encode(), "sha256").digest()
    string_to_sign = "hmac-sha256\n" + moment + "\n" + canonical_hash
    return hmac.new(signing_key, string_to_sign.encode(), "sha256").hexdigest()


def gladly_time(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def ask(
    client: FlaskClient,
    credentials: Credentials,
    lookup: dict[str, Any] | bytes,
    *,
    password: str | None = None,
    secret: str | None = None,
    moment: str | None = None,
    signed_body: bytes | None = None,
    basic: bool = True,
    signed: bool = True,
) -> TestResponse:
    """POST one lookup as Gladly sends it: Basic auth and a signature over the body."""
    body = lookup if isinstance(lookup, bytes) else orjson.dumps(lookup)
    headers = {"content-type": "application/json", "gladly-time": moment or gladly_time()}
    sent = dict(headers)
    if signed:
        signature = gladly_signature(
            secret or credentials.signing_secret, "POST", URL, "", headers, signed_body or body
        )
        sent["gladly-authorization"] = (
            f"SigningAlgorithm=hmac-sha256, SignedHeaders={SIGNED_HEADERS}, Signature={signature}"
        )
    if basic:
        pair = f"{credentials.username}:{password or credentials.password}"
        sent["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    return client.post(URL, data=body, headers=sent)


def basic(query: dict[str, Any], unique: bool = True) -> dict[str, Any]:
    return {"lookupLevel": "BASIC", "query": query, "uniqueMatchRequired": unique}


def detailed(query: dict[str, Any]) -> dict[str, Any]:
    return {"lookupLevel": "DETAILED", "query": query, "uniqueMatchRequired": True}


def results(response: TestResponse) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.json or {}
    return body["results"]  # type: ignore[no-any-return]


# -- the graph -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def graph(db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Database:
    """Brand b: Ana (two orders, one in a parcel on its way), Ben and Cara sharing a family
    phone; brand o: Otto, who shares Ana's email (another brand's customer)."""
    world = World()
    world.add("brands", id="o", name="Other")
    world.customer("ANA", tier="gold")
    world.customer("BEN")
    world.customer("CARA")
    world.customer("OTTO", brand="o")
    for cid, kind, value in (
        ("ANA", "email", "ana.lima@example.com"),
        ("ANA", "phone", "+1 415 555 0100"),
        ("BEN", "phone", "+1 415 555 0199"),
        ("CARA", "phone", "+1 (415) 555-0199"),
        ("CARA", "email", "cara@example.com"),
        ("OTTO", "email", "ana.lima@example.com"),
        ("OTTO", "email", "otto@example.com"),
    ):
        world.add("identities", customer=cid, kind=kind, value=value)
    world.add(
        "addresses", id="ADR-1", customer="ANA", kind="shipping", line1="1 Market St",
        line2="Apt 4", city="San Francisco", postalCode="94105", region="CA", country="US",
    )  # fmt: skip
    world.add("products", id="P-TENT", name="Trail Tent", price="199.00", currency="USD")
    world.add("products", id="P-SOCK", name="Wool Socks", price="12.50", currency="USD")
    world.add(
        "orders", id="O-1", customer="ANA", number="B-1001", placedAt=day(3), status="shipped",
        total="224.00", currency="USD",
        items=[
            {"product": "P-TENT", "quantity": 1, "unitPrice": "199.00"},
            {"product": "P-SOCK", "quantity": 2, "unitPrice": "12.50"},
        ],
    )  # fmt: skip
    world.add(
        "orders", id="O-2", customer="ANA", number="B-0900", placedAt=day(40),
        status="delivered", total="12.50", currency="USD",
        items=[{"product": "P-SOCK", "quantity": 1, "unitPrice": "12.50"}],
    )  # fmt: skip
    world.add(
        "shipments", id="SH-1", order="O-1", carrier="UPS", trackingNumber="1Z999",
        status="in_transit", shippedAt=day(2), promisedAt=day(-1),
    )  # fmt: skip
    world.add("orders", id="O-9", customer="OTTO", number="O-9", placedAt=day(5),
              status="delivered", total="5.00", currency="USD", items=[])  # fmt: skip
    return load(world, db, settings, tmp_path_factory)


@pytest.fixture(scope="module")
def adapter(graph: Database) -> Credentials:
    credentials, _ = AdapterStore(graph).add("b")
    return credentials


@pytest.fixture(scope="module")
def other_adapter(graph: Database) -> Credentials:
    credentials, _ = AdapterStore(graph).add("o")
    return credentials


@pytest.fixture
def gladly(settings: Settings, graph: Database) -> FlaskClient:
    app: Flask = create_app(settings)
    return app.test_client()


# -- BASIC -------------------------------------------------------------------------------------
def test_basic_by_email_answers_the_profile(gladly: FlaskClient, adapter: Credentials) -> None:
    # when: Gladly searches an email as an agent typed it
    found = results(ask(gladly, adapter, basic({"email": " Ana.Lima@EXAMPLE.com", "id": "g1"})))
    # then: Ana alone (Otto, of another brand, has the same email)
    assert found == [
        {
            "externalCustomerId": "ANA",
            "name": "Ana",
            "emails": [{"original": "ana.lima@example.com"}],
            "phones": [{"original": "+14155550100", "type": "OTHER"}],
            "address": "1 Market St, Apt 4, 94105 San Francisco, CA, US",
            "customAttributes": {
                "tier": "GOLD",
                "orderCount": "2",
                "openCases": "0",
                "lifetimeValue": "236.50 USD",
            },
        }
    ]


@pytest.mark.parametrize("spelling", ["+1 415 555 0100", "(415) 555-0100", "+14155550100"])
def test_basic_by_phone_normalizes_it_as_the_loader_does(
    gladly: FlaskClient, adapter: Credentials, spelling: str
) -> None:
    # when
    found = results(ask(gladly, adapter, basic({"phone": spelling})))
    # then
    assert [profile["externalCustomerId"] for profile in found] == ["ANA"]


def test_a_suggestion_by_the_emails_and_phones_of_a_gladly_profile(
    gladly: FlaskClient, adapter: Credentials
) -> None:
    # given: Cara's profile in Gladly: her email and the family phone she shares with Ben
    query = {"emails": [{"original": "cara@example.com"}], "phones": ["+14155550199"]}
    # when
    found = results(ask(gladly, adapter, basic(query)))
    # then: the email names her alone, and decides before the shared phone
    assert [profile["externalCustomerId"] for profile in found] == ["CARA"]


def test_a_shared_family_phone_never_auto_links(gladly: FlaskClient, adapter: Credentials) -> None:
    # when: one match required, and the phone is Ben's and Cara's
    linked = results(ask(gladly, adapter, basic({"phone": "415-555-0199"}, unique=True)))
    # and: a search
    searched = results(ask(gladly, adapter, basic({"phone": "415-555-0199"}, unique=False)))
    # then
    assert linked == []
    assert sorted(profile["externalCustomerId"] for profile in searched) == ["BEN", "CARA"]


def test_a_search_by_name_and_never_an_auto_link_by_name(
    gladly: FlaskClient, adapter: Credentials
) -> None:
    # when
    searched = results(ask(gladly, adapter, basic({"name": "cara"}, unique=False)))
    linked = results(ask(gladly, adapter, basic({"name": "cara"}, unique=True)))
    # then
    assert [profile["externalCustomerId"] for profile in searched] == ["CARA"]
    assert linked == []


def test_another_brands_customer_is_never_found(
    gladly: FlaskClient, adapter: Credentials, other_adapter: Credentials
) -> None:
    # when: brand b's adapter asks for Otto (brand o) every way it can
    asked = [
        basic({"email": "otto@example.com"}),
        basic({"externalCustomerId": "OTTO"}, unique=False),
        basic({"name": "otto"}, unique=False),
        detailed({"externalCustomerId": "OTTO"}),
    ]
    answers = [results(ask(gladly, adapter, lookup)) for lookup in asked]
    # and: brand o's adapter asks for Ana's email, which Otto shares
    theirs = results(ask(gladly, other_adapter, basic({"email": "ana.lima@example.com"})))
    # then
    assert answers == [[], [], [], []]
    assert [profile["externalCustomerId"] for profile in theirs] == ["OTTO"]


def test_an_email_nobody_has_or_that_is_no_email_answers_no_result(
    gladly: FlaskClient, adapter: Credentials
) -> None:
    for query in ({"email": "nobody@example.com"}, {"email": "not an email"}, {}):
        assert results(ask(gladly, adapter, basic(query))) == []


# -- DETAILED ----------------------------------------------------------------------------------
def test_detailed_answers_the_orders_as_the_graph_has_them(
    gladly: FlaskClient, adapter: Credentials, graph: Database
) -> None:
    # when: Gladly asks for the linked profile
    query = {"externalCustomerId": "ANA", "emails": ["ana.lima@example.com"], "id": "g1"}
    [found] = results(ask(gladly, adapter, detailed(query)))
    # then: the profile, with its orders newest first
    stored = graph.read(
        "MATCH (:Customer {id: 'ANA'})-[:PLACED]->(o:Order) "
        "RETURN o.number AS number ORDER BY o.placedAt DESC"
    )
    assert found["externalCustomerId"] == "ANA"
    assert found["customAttributes"]["churnRisk"] in {"LOW", "MEDIUM", "HIGH"}
    assert found["customAttributes"]["tier"] == "GOLD"
    assert [t["orderNumber"] for t in found["transactions"]] == [r["number"] for r in stored]
    newest = found["transactions"][0]
    assert newest == {
        "type": "ORDER",
        "orderNumber": "B-1001",
        "orderStatus": "SHIPPED",
        "orderTotal": "224.00",
        "currencyCode": "USD",
        "createdAt": day(3),
        "products": [
            {"id": "P-TENT", "name": "Trail Tent", "sku": "P-TENT", "unitPrice": "199.00",
             "quantity": "1", "status": "SHIPPED"},
            {"id": "P-SOCK", "name": "Wool Socks", "sku": "P-SOCK", "unitPrice": "12.50",
             "quantity": "2", "status": "SHIPPED"},
        ],
        "fulfillments": [
            {"trackingNumber": "1Z999", "carrier": "UPS", "estimatedDeliveryDate": day(-1),
             "productIds": ["P-TENT", "P-SOCK"], "status": "IN_TRANSIT"},
        ],
    }  # fmt: skip
    assert found["transactions"][1]["fulfillments"] == []
    assert found["actions"] == []


def test_detailed_by_a_shared_phone_answers_no_result(
    gladly: FlaskClient, adapter: Credentials
) -> None:
    # when
    found = results(ask(gladly, adapter, detailed({"phones": ["+1 415 555 0199"]})))
    # then
    assert found == []


# -- refused -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "wrong",
    [
        {"secret": "not-the-signing-key"},
        {"minutes": -10},  # gladly-time 10 minutes before the request is sent
        {"minutes": 10},
        {"password": "gpw_" + "x" * 40},
        {"basic": False},
        {"signed": False},
        {"signed_body": orjson.dumps(basic({"email": "cara@example.com"}))},
    ],
    ids=["wrong-key", "stale", "future", "wrong-password", "no-basic", "unsigned", "tampered"],
)
def test_a_request_that_is_not_the_adapters_is_401_and_says_no_more(
    gladly: FlaskClient, adapter: Credentials, wrong: dict[str, Any]
) -> None:
    # when (a time off by minutes is taken when the request is sent, not when it was planned)
    if "minutes" in wrong:
        wrong = {"moment": gladly_time(datetime.now(UTC) + timedelta(minutes=wrong["minutes"]))}
    response = ask(gladly, adapter, basic({"email": "ana.lima@example.com"}), **wrong)
    # then
    assert response.status_code == 401
    body = response.json or {}
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "results" not in body
    assert body["errors"][0]["message"] == (
        "Not authenticated: check the adapter's user name, password and signing key"
        " (ctxapi gladly add printed them)."
    )
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_another_adapters_signing_key_does_not_do(
    gladly: FlaskClient, adapter: Credentials, other_adapter: Credentials
) -> None:
    response = ask(
        gladly, adapter, basic({"email": "ana.lima@example.com"}),
        secret=other_adapter.signing_secret,
    )  # fmt: skip
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "a JSON object"),
        (orjson.dumps({"lookupLevel": "FULL", "query": {}}), "lookupLevel must be one of"),
        (orjson.dumps({"lookupLevel": "BASIC", "query": "ana"}), "query must be"),
        (orjson.dumps(basic({"emails": "ana@example.com"})), "query.emails must be a list"),
        (orjson.dumps({**basic({}), "uniqueMatchRequired": "yes"}), "uniqueMatchRequired"),
    ],
)
def test_a_body_that_is_no_lookup_is_400_with_a_clear_error(
    gladly: FlaskClient, adapter: Credentials, body: bytes, says: str
) -> None:
    # when: well signed, but not a lookup
    response = ask(gladly, adapter, body)
    # then
    assert response.status_code == 400
    error = (response.json or {})["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert says in error["message"]


# -- audit and logs ----------------------------------------------------------------------------
def test_each_answer_with_personal_data_is_audited_without_the_values(
    gladly: FlaskClient,
    adapter: Credentials,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given
    before = len(tail(settings.audit_path(), 100_000))
    # when
    with caplog.at_level(logging.DEBUG, logger="ctxapi"):
        results(ask(gladly, adapter, detailed({"emails": ["ana.lima@example.com"]})))
        results(ask(gladly, adapter, basic({"phone": "415-555-0199"}, unique=True)))
    # then: one line, for the answer that had personal data, naming the adapter
    records = tail(settings.audit_path(), 100_000)[before:]
    assert len(records) == 1
    [record] = records
    assert record["event"] == "pii.read"
    assert record["adapter"] == adapter.username
    assert record["keyId"] == adapter.username
    assert record["operation"] == "gladly.DETAILED"
    assert record["customers"] == ["ANA"]
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("ctxapi"))
    text = orjson.dumps(record).decode() + logged
    for value in ("ana.lima", "+1415555", "Market St", 'Ana"', adapter.password):
        assert value not in text
    assert "gladly lookup" in logged


# -- the commands ------------------------------------------------------------------------------
def test_add_list_remove(
    graph: Database, settings: Settings, gladly: FlaskClient, tmp_path: Path
) -> None:
    environ = neo4j_env(settings) | {"CTXAPI_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    runner = CliRunner()
    # when
    added = runner.invoke(cli, ["gladly", "add", "--brand", "b", "--name", "cli-test"], env=environ)
    # then: the URL and the credentials, once
    assert added.exit_code == 0, added.output
    shown = dict(
        re.split(r"\s{2,}", line.strip(), maxsplit=1)
        for line in added.output.splitlines()
        if line.startswith("  ")
    )
    assert shown["Lookup URL"].endswith("/gladly/lookup")
    credentials = Credentials(shown["User name"], shown["Password"], shown["Signing key"])
    assert results(ask(gladly, credentials, basic({"email": "cara@example.com"})))
    stored = graph.read("MATCH (a:GladlyAdapter {id: $id}) RETURN a", {"id": credentials.username})
    assert credentials.password not in str(dict(stored[0]["a"]))
    # when
    listed = runner.invoke(cli, ["gladly", "list"], env=environ)
    assert listed.exit_code == 0
    assert credentials.username in listed.output
    assert credentials.password not in listed.output
    assert credentials.signing_secret not in listed.output
    removed = runner.invoke(cli, ["gladly", "remove", credentials.username], env=environ)
    # then: the credentials no longer work; removing again says there is no such adapter
    assert removed.exit_code == 0, removed.output
    assert ask(gladly, credentials, basic({"email": "cara@example.com"})).status_code == 401
    again = runner.invoke(cli, ["gladly", "remove", credentials.username], env=environ)
    assert again.exit_code == 1
    assert "no Gladly adapter" in again.output
    unknown = runner.invoke(cli, ["gladly", "add", "--brand", "nope"], env=environ)
    assert unknown.exit_code == 1
    assert "no brand 'nope'" in unknown.output
    audited = [record["event"] for record in tail(tmp_path / "audit.jsonl", 10)]
    assert audited == ["gladly.add", "gladly.remove"]


def test_one_address_guessing_credentials_is_slowed_down_before_they_cost_a_read(
    gladly: FlaskClient, adapter: Credentials
) -> None:
    # given a client that sends lookups without credentials as fast as it can (all refused)
    lookup = basic({"email": "ana.lima@example.com"})
    answers: list[int] = []
    while len(answers) < 3000 and 429 not in answers:
        answers.append(ask(gladly, adapter, lookup, basic=False).status_code)
    # then past about 600 a minute it is told to wait instead
    assert set(answers[:600]) == {401}
    assert answers[-1] == 429
    # and when it sends one more, with the right credentials this time
    response = ask(gladly, adapter, lookup)
    # then it is told to wait too
    assert response.status_code == 429
    assert (response.json or {})["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert int(response.headers["Retry-After"]) >= 1
