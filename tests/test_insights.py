"""Customer.insights on small hand-built graphs, where every rule's answer is known by hand.

Each customer below is one scenario; the clock is fixed at 2026-11-23T12:00:00Z, so "5 days
ago" in a comment is 2026-11-18. One load and one query shape serve every test.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ctxapi import create_app
from ctxapi.config import ConfigError, Settings, from_env
from ctxapi.db import Database
from ctxapi.thresholds import InsightsConfigError, Thresholds
from tests import world
from tests.conftest import keyed
from tests.world import day

NOW = "2026-11-23T12:00:00+00:00"

INSIGHTS = """
query Insights($id: ID!) {
  customer(id: $id) {
    insights {
      asOf
      value { lifetimeValue { amount currency } grossSales { amount } refunded { amount }
              orderCount ordersLastYear daysSinceLastOrder tier vip vipReasons }
      effort { score level cases contactsPerCase channelSwitches repeatContacts
               selfServiceToAgent selfServiceFailures unansweredQuestions }
      recovery { positives negatives ratio balance recovered
                 openNegatives { kind ongoing label about { type id } } }
      sentiment { direction latest previous points { score about { type id } } }
      churnRisk { score level reasons factors { code weight detail } }
      nextBestActions { kind priority reason about { type id } incentive { amount currency } }
      shared {
        sharedIdentities { kind value otherCustomers customers { id } }
        problems { about { type id } otherCustomers detail }
      }
    }
  }
}
"""


class World(world.World):
    """The scenarios' records: brand b and two products."""

    def __init__(self) -> None:
        super().__init__()
        self.add("products", id="X", name="Trail Tent", price="100.00", currency="EUR")
        self.add("products", id="Y", name="Camp Mug", price="10.00", currency="EUR")

    def order(self, cid: str, oid: str, days: float, total: str = "100.00", **extra: Any) -> str:
        extra.setdefault("status", "delivered")
        extra.setdefault("items", [{"product": "Y", "quantity": 1, "unitPrice": total}])
        self.add(
            "orders", id=oid, customer=cid, number="N-" + oid, placedAt=day(days), total=total,
            currency="EUR", **extra,
        )  # fmt: skip
        return oid

    def feedback(self, cid: str, fid: str, kind: str, score: int, days: float) -> None:
        self.add("feedback", id=fid, customer=cid, kind=kind, score=score, submittedAt=day(days))


