"""Customer.insights end to end for the rules of issue #12: facts read in Cypher, judged in
Python. Small hand-built graphs on a fixed clock (2026-11-23T12:00:00Z), as in test_insights.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ctxapi import create_app
from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.rules.text import cypher_time
from ctxapi.thresholds import Thresholds
from tests import world
from tests.conftest import keyed
from tests.test_insights import NOW, World
from tests.world import day

QUERY = """
query Insights($id: ID!) {
  customer(id: $id) {
    insights {
      value { lifetimeValue { amount currency } convertedFrom vip vipReasons
              byCurrency { currency orders lifetimeValue { amount currency } } }
      effort { unansweredQuestions }
      recovery { negatives openNegatives { kind detail about { type id } } }
      sentiment { points { about { id } } }
      churnRisk { level factors { code } }
      nextBestActions { kind priority reason about { type id } }
    }
  }
}
"""


def scenarios() -> World:
    w = World()
    # A cancelled order whose leftover label says "late".
    w.customer("cancelled")
    w.order("cancelled", "CX1", 10, status="cancelled")
    w.add("shipments", id="CX1-S", order="CX1", carrier="DHL", status="label_created",
          promisedAt=day(5))  # fmt: skip
    # A case resolved 5 days ago, and the customer wrote again 2 days ago: nobody answered.
    w.customer("again")
    w.add("cases", id="AG-K", customer="again", subject="Broken lid", status="resolved",
          openedAt=day(12), resolvedAt=day(5))  # fmt: skip
    w.contact("again", "AG-1", 12, case="AG-K", status="resolved")
    w.contact("again", "AG-2", 2, case="AG-K", status="open", summary="still broken")
    # Orders in two currencies.
    w.customer("twomoney")
    w.order("twomoney", "TM1", 30, total="100.00")
    w.add("orders", id="TM2", customer="twomoney", number="N-TM2", placedAt=day(20),
          total="50.00", currency="GBP", status="delivered",
          items=[{"product": "Y", "quantity": 1, "unitPrice": "50.00"}])  # fmt: skip
    # A one-star review of a product the customer never bought.
    w.customer("stranger")
    w.add("feedback", id="ST-F", customer="stranger", kind="review", score=1,
          submittedAt=day(3), rates={"type": "product", "id": "X"})  # fmt: skip
    # Open cases: one nobody has updated for 6 days, one updated yesterday.
    for cid, updated in (("quiet", None), ("updated", 1)):
        w.customer(cid)
        w.add("cases", id=cid + "-K", customer=cid, subject="Wrong size", status="open",
              openedAt=day(6))  # fmt: skip
        w.contact(cid, cid + "-I", 6, case=cid + "-K", channel="phone", status="open")
        if updated is not None:
            w.contact(cid, cid + "-U", updated, case=cid + "-K", direction="outbound",
                      status="resolved")  # fmt: skip
    # A detractor answer three days ago that nobody followed up.
    w.customer("detractor")
    w.order("detractor", "DT1", 40)
    w.add("feedback", id="DT-F", customer="detractor", kind="nps", score=2,
          submittedAt=day(3), comment="never again")  # fmt: skip
    # A busy customer: 300 contacts in the window (contacts_cap bounds what the rules read).
    w.customer("busy")
    for n in range(300):
        w.contact("busy", f"BZ{n:03d}", 1 + n, channel="phone", status="resolved", sentiment=0.5)
    return w


@pytest.fixture(scope="module")
def loaded(db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Database:
    return world.load(scenarios(), db, settings, tmp_path_factory)


def client(settings: Settings, api_key: str, **thresholds: Any) -> FlaskClient:
    insights = Thresholds.from_mapping(thresholds)
    # (Neo4j may plan the insights query cold for over 10 s on a busy host: no timeout test)
    app: Flask = create_app(replace(settings, clock=NOW, insights=insights, query_timeout=120))
    return keyed(app.test_client(), api_key)


@pytest.fixture
def api(loaded: Database, settings: Settings, api_key: str) -> FlaskClient:
    return client(settings, api_key)


def insights(api: FlaskClient, cid: str) -> dict[str, Any]:
    body = api.post("/graphql", json={"query": QUERY, "variables": {"id": cid}}).json
    assert body is not None
    assert "errors" not in body, body
    return body["data"]["customer"]["insights"]  # type: ignore[no-any-return]


def kinds(found: dict[str, Any]) -> list[str]:
    return [a["kind"] for a in found["nextBestActions"]]


def test_a_cancelled_orders_leftover_label_is_no_late_parcel(api: FlaskClient) -> None:
    # when
    found = insights(api, "cancelled")
    # then
    assert found["recovery"]["negatives"] == 0
    assert kinds(found) == []
    assert found["churnRisk"]["level"] == "LOW"


def test_writing_again_after_a_closed_case_is_an_unanswered_negative(api: FlaskClient) -> None:
    # when
    found = insights(api, "again")
    # then
    assert found["effort"]["unansweredQuestions"] == 1
    [negative] = found["recovery"]["openNegatives"]
    assert negative["kind"] == "UNANSWERED_CONTACT"
    assert negative["about"] == {"type": "INTERACTION", "id": "AG-2"}
    assert "not answered: still broken" in negative["detail"]
    # an apology and an answer, and nobody asks an unhappy customer how the case went
    assert kinds(found) == ["APOLOGIZE", "ANSWER_OPEN_QUESTION"]


def test_money_in_two_currencies_is_never_summed_silently(
    loaded: Database, settings: Settings, api_key: str
) -> None:
    # when no rate is configured
    found = insights(client(settings, api_key), "twomoney")["value"]
    # then the total is unknown, and each currency is exact
    assert found["lifetimeValue"] is None
    assert found["byCurrency"] == [
        {"currency": "EUR", "orders": 1, "lifetimeValue": {"amount": "100.00", "currency": "EUR"}},
        {"currency": "GBP", "orders": 1, "lifetimeValue": {"amount": "50.00", "currency": "GBP"}},
    ]
    # when a rate is configured, GBP is converted and says so
    converted = insights(client(settings, api_key, exchange_rates={"GBP": 1.2}), "twomoney")
    assert converted["value"]["lifetimeValue"] == {"amount": "160.00", "currency": "EUR"}
    assert converted["value"]["convertedFrom"] == ["GBP"]
    # and the VIP bar is compared in the value currency
    vip = insights(client(settings, api_key, exchange_rates={"GBP": 1.2},
                          vip_lifetime_value=16000), "twomoney")["value"]  # fmt: skip
    assert vip["vipReasons"] == ["lifetime value 160.00 EUR (VIP from 160.00)"]


def test_a_review_of_a_product_never_bought_is_not_a_negative(api: FlaskClient) -> None:
    # when
    found = insights(api, "stranger")
    # then
    assert found["recovery"]["negatives"] == 0
    assert kinds(found) == []


def test_a_quiet_open_case_gets_a_follow_up_with_the_facts(api: FlaskClient) -> None:
    # when
    quiet, updated = insights(api, "quiet"), insights(api, "updated")
    # then
    follow_up = [a for a in quiet["nextBestActions"] if a["kind"] == "FOLLOW_UP_OPEN_CASE"]
    assert [a["reason"] for a in follow_up] == [
        "case quiet-K (Wrong size) open since 2026-11-17 (6 days); no update sent"
    ]
    assert "FOLLOW_UP_OPEN_CASE" not in kinds(updated)
    # an open case is an open negative for a standard customer too
    assert kinds(updated) == ["APOLOGIZE"]


def test_a_recent_detractor_gets_a_call_back(api: FlaskClient) -> None:
    # when
    found = insights(api, "detractor")
    # then
    assert kinds(found) == ["APOLOGIZE", "RECOVER_DETRACTOR"]
    call_back = found["nextBestActions"][1]
    assert call_back["reason"].startswith('NPS 2 on 2026-11-20: "never again", and nobody')
    assert call_back["about"] == [{"type": "FEEDBACK", "id": "DT-F"}]
    assert found["churnRisk"]["level"] != "LOW"


def test_the_facts_of_a_busy_customer_are_bounded_by_the_caps(
    loaded: Database, settings: Settings, api_key: str
) -> None:
    # when the cap is 20 contacts
    found = insights(client(settings, api_key, contacts_cap=20, sentiment_points=50), "busy")
    # then the rules saw the 20 latest contacts only
    ids = [p["about"]["id"] for p in found["sentiment"]["points"]]
    assert ids == [f"BZ{n:03d}" for n in range(20)]


def test_judged_times_read_exactly_like_cypher_times(db: Database) -> None:
    # given instants with and without seconds, fractions and offsets
    instants = [
        datetime(2026, 11, 23, 12, tzinfo=UTC),
        datetime(2026, 11, 23, 12, 0, 5, tzinfo=UTC),
        datetime(2026, 11, 23, 12, 0, 0, 120000, tzinfo=UTC),
        datetime(2026, 11, 23, 12, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 11, 23, 12, tzinfo=timezone(timedelta(hours=1))),
        datetime(2026, 11, 23, 12, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
    ]
    for instant in instants:
        # when
        [row] = db.read("RETURN toString(datetime($at)) AS text, datetime($at) AS at",
                        {"at": instant.isoformat()})  # fmt: skip
        # then
        assert cypher_time(row["at"].to_native()) == row["text"]


def test_judged_fields_keep_graphql_semantics(api: FlaskClient) -> None:
    # given aliases, a fragment, __typename and directives inside and on judged fields
    document = """
    query($id: ID!, $skip: Boolean!) {
      customer(id: $id) {
        insights {
          mood: churnRisk { __typename level why: reasons }
          churnRisk @skip(if: $skip) { score }
          ...Actions
          value @include(if: $skip) { vip }
        }
      }
    }
    fragment Actions on Insights {
      nextBestActions { what: kind ... on NextBestAction { about { __typename t: type } } }
      first: nextBestActions { priority }
    }
    """
    # when
    body = api.post(
        "/graphql", json={"query": document, "variables": {"id": "detractor", "skip": True}}
    ).json
    # then the answer has exactly the selected shape, keyed by the response keys
    assert body is not None
    assert "errors" not in body, body
    found = body["data"]["customer"]["insights"]
    assert list(found) == ["mood", "nextBestActions", "first", "value"]
    assert found["mood"]["__typename"] == "ChurnRisk"
    assert set(found["mood"]) == {"__typename", "level", "why"}
    assert found["nextBestActions"][1] == {
        "what": "RECOVER_DETRACTOR", "about": [{"__typename": "Reference", "t": "FEEDBACK"}],
    }  # fmt: skip
    assert [a["priority"] for a in found["first"]] == [85, 72]
    assert found["value"] == {"vip": False}


def test_a_page_of_a_hundred_customers_with_insights_is_too_complex(api: FlaskClient) -> None:
    # given the queue's largest page, each item with its customer's insights
    document = """
    query($first: Int!) {
      proactiveQueue(first: $first) {
        edges { node { customer { insights { nextBestActions { kind } } } } }
      }
    }
    """
    # when
    big = api.post("/graphql", json={"query": document, "variables": {"first": 100}})
    small = api.post("/graphql", json={"query": document, "variables": {"first": 20}})
    # then each customer's facts count as contacts_cap rows against max_rows
    assert big.status_code == 400
    assert big.json is not None
    assert big.json["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert small.json is not None
    assert "errors" not in small.json, small.json
