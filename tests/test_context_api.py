"""The customer-context API over the demo stories and generated data: values, order, pages."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType

from ctxapi import create_app
from ctxapi.cli import DEMO_DIR
from ctxapi.config import PROJECT_ROOT, Settings
from ctxapi.db import Database
from ctxapi.graphql.schema import schema, sdl
from ctxapi.money import format_minor_units, to_minor_units
from ctxapi.seeding.generate import Generator
from tests.api import data, query
from tests.conftest import clear_graph, keyed
from tests.seeding import seed_load, write_lines

HEADLINE = (PROJECT_ROOT / "schema" / "queries" / "customer_context.graphql").read_text()


@pytest.fixture(scope="module")
def demo(db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Database:
    """The demo stories, plus a chat identity and a customer with 300 orders."""
    clear_graph(db)
    folder = tmp_path_factory.mktemp("extra")
    write_lines(
        folder,
        "identities.jsonl",
        '{"customer": "C-1013", "kind": "chat", "value": "livechat:V-77aB"}',
    )
    write_lines(
        folder, "customers.jsonl", '{"id": "BIG", "brand": "northwind", "name": "Bulk Buyer"}'
    )
    orders = [
        orjson.dumps(
            {
                "id": f"B-{n:03d}",
                "customer": "BIG",
                "number": f"BULK-{n:03d}",
                "placedAt": f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}T10:00:00Z",
                "status": "delivered" if n % 3 else "cancelled",
                "total": "10.00",
                "currency": "EUR",
            }
        ).decode()
        for n in range(300)
    ]
    write_lines(folder, "orders.jsonl", *orders)
    for source in (DEMO_DIR, folder):
        outcome = seed_load(settings, tmp_path_factory.mktemp("rejects"), source)
        assert outcome.exit_code == 0, outcome.output
    return db


@pytest.fixture
def api(demo: Database, settings: Settings, api_key: str) -> FlaskClient:
    app: Flask = create_app(replace(settings, debug=True))
    return keyed(app.test_client(), api_key)


def test_the_headline_query_tells_the_vip_story_in_one_round_trip(api: FlaskClient) -> None:
    # when
    body = query(api, HEADLINE, email="  Sofia.Marquez@EXAMPLE.com")
    # then
    assert "errors" not in body
    assert body["extensions"]["cypher"]["queries"] == 1
    sofia = body["data"]["customerBy"]
    assert (sofia["id"], sofia["name"], sofia["tier"]) == ("C-1001", "Sofia Marquez", "VIP")
    assert {(i["kind"], i["value"]) for i in sofia["identities"]} == {
        ("EMAIL", "sofia.marquez@example.com"),
        ("PHONE", "+34612345678"),
        ("EXTERNAL", "loyalty:NWV-000417"),
    }
    assert sofia["stats"] == {
        "lifetimeValue": {"amount": "2872.40", "currency": "EUR"},
        "orderCount": 12,
        "lastOrderAt": "2026-11-12T08:31:00Z",
        "lastContactAt": "2026-11-21T09:14:00Z",
        "openCases": 1,
    }
    latest = sofia["orders"]["edges"][0]["node"]
    assert (latest["number"], latest["total"]) == (
        "NW-105880",
        {"amount": "688.00", "currency": "EUR"},
    )
    assert [item["product"]["sku"] for item in latest["items"]] == ["NW-TNT-2P", "NW-JKT-DWN"]
    [parcel] = latest["shipments"]
    assert (parcel["status"], parcel["condition"], parcel["late"]) == (
        "DELIVERED",
        "DAMAGED",
        False,
    )
    assert len(sofia["orders"]["edges"]) == 5
    assert sofia["orders"]["pageInfo"]["hasNextPage"] is True
    contacts = [edge["node"] for edge in sofia["interactions"]["edges"][:3]]
    assert [(c["channel"], c["status"], c["case"]["id"]) for c in contacts] == [
        ("PHONE", "ESCALATED", "CS-1001"),
        ("CHAT", "OPEN", "CS-1001"),
        ("CHAT", "ESCALATED", "CS-1001"),
    ]
    assert contacts[2]["agent"]["name"].startswith("Nova")
    assert sofia["cases"] == [
        {
            "id": "CS-1001",
            "subject": "Damaged delivery: tent poles bent, parka torn (NW-105880)",
            "status": "OPEN",
            "priority": "HIGH",
            "channels": ["CHAT", "PHONE"],
        }
    ]
    kinds = [edge["node"]["kind"] for edge in sofia["feedback"]["edges"]]
    assert kinds == ["REVIEW", "NPS", "CSAT"]


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        ({"email": " SOFIA.MARQUEZ@example.com "}, "C-1001"),
        ({"phone": "+34 612 34 56 78"}, "C-1001"),
        ({"phone": "612 345 678", "region": "ES"}, "C-1001"),
        ({"handle": "Instagram:@Amelie.Trails"}, "C-1002"),
        ({"messaging": "WhatsApp:+39 347 123 4567"}, "C-1009"),
        ({"chat": "LiveChat:V-77aB"}, "C-1013"),
        ({"externalId": "Loyalty:NWV-000417"}, "C-1001"),
        ({"email": "nobody@example.com"}, None),
    ],
)
def test_any_identifier_in_any_spelling_finds_the_customer(
    api: FlaskClient, identity: dict[str, str], expected: str | None
) -> None:
    found = data(api, "query ($i: IdentityInput!) { customerBy(identity: $i) { id } }", i=identity)
    assert (found["customerBy"] or {}).get("id") == expected


def test_a_shared_landline_never_silently_picks_one_person(api: FlaskClient) -> None:
    # when
    body = query(api, '{ customerBy(identity: {phone: "+49 30 44012345"}) { id } }')
    household = data(
        api,
        '{ a: customer(id: "C-1007") { identities { kind sharedWith } }'
        '  b: customer(id: "C-1008") { identities { kind sharedWith } } }',
    )
    # then
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "identifies 2 customers" in error["message"]
    assert {"kind": "PHONE", "sharedWith": 1} in household["a"]["identities"]
    assert {"kind": "PHONE", "sharedWith": 1} in household["b"]["identities"]


def test_an_agent_can_start_from_an_order_number(api: FlaskClient) -> None:
    found = data(
        api,
        '{ order(number: "NW-105880") { id status customer { name tier }'
        ' shipments { condition } } nothing: order(number: "NW-0") { id } }',
    )
    assert found["order"] == {
        "id": "O-1112",
        "status": "DELIVERED",
        "customer": {"name": "Sofia Marquez", "tier": "VIP"},
        "shipments": [{"condition": "DAMAGED"}],
    }
    assert found["nothing"] is None


def test_search_ranks_customers_by_name_email_or_phone(api: FlaskClient) -> None:
    by_name = data(api, '{ searchCustomers(query: "sofia marq") { score customer { id } } }')
    by_email = data(api, '{ searchCustomers(query: "amelie.laurent") { customer { id } } }')
    by_odd_text = query(api, '{ searchCustomers(query: "(( ** \\"x") { customer { id } } }')
    assert by_name["searchCustomers"][0]["customer"]["id"] == "C-1001"
    assert by_name["searchCustomers"][0]["score"] > 0
    assert by_email["searchCustomers"][0]["customer"]["id"] == "C-1002"
    assert "errors" not in by_odd_text


@pytest.mark.parametrize(
    ("pasted", "found"),
    [
        ("sofia.marquez@example.com", "C-1001"),
        ("  Sofia.Marquez@EXAMPLE.com ", "C-1001"),
        ("+34 612 34 56 78", "C-1001"),
        ("+34-612-345-678", "C-1001"),
        ("NW-105880", "C-1001"),
    ],
)
def test_search_finds_a_pasted_email_phone_or_order_number_first(
    api: FlaskClient, pasted: str, found: str
) -> None:
    # when an agent pastes a whole identifier, in whatever spelling
    hits = data(
        api,
        "query ($q: String!) { searchCustomers(query: $q, first: null) { score customer { id } } }",
        q=pasted,
    )["searchCustomers"]
    # then its customer comes first, with the exact-match score
    assert hits[0] == {"score": 1000.0, "customer": {"id": found}}


PAGE = """
query ($after: String, $status: OrderStatus) {
  customer(id: "BIG") {
    orders(first: 7, after: $after, status: $status) {
      totalCount
      edges { cursor node { id placedAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


@pytest.mark.parametrize(("status", "count"), [(None, 300), ("CANCELLED", 100)])
def test_paging_forward_through_300_orders_skips_and_repeats_nothing(
    api: FlaskClient, status: str | None, count: int
) -> None:
    # when
    seen: list[tuple[str, str]] = []
    after = None
    while True:
        page = data(api, PAGE, after=after, status=status)["customer"]["orders"]
        assert page["totalCount"] == count
        seen += [(edge["node"]["placedAt"], edge["node"]["id"]) for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    # then: every order once, newest first, ties broken by id
    assert len(seen) == len(set(seen)) == count
    assert seen == sorted(seen, reverse=True)


DEEP = """
query Deep($id: ID!) {
  customer(id: $id) {
    brand { name }
    addresses { city country }
    orders(first: 50) { edges { node { items { product { name price { amount } } }
      shipments { late } returns { refund { amount } } customer { id } } } }
    interactions(first: 50) { edges { node { agent { name } identity { value sharedWith }
      case { contacts { id } } about { type id label } } } }
    cases { contacts { channel } }
    feedback(first: 50, kinds: [CSAT, NPS]) { edges { node { score rates { type id } } } }
    timeline(first: 50) { edges { node { kind at } } }
    stats { averageOrderValue { amount } firstOrderAt }
  }
}
"""


def test_a_deep_query_is_still_one_round_trip_and_two_fields_are_two(api: FlaskClient) -> None:
    deep = query(api, DEEP, id="C-1009")
    two = query(api, '{ a: customer(id: "C-1001") { id } b: customer(id: "C-1002") { id } }')
    assert "errors" not in deep
    assert deep["extensions"]["cypher"]["queries"] == 1
    assert two["extensions"]["cypher"]["queries"] == 2
    luca = deep["data"]["customer"]
    case_contacts = [len(case["contacts"]) for case in luca["cases"]]
    assert max(case_contacts) == 4
    channels = {c["channel"] for case in luca["cases"] for c in case["contacts"]}
    assert channels >= {"CHAT", "EMAIL", "PHONE", "MESSAGING"}
    times = [edge["node"]["at"] for edge in luca["timeline"]["edges"]]
    assert times == sorted(times, reverse=True)
    assert {edge["node"]["kind"] for edge in luca["timeline"]["edges"]} >= {
        "ORDER", "DELIVERY", "RETURN", "INTERACTION", "FEEDBACK"
    }  # fmt: skip


def test_aliases_fragments_and_filters_are_honoured(api: FlaskClient) -> None:
    found = data(
        api,
        """
        fragment Basic on Customer { id name }
        {
          customer(id: "C-1009") {
            ...Basic
            ... on Customer { tier }
            recent: interactions(first: 1) { edges { node { channel } } }
            phone: interactions(first: 10, channels: [PHONE]) { totalCount }
            since: interactions(first: 10, since: "2026-10-10T00:00:00Z") { totalCount }
            openOnly: cases(status: [OPEN]) { id }
            __typename
          }
        }
        """,
    )["customer"]
    assert (found["id"], found["name"], found["__typename"]) == ("C-1009", "Luca Rossi", "Customer")
    assert len(found["recent"]["edges"]) == 1
    assert found["phone"]["totalCount"] >= 1
    assert (
        found["since"]["totalCount"]
        < data(api, '{ customer(id: "C-1009") { interactions(first: 0) { totalCount } } }')[
            "customer"
        ]["interactions"]["totalCount"]
    )
    assert found["openOnly"] == []


@pytest.mark.parametrize(
    ("text", "fragment", "code"),
    [
        (
            '{ customer(id: "C-1001") { orders(first: 101) { totalCount } } }',
            "between 0 and 100",
            "BAD_USER_INPUT",
        ),
        (
            '{ customer(id: "C-1001") { orders(after: "bogus") { totalCount } } }',
            "not a cursor",
            "BAD_USER_INPUT",
        ),
        (
            '{ customer(id: "C-1001") { interactions(since: "2026-01-01T00:00") { totalCount } } }',
            "has no zone",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            '{ customer(id: "C-1001") { interactions(since: "2031-07-19T13:37:42+05:30:15")'
            " { totalCount } } }",
            "whole minutes within ±18:00",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            '{ customerBy(identity: {email: "a@b.co", phone: "+1 415 555 0100"}) { id } }',
            "exactly one",
            "BAD_USER_INPUT",
        ),
        (
            '{ customerBy(identity: {phone: "call me"}) { id } }',
            "is not a phone number",
            "BAD_USER_INPUT",
        ),
        ('{ searchCustomers(query: "  ") { score } }', "at least one word", "BAD_USER_INPUT"),
    ],
)
def test_bad_arguments_are_refused_with_a_code_and_a_reason(
    api: FlaskClient, text: str, fragment: str, code: str
) -> None:
    body = query(api, text)
    [error] = body["errors"]
    assert error["extensions"]["code"] == code
    assert fragment in error["message"]


@pytest.mark.parametrize("since", ["2031-07-19T13:37:42+05:30:15", "2031-07-19T13:37:42+19:00"])
def test_a_time_neo4j_cannot_hold_is_bad_user_input(api: FlaskClient, since: str) -> None:
    # when: an offset with seconds, or beyond what a time zone can be
    body = query(
        api,
        'query ($s: DateTime) { customer(id: "C-1001") { interactions(since: $s)'
        " { totalCount } } }",
        s=since,
    )
    # then the client is told, instead of Neo4j failing on it
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "whole minutes within ±18:00" in error["message"]


def test_every_type_field_and_argument_is_described() -> None:
    missing = []
    for name, kind in schema.graphql_schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not kind.description:
            missing.append(name)
        if isinstance(kind, GraphQLObjectType | GraphQLInputObjectType):
            for field_name, field in kind.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for argument_name, argument in getattr(field, "args", {}).items():
                    if not argument.description:
                        missing.append(f"{name}.{field_name}({argument_name})")
        if isinstance(kind, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in kind.values.items() if not value.description]
    assert missing == []


def test_the_committed_sdl_is_what_the_code_defines() -> None:
    committed = (PROJECT_ROOT / "schema" / "ctxapi.graphql").read_text()
    assert committed == sdl(), "run `make sdl` and commit schema/ctxapi.graphql"


def test_the_other_demo_stories_read_as_told(api: FlaskClient) -> None:
    # when
    found = data(
        api,
        """
        {
          pending: order(number: "NW-105833") { returns { id status reason requestedAt
            receivedAt refund { amount currency } refundedAt } }
          late: customer(id: "C-1004") { interactions(first: 20) { edges { node { about { id } } } }
            orders(first: 1) { edges { node { shipments { id status late deliveredAt } } } } }
          amelie: customer(id: "C-1002") {
            identities { kind value source confidence linkedAt sharedWith }
            addresses { id kind line1 line2 city postalCode region country }
            sms: interactions(first: 5, channels: [SMS]) { edges { node {
              id direction sentiment respondedAt selfService durationSeconds topic
              identity { kind value } agent { id bot } case { id }
              about { type id label } } } }
            feedback(first: 1, kinds: [CSAT]) { edges { node { id score comment
              rates { type id label } } } }
          }
          cart: customer(id: "C-1003") {
            orders(first: 1) { edges { node { status } } }
            interactions(first: 1) { edges { node { status topic about { type id } } } }
          }
        }
        """,
    )
    # then: a return received, its refund pending
    [pending_return] = found["pending"]["returns"]
    assert pending_return == {
        "id": "RT-1503",
        "status": "RECEIVED",
        "reason": "Too small: needs size 45 instead of 44",
        "requestedAt": "2026-11-03T19:30:00Z",
        "receivedAt": "2026-11-14T11:05:00Z",
        "refund": {"amount": "189.00", "currency": "EUR"},
        "refundedAt": None,
    }
    # a late parcel nobody has asked about
    [late] = found["late"]["orders"]["edges"][0]["node"]["shipments"]
    assert late == {"id": "SH-1404", "status": "DELAYED", "late": True, "deliveredAt": None}
    about = {r["id"] for e in found["late"]["interactions"]["edges"] for r in e["node"]["about"]}
    assert not about & {"SH-1404", "O-1404"}
    # one person behind three identities, with where each link came from
    amelie = found["amelie"]
    assert amelie["identities"][0] == {
        "kind": "EMAIL",
        "value": "amelie.laurent@example.com",
        "source": "account",
        "confidence": 1.0,
        "linkedAt": "2025-05-28T16:44:00Z",
        "sharedWith": 0,
    }
    assert [i["kind"] for i in amelie["identities"]] == ["EMAIL", "PHONE", "SOCIAL"]
    assert amelie["addresses"][1] == {
        "id": "ADR-1002-2",
        "kind": "SHIPPING",
        "line1": "27 quai Perrache",
        "line2": "Bureau 3B (accueil)",
        "city": "Lyon",
        "postalCode": "69002",
        "region": None,
        "country": "FR",
    }
    [sms] = [edge["node"] for edge in amelie["sms"]["edges"]]
    assert sms == {
        "id": "INT-1203",
        "direction": "INBOUND",
        "sentiment": 0.3,
        "respondedAt": "2026-11-07T08:38:00Z",
        "selfService": False,
        "durationSeconds": None,
        "topic": "delivery_change",
        "identity": {"kind": "PHONE", "value": "+33612345678"},
        "agent": {"id": "ag-marc", "bot": False},
        "case": {"id": "CS-1201"},
        "about": [
            {"type": "SHIPMENT", "id": "SH-1203", "label": sms["about"][0]["label"]},
            {"type": "ORDER", "id": "O-1203", "label": sms["about"][1]["label"]},
        ],
    }
    [csat] = [edge["node"] for edge in amelie["feedback"]["edges"]]
    assert (csat["id"], csat["score"], csat["rates"]["type"], csat["rates"]["id"]) == (
        "FB-1201", 5, "CASE", "CS-1201"
    )  # fmt: skip
    # an abandoned cart after an unanswered question
    cart = found["cart"]
    assert cart["orders"]["edges"][0]["node"]["status"] == "ABANDONED"
    question = cart["interactions"]["edges"][0]["node"]
    assert (question["status"], question["topic"]) == ("UNANSWERED", "pre_purchase_question")
    assert {ref["type"] for ref in question["about"]} == {"PRODUCT"}


def test_generated_customers_read_back_exactly(
    db: Database, settings: Settings, tmp_path: Path, api_key: str
) -> None:
    # given: generated data, and what its files say about the busiest customer
    Generator(300, seed=5).run(tmp_path / "data")
    assert seed_load(settings, tmp_path, tmp_path / "data").exit_code == 0

    def records(name: str) -> list[dict[str, Any]]:
        lines = (tmp_path / "data" / f"{name}.jsonl").read_bytes().splitlines()
        return [orjson.loads(line) for line in lines]

    orders = records("orders")
    busiest = max(
        {o["customer"] for o in orders}, key=lambda c: sum(o["customer"] == c for o in orders)
    )
    theirs = sorted(
        (o for o in orders if o["customer"] == busiest),
        key=lambda o: (o["placedAt"], o["id"]),
        reverse=True,
    )
    email = next(
        i["value"]
        for i in records("identities")
        if i["customer"] == busiest and i["kind"] == "email"
    )
    counted = [o for o in theirs if o["status"] not in ("abandoned", "cancelled")]
    refunded = sum(
        to_minor_units(r["refundAmount"], "EUR")
        for r in records("returns")
        if r["status"] == "refunded" and r["order"] in {o["id"] for o in theirs}
    )
    expected_value = sum(to_minor_units(o["total"], "EUR") for o in counted) - refunded
    # when
    api = keyed(create_app(settings).test_client(), api_key)
    found = data(
        api,
        "query ($e: String!) { customerBy(identity: {email: $e}) { id"
        " stats { orderCount lifetimeValue { amount } }"
        " orders(first: 100) { totalCount edges { node { id placedAt total { amount } } } } } }",
        e=email.upper(),
    )["customerBy"]
    # then
    assert found["id"] == busiest
    assert found["orders"]["totalCount"] == len(theirs)
    assert [edge["node"]["id"] for edge in found["orders"]["edges"]] == [o["id"] for o in theirs][
        :100
    ]
    assert [edge["node"]["total"]["amount"] for edge in found["orders"]["edges"]][:3] == [
        o["total"] for o in theirs
    ][:3]
    assert found["stats"]["orderCount"] == len(counted)
    assert found["stats"]["lifetimeValue"]["amount"] == format_minor_units(expected_value, "EUR")


DEMO_INSIGHTS = """
query Insights($id: ID!) {
  customer(id: $id) {
    insights {
      churnRisk { level reasons }
      nextBestActions { kind priority about { type id } }
      shared { sharedIdentities { value customers { id name } } problems { about { id } } }
    }
  }
}
"""


@pytest.fixture
def agent(demo: Database, settings: Settings, api_key: str) -> FlaskClient:
    """The API as an agent sees it on the demo's day."""
    # (Neo4j may plan the insights query cold for over 10 s on a busy host: no timeout test)
    app: Flask = create_app(
        replace(settings, debug=True, clock="2026-11-23T12:00:00+00:00", query_timeout=120)
    )
    return keyed(app.test_client(), api_key)


def demo_insights(agent: FlaskClient, cid: str) -> dict[str, Any]:
    return data(agent, DEMO_INSIGHTS, id=cid)["customer"]["insights"]  # type: ignore[no-any-return]


def test_the_demo_stories_get_the_actions_a_senior_agent_would_choose(
    agent: FlaskClient,
) -> None:
    # when
    sofia, hannah, pieter, daniel, oliver = (
        demo_insights(agent, cid) for cid in ("C-1001", "C-1004", "C-1005", "C-1003", "C-1011")
    )
    # then the VIP with the damaged parcel gets an apology and an incentive first
    first = sofia["nextBestActions"][0]
    assert (first["kind"], first["about"]) == (
        "APOLOGIZE_AND_COMPENSATE",
        [{"type": "CASE", "id": "CS-1001"}, {"type": "SHIPMENT", "id": "SH-1112"}],
    )
    assert sofia["churnRisk"]["level"] == "HIGH"
    # the late parcel gets a proactive update, then an apology for it and the earlier late one
    assert [(a["kind"], a["about"][0]["id"]) for a in hannah["nextBestActions"]] == [
        ("PROACTIVE_DELIVERY_UPDATE", "SH-1404"),
        ("APOLOGIZE", "SH-1404"),
    ]
    # the open case and the pending refund, the open question and cart, the silent resolved case
    assert [a["kind"] for a in pieter["nextBestActions"]] == ["APOLOGIZE", "CONFIRM_REFUND_TIMING"]
    assert [a["kind"] for a in daniel["nextBestActions"]] == [
        "APOLOGIZE",
        "ANSWER_OPEN_QUESTION",
        "RECOVER_ABANDONED_CART",
    ]
    # ... and Daniel asks about the tent another customer just had a problem with
    assert daniel["shared"]["problems"] == [{"about": {"id": "NW-TNT-2P"}}]
    assert [a["kind"] for a in oliver["nextBestActions"]] == ["REQUEST_FEEDBACK"]


def test_the_shared_landline_is_flagged_on_both_accounts(agent: FlaskClient) -> None:
    # when
    thomas, katrin = demo_insights(agent, "C-1007"), demo_insights(agent, "C-1008")
    # then
    assert thomas["shared"]["sharedIdentities"] == [
        {"value": "+493044012345", "customers": [{"id": "C-1008", "name": "Katrin Müller"}]}
    ]
    assert katrin["shared"]["sharedIdentities"][0]["customers"][0]["id"] == "C-1007"


def test_selecting_insights_adds_no_round_trip_to_the_headline_query(agent: FlaskClient) -> None:
    # given the headline query with insights selected as well
    with_insights = HEADLINE.replace(
        "stats {", "insights { nextBestActions { kind reason } churnRisk { score } } stats {", 1
    )
    assert with_insights != HEADLINE
    # when
    body = query(agent, with_insights, email="sofia.marquez@example.com")
    # then
    assert "errors" not in body, body["errors"]
    assert body["extensions"]["cypher"]["queries"] == 1
    assert body["data"]["customerBy"]["insights"]["nextBestActions"]