def scenarios() -> World:
    w = World()
    # A customer with nothing but a name.
    w.customer("bare")
    # Only refunds: one order, returned and refunded in full; delivered on time.
    w.customer("refunds")
    w.order("refunds", "RF1", 40, status="returned")
    w.add("shipments", id="RF1-S", order="RF1", carrier="DHL", status="delivered",
          promisedAt=day(37), deliveredAt=day(38), condition="ok")  # fmt: skip
    w.add("returns", id="RF1-R", order="RF1", reason="too big", status="refunded",
          requestedAt=day(30), receivedAt=day(25), refundAmount="100.00", currency="EUR",
          refundedAt=day(20))  # fmt: skip
    # Only neutral feedback, one answer of each kind.
    w.customer("neutral")
    for n, (kind, score) in enumerate([("csat", 3), ("nps", 7), ("review", 3), ("ces", 4)]):
        w.feedback("neutral", f"NF{n}", kind, score, 10 + n)
    # One open case spread over four channels in three days, nobody else involved.
    w.customer("fourch")
    w.add("cases", id="FC", customer="fourch", subject="Broken zip", status="open",
          openedAt=day(3))  # fmt: skip
    for n, channel in enumerate(["chat", "email", "phone", "messaging"]):
        w.contact("fourch", f"FC{n}", 3 - n * 0.5, channel=channel, topic="zip", case="FC",
                  status="open")  # fmt: skip
    # Two customers sharing a landline.
    for cid in ("home1", "home2"):
        w.customer(cid)
        w.add("identities", customer=cid, kind="phone", value="+49 30 1234567")
    # VIP by value (tier standard): 2,000.00 this year, one parcel late and not delivered.
    w.customer("viplate")
    w.order("viplate", "VL1", 100, total="1500.00")
    w.order("viplate", "VL2", 8, total="500.00", status="shipped")
    w.add("shipments", id="VL2-S", order="VL2", carrier="UPS", status="delayed",
          promisedAt=day(3))  # fmt: skip
    # A return received 13 days ago and not refunded.
    w.customer("refund")
    w.order("refund", "RP1", 30)
    w.add("returns", id="RP1-R", order="RP1", reason="wrong colour", status="received",
          requestedAt=day(20), receivedAt=day(13))  # fmt: skip
    # An abandoned cart; and a cart abandoned but then bought.
    w.customer("cart")
    w.order("cart", "AC1", 3, status="abandoned",
            items=[{"product": "X", "quantity": 1, "unitPrice": "100.00"}])  # fmt: skip
    w.customer("bought")
    w.order("bought", "AB1", 3, status="abandoned")
    w.order("bought", "AB2", 2)
    # A case resolved without feedback; one whose contact was rated.
    for cid, rated in (("silent", False), ("rated", True)):
        w.customer(cid)
        w.add("cases", id=cid + "-K", customer=cid, subject="Late refund", status="resolved",
              openedAt=day(15), resolvedAt=day(10))  # fmt: skip
        w.contact(cid, cid + "-I", 15, case=cid + "-K")
        if rated:
            w.add("feedback", id="RTD", customer=cid, kind="csat", score=3,
                  submittedAt=day(9), rates={"type": "interaction", "id": "rated-I"})  # fmt: skip
    # The 12:1 rule: one bad CSAT, then exactly 12 (or 11) good contacts after it.
    for cid, good in (("twelve", 12), ("eleven", 11)):
        w.customer(cid)
        w.feedback(cid, cid + "-F", "csat", 1, 100)
        for n in range(good):
            w.contact(cid, f"{cid}-{n}", 90 - n, sentiment=0.5)
    # A return received on a date nobody recorded; a damaged parcel; a refused return.
    w.customer("undated")
    w.order("undated", "UD1", 30)
    w.add("returns", id="UD1-R", order="UD1", reason="faulty", status="received",
          requestedAt=day(20))  # fmt: skip
    w.customer("hurt")
    w.order("hurt", "HU1", 20)
    w.add("shipments", id="HU1-S", order="HU1", carrier="DHL", status="delivered",
          promisedAt=day(17), deliveredAt=day(18), condition="damaged")  # fmt: skip
    w.order("hurt", "HU2", 60)
    w.add("returns", id="HU2-R", order="HU2", reason="worn", status="rejected",
          requestedAt=day(50), receivedAt=day(45))  # fmt: skip
    # A late parcel the customer was told about; a return received two days ago.
    w.customer("told")
    w.order("told", "TD1", 8, status="shipped")
    w.add("shipments", id="TD1-S", order="TD1", carrier="GLS", status="delayed",
          promisedAt=day(4))  # fmt: skip
    w.contact("told", "TD1-I", 2, direction="outbound", about=[{"type": "order", "id": "TD1"}])
    w.customer("notdue")
    w.order("notdue", "ND1", 20)
    w.add("returns", id="ND1-R", order="ND1", reason="too small", status="received",
          requestedAt=day(6), receivedAt=day(2))  # fmt: skip
    # Sentiment souring over the latest six contacts; the last order 100 days ago.
    w.customer("sour")
    w.order("sour", "SO1", 100)
    for n, mood in enumerate([0.5, 0.5, 0.5, -0.5, -0.5, -0.5]):
        w.contact("sour", f"SO{n}", 40 - n, sentiment=mood)
    # Lapsed: the only order was 200 days ago.
    w.customer("lapsed")
    w.order("lapsed", "LP1", 200)
    # Two failed bot chats this month, no case.
    w.customer("bots")
    for n in range(2):
        w.contact("bots", f"BT{n}", 5 + n, channel="chat", selfService=True, status="abandoned")
    # Sentiment rising over the latest six points, and an older detractor answer.
    w.customer("rising")
    for n, mood in enumerate([-0.5, -0.5, -0.5, 0.5, 0.5, 0.5]):
        w.contact("rising", f"RS{n}", 40 - n, sentiment=mood)
    w.feedback("rising", "RS-NPS", "nps", 4, 50)
    # Shared problems: 'buyer' bought tent X 10 days ago; two others complained about their
    # orders with X 5 days ago; a third complained 60 days ago (too old) and one was happy.
    w.customer("buyer")
    w.order("buyer", "BY1", 10, items=[{"product": "X", "quantity": 1, "unitPrice": "100.00"}])
    # An angry call about an invoice for an order with X is not a problem with X.
    for cid, days, sentiment, topic in (
        ("moan1", 5, -0.8, "damaged_item"), ("moan2", 4, -0.6, "defective"),
        ("old", 60, -0.9, "damaged_item"), ("happy", 5, 0.8, "sizing"),
        ("billing", 3, -0.9, "invoice"),
    ):  # fmt: skip
        w.customer(cid)
        w.order(cid, cid + "-O", days + 20,
                items=[{"product": "X", "quantity": 1, "unitPrice": "100.00"}])  # fmt: skip
        w.contact(cid, cid + "-I", days, sentiment=sentiment, topic=topic,
                  about=[{"type": "order", "id": cid + "-O"}])  # fmt: skip
    return w


@pytest.fixture(scope="module")
def loaded(db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Database:
    return world.load(scenarios(), db, settings, tmp_path_factory)


@pytest.fixture
def api(loaded: Database, settings: Settings, api_key: str) -> FlaskClient:
    # (Neo4j may plan the insights query cold for over 10 s on a busy host: no timeout test)
    app: Flask = create_app(replace(settings, clock=NOW, debug=True, query_timeout=120))
    return keyed(app.test_client(), api_key)


def insights(api: FlaskClient, cid: str) -> dict[str, Any]:
    body = api.post("/graphql", json={"query": INSIGHTS, "variables": {"id": cid}}).json
    assert body is not None
    assert "errors" not in body, body
    assert body["extensions"]["cypher"]["queries"] == 1
    return body["data"]["customer"]["insights"]  # type: ignore[no-any-return]


def kinds(found: dict[str, Any]) -> list[tuple[str, int]]:
    return [(a["kind"], a["priority"]) for a in found["nextBestActions"]]


def test_a_customer_with_nothing_gets_empty_signals_not_errors(api: FlaskClient) -> None:
    # when
    found = insights(api, "bare")
    # then
    assert found["asOf"] == "2026-11-23T12:00:00Z"
    assert found["value"] == {
        "lifetimeValue": None, "grossSales": None, "refunded": None, "orderCount": 0,
        "ordersLastYear": 0, "daysSinceLastOrder": None, "tier": "STANDARD", "vip": False,
        "vipReasons": [],
    }  # fmt: skip
    assert (found["effort"]["score"], found["effort"]["level"]) == (0, "LOW")
    assert found["effort"]["contactsPerCase"] is None
    assert found["recovery"] == {
        "positives": 0, "negatives": 0, "ratio": 12, "balance": 0, "recovered": True,
        "openNegatives": [],
    }  # fmt: skip
    assert found["sentiment"] == {
        "direction": "UNKNOWN",
        "latest": None,
        "previous": None,
        "points": [],
    }
    # the churn model's base rate: nothing known is a risk of 0.10
    assert found["churnRisk"] == {"score": 0.1, "level": "LOW", "reasons": [], "factors": []}
    assert found["nextBestActions"] == []
    assert found["shared"] == {"sharedIdentities": [], "problems": []}


def test_refunds_are_taken_off_lifetime_value(api: FlaskClient) -> None:
    # when
    found = insights(api, "refunds")
    # then
    value = found["value"]
    assert value["grossSales"] == {"amount": "100.00"}
    assert value["refunded"] == {"amount": "100.00"}
    assert value["lifetimeValue"] == {"amount": "0.00", "currency": "EUR"}
    assert (value["orderCount"], value["daysSinceLastOrder"]) == (1, 40)
    # an on-time delivery and a refund paid are the two positives
    assert (found["recovery"]["positives"], found["recovery"]["negatives"]) == (2, 0)


def test_neutral_feedback_is_neither_positive_nor_negative(api: FlaskClient) -> None:
    # when
    found = insights(api, "neutral")
    # then
    assert (found["recovery"]["positives"], found["recovery"]["negatives"]) == (0, 0)
    assert [p["score"] for p in found["sentiment"]["points"]] == [0, 0, 0, 0]
    assert found["sentiment"]["direction"] == "STEADY"
    assert (found["churnRisk"]["score"], found["churnRisk"]["factors"]) == (0.1, [])


def test_a_case_over_four_channels_is_high_effort_and_goes_to_a_live_agent(
    api: FlaskClient,
) -> None:
    # when
    found = insights(api, "fourch")
    # then
    effort = found["effort"]
    assert (effort["cases"], effort["contactsPerCase"], effort["channelSwitches"]) == (1, 4, 3)
    # contacts 2 to 4 each repeat the topic raised less than 7 days before
    assert effort["repeatContacts"] == 3
    # 0.3 (4 contacts) + 0.25 (3 switches) + 0.2 (repeats), nothing from self-service
    # the email and the message were never answered (the chat and the call were the answer)
    assert effort["unansweredQuestions"] == 2
    # 0.3 (4 contacts) + 0.25 (3 switches) + 0.2 (repeats) + 0.1 (unanswered)
    assert (effort["score"], effort["level"]) == (0.85, "HIGH")
    assert kinds(found) == [
        ("APOLOGIZE", 85), ("ESCALATE_TO_LIVE_AGENT", 80), ("ANSWER_OPEN_QUESTION", 75),
        ("FOLLOW_UP_OPEN_CASE", 65),
    ]  # fmt: skip
    escalate = found["nextBestActions"][1]
    assert "open case FC took 4 contacts and 3 channel switch(es)" in escalate["reason"]
    assert escalate["about"] == [{"type": "CASE", "id": "FC"}]
    assert [n["kind"] for n in found["recovery"]["openNegatives"]] == [
        "UNANSWERED_CONTACT", "UNANSWERED_CONTACT", "UNRESOLVED_CASE",
    ]  # fmt: skip
    codes = [f["code"] for f in found["churnRisk"]["factors"]]
    assert codes == ["EFFORT", "OPEN_NEGATIVES"]
    assert found["churnRisk"]["level"] == "HIGH"


def test_a_shared_phone_number_is_flagged_on_both_customers(api: FlaskClient) -> None:
    for cid, other in (("home1", "home2"), ("home2", "home1")):
        # when
        shared = insights(api, cid)["shared"]["sharedIdentities"]
        # then
        assert shared == [
            {
                "kind": "PHONE",
                "value": "+49301234567",
                "otherCustomers": 1,
                "customers": [{"id": other}],
            }
        ]


def test_a_vip_by_value_with_a_late_parcel_gets_an_apology_first_then_an_update(
    api: FlaskClient,
) -> None:
    # when
    found = insights(api, "viplate")
    # then
    assert found["value"]["vip"] is True
    assert found["value"]["vipReasons"] == ["lifetime value 2000.00 EUR (VIP from 2000.00)"]
    assert kinds(found) == [("APOLOGIZE_AND_COMPENSATE", 100), ("PROACTIVE_DELIVERY_UPDATE", 90)]
    apology, update = found["nextBestActions"]
    # 15 % of the 500.00 order the late parcel belongs to
    assert apology["incentive"] == {"amount": "75.00", "currency": "EUR"}
    assert "offer an incentive of 75.00 EUR (15% of order N-VL2)" in apology["reason"]
    assert "promised for 2026-11-20 (3 days ago), not delivered" in update["reason"]
    assert "nobody has told the customer" in update["reason"]
    assert update["about"] == [{"type": "SHIPMENT", "id": "VL2-S"}, {"type": "ORDER", "id": "VL2"}]
    [late] = found["recovery"]["openNegatives"]
    assert (late["kind"], late["ongoing"]) == ("LATE_DELIVERY", True)


def test_an_overdue_refund_gets_a_timing_confirmation(api: FlaskClient) -> None:
    # when
    found = insights(api, "refund")
    # then
    assert kinds(found) == [("CONFIRM_REFUND_TIMING", 70)]
    reason = found["nextBestActions"][0]["reason"]
    assert "refund not paid (due 2026-11-15, 8 days overdue)" in reason


def test_an_abandoned_cart_is_followed_up_unless_bought_since(api: FlaskClient) -> None:
    # when
    cart, bought = insights(api, "cart"), insights(api, "bought")
    # then
    assert kinds(cart) == [("RECOVER_ABANDONED_CART", 60)]
    assert cart["nextBestActions"][0]["about"] == [{"type": "ORDER", "id": "AC1"}]
    assert kinds(bought) == []


def test_a_resolved_case_without_feedback_gets_a_feedback_request(api: FlaskClient) -> None:
    # when
    silent, rated = insights(api, "silent"), insights(api, "rated")
    # then
    assert kinds(silent) == [("REQUEST_FEEDBACK", 30)]
    assert kinds(rated) == []


def test_one_negative_takes_twelve_positives_to_undo(api: FlaskClient) -> None:
    # when
    twelve, eleven = insights(api, "twelve"), insights(api, "eleven")
    # then
    assert twelve["recovery"] == {
        "positives": 12, "negatives": 1, "ratio": 12, "balance": 0, "recovered": True,
        "openNegatives": [],
    }  # fmt: skip
    assert eleven["recovery"]["balance"] == -1
    assert [n["label"] for n in eleven["recovery"]["openNegatives"]] == ["CSAT 1"]


def test_recency_and_detractors_raise_churn_risk(api: FlaskClient) -> None:
    # when
    lapsed, rising = insights(api, "lapsed"), insights(api, "rising")
    # then
    assert lapsed["churnRisk"]["factors"] == [
        {"code": "LAPSED", "weight": 0.9, "detail": "no order for 200 days"}
    ]
    # a lapsed customer who was never a VIP is weak evidence on its own
    assert (lapsed["churnRisk"]["score"], lapsed["churnRisk"]["level"]) == (0.21, "LOW")
    assert rising["sentiment"]["direction"] == "IMPROVING"
    assert (rising["sentiment"]["latest"], rising["sentiment"]["previous"]) == (0.5, -0.5)
    # the detractor answer counts once (not also as an open negative): -2.2 + 1.6
    codes = [f["code"] for f in rising["churnRisk"]["factors"]]
    assert codes == ["DETRACTOR"]
    assert (rising["churnRisk"]["score"], rising["churnRisk"]["level"]) == (0.35, "MEDIUM")


def test_repeated_self_service_failures_go_to_a_live_agent(api: FlaskClient) -> None:
    # when
    found = insights(api, "bots")
    # then
    assert found["effort"]["selfServiceFailures"] == 2
    assert kinds(found) == [("ESCALATE_TO_LIVE_AGENT", 80)]
    assert found["nextBestActions"][0]["about"] == [
        {"type": "INTERACTION", "id": "BT0"},
        {"type": "INTERACTION", "id": "BT1"},
    ]


def test_other_customers_recent_problems_with_the_same_product_are_counted(
    api: FlaskClient,
) -> None:
    # when
    problems = insights(api, "buyer")["shared"]["problems"]
    # then
    assert problems == [
        {
            "about": {"type": "PRODUCT", "id": "X"},
            "otherCustomers": 2,
            "detail": "2 other customer(s) reported a problem with Trail Tent since 2026-10-24",
        }
    ]


def test_thresholds_come_from_configuration(
    loaded: Database, settings: Settings, tmp_path: Path, api_key: str
) -> None:
    # given a 10:1 rule and a VIP bar of 5,000.00
    config = tmp_path / "insights.toml"
    config.write_text("recovery_ratio = 10\nvip_lifetime_value = 500000\n[weights]\nlapsed = 2.0\n")
    thresholds = from_env({"CTXAPI_INSIGHTS": str(config)}).insights
    app: Flask = create_app(
        replace(settings, clock=NOW, debug=True, insights=thresholds, query_timeout=120)
    )
    api = keyed(app.test_client(), api_key)
    # when
    eleven, viplate, lapsed = (insights(api, cid) for cid in ("eleven", "viplate", "lapsed"))
    # then
    assert eleven["recovery"]["recovered"] is True
    assert viplate["value"]["vip"] is False
    assert kinds(viplate)[0] == ("PROACTIVE_DELIVERY_UPDATE", 90)
    # -2.2 + 2.0 in log-odds
    assert (lapsed["churnRisk"]["score"], lapsed["churnRisk"]["level"]) == (0.45, "MEDIUM")


def test_a_bad_insights_file_is_a_clear_configuration_error(tmp_path: Path) -> None:
    # given
    config = tmp_path / "insights.toml"
    config.write_text("recovery_raito = 10\n")
    # when / then
    with pytest.raises(ConfigError, match="unknown setting 'recovery_raito'"):
        from_env({"CTXAPI_INSIGHTS": str(config)})
    config.write_text("recovery_ratio = 'ten'\n")
    with pytest.raises(ConfigError, match="recovery_ratio must be int"):
        from_env({"CTXAPI_INSIGHTS": str(config)})
    with pytest.raises(ConfigError, match="CTXAPI_NOW"):
        from_env({"CTXAPI_NOW": "2026-11-23T12:00:00"})
    assert Thresholds.from_mapping({}) == Thresholds()


def test_a_refund_without_a_receipt_date_still_gets_an_action(api: FlaskClient) -> None:
    # when
    found = insights(api, "undated")
    # then
    [action] = found["nextBestActions"]
    assert (action["kind"], action["priority"]) == ("CONFIRM_REFUND_TIMING", 45)
    assert "received on a date not recorded, refund not paid" in action["reason"]


def test_damaged_parcels_and_refused_returns_are_open_negatives(api: FlaskClient) -> None:
    # when
    found = insights(api, "hurt")
    # then
    assert [(n["kind"], n["about"]) for n in found["recovery"]["openNegatives"]] == [
        ("DAMAGED_DELIVERY", {"type": "SHIPMENT", "id": "HU1-S"}),
        ("REFUSED_RETURN", {"type": "RETURN", "id": "HU2-R"}),
    ]
    assert found["recovery"]["negatives"] == 2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[tier_head_start_hours]\nvip = '72'\n", "tier_head_start_hours takes hours"),
        ("[tier_head_start_hours]\nVIP = 72\n", "got VIP = 72"),
        ("sentiment_points = 0\n", "sentiment_points must not be below"),
        ("weights = 3\n", "weights must be a table"),
    ],
)
def test_out_of_range_thresholds_stop_startup(tmp_path: Path, line: str, message: str) -> None:
    # given
    config = tmp_path / "insights.toml"
    config.write_text(line)
    # when / then
    with pytest.raises(ConfigError, match=message):
        from_env({"CTXAPI_INSIGHTS": str(config)})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"recovery_ratio": True}, "insights: recovery_ratio must be int, got True"),
        ({"effort_high": True}, "insights: effort_high must be float, got True"),
        ({"effort_high": "0.5"}, "insights: effort_high must be float, got '0.5'"),
        ({"recovery_ratio": -1}, "insights: recovery_ratio must not be below zero, got -1"),
        ({"sentiment_points": 0}, "insights: sentiment_points must not be below 1, got 0"),
        ({"weights": {"lapsd": 0.5}}, "insights [weights]: unknown setting 'lapsd'"),
        ({"weights": {"lapsed": "high"}}, "insights [weights]: lapsed must be float, got 'high'"),
        ({"vip_tiers": ["platinum"]}, "insights: vip_tiers must be a list of tiers"),
        ({"vip_tiers": "vip"}, "insights: vip_tiers must be a list of tiers"),
        ({"tier_head_start_hours": 5}, "insights: tier_head_start_hours must be a table, got 5"),
        ({"tier_head_start_hours": {"gold": -1}}, "got gold = -1"),
    ],
)
def test_a_mistyped_threshold_setting_names_the_key(data: dict[str, Any], message: str) -> None:
    # when / then
    with pytest.raises(InsightsConfigError, match=re.escape(message)):
        Thresholds.from_mapping(data)


def test_every_bad_threshold_setting_is_reported_at_once() -> None:
    # given
    data = {"foo": 1, "recovery_ratio": "x", "weights": {"bar": 2}}
    # when
    with pytest.raises(InsightsConfigError) as error:
        Thresholds.from_mapping(data, where="f.toml")
    # then
    assert str(error.value).split("; ") == [
        "f.toml: recovery_ratio must be int, got 'x'",
        "f.toml [weights]: unknown setting 'bar'",
        "f.toml: unknown setting 'foo'",
    ]


def test_threshold_settings_take_an_int_for_a_float_and_replace_only_what_they_name() -> None:
    # when
    found = Thresholds.from_mapping(
        {
            "effort_high": 1,
            "vip_tiers": ["gold", "vip"],
            "tier_head_start_hours": {"vip": 10},
            "weights": {"lapsed": 1},
        }
    )
    # then
    assert (found.effort_high, type(found.effort_high)) == (1.0, float)
    assert found.vip_tiers == ("gold", "vip")
    assert found.weights.lapsed == 1.0
    assert found.weights.cooling == Thresholds().weights.cooling
    assert found.recovery_ratio == Thresholds().recovery_ratio
    assert found.parameter["queue_tiers"] == [
        {"tier": "standard", "head_hours": 0},
        {"tier": "silver", "head_hours": 0},
        {"tier": "gold", "head_hours": 0},
        {"tier": "vip", "head_hours": 10},
    ]


def test_an_update_already_sent_or_a_refund_not_yet_due_ranks_lower(api: FlaskClient) -> None:
    # when
    told, notdue = insights(api, "told"), insights(api, "notdue")
    # then
    # the late parcel is still an open negative: apologize, then update again
    assert kinds(told) == [("APOLOGIZE", 85), ("PROACTIVE_DELIVERY_UPDATE", 55)]
    assert "last update sent 2026-11-21 (2 days ago)" in told["nextBestActions"][1]["reason"]
    assert kinds(notdue) == [("CONFIRM_REFUND_TIMING", 45)]
    assert "refund not paid (due 2026-11-26)" in notdue["nextBestActions"][0]["reason"]


def test_souring_sentiment_and_a_cooling_customer_raise_churn_risk(api: FlaskClient) -> None:
    # when
    found = insights(api, "sour")
    # then
    assert found["sentiment"]["direction"] == "WORSENING"
    assert [(f["code"], f["weight"]) for f in found["churnRisk"]["factors"]] == [
        ("SENTIMENT", 1.5),
        ("COOLING", 0.5),
    ]
    assert found["churnRisk"]["reasons"] == [
        "sentiment worsening, latest average -0.5",
        "no order for 100 days",
    ]
