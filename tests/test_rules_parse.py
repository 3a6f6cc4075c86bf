"""What the rules read and write (ctxapi.rules): ``Facts.parse`` of the graph's map, the
time text, and ``judge``'s answer. No Neo4j: the map is written by hand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from graphql import GraphQLObjectType, get_named_type
from neo4j.time import DateTime

from ctxapi.graphql.fields import Judged, registry
from ctxapi.graphql.schema import schema
from ctxapi.rules.facts import Facts, Totals
from ctxapi.rules.judge import judge, judge_graph_facts
from ctxapi.rules.text import cypher_time
from tests.rule_facts import NOW, ONE_NEGATIVE, T, ago, cart, facts, moods, totals

# -- time text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "text"),
    [
        pytest.param(NOW, "2026-11-23T12:00:00Z", id="utc"),
        pytest.param(NOW.replace(second=5), "2026-11-23T12:00:05Z", id="seconds"),
        pytest.param(NOW.replace(microsecond=500_000), "2026-11-23T12:00:00.5Z", id="half"),
        pytest.param(NOW.replace(microsecond=123_000), "2026-11-23T12:00:00.123Z", id="millis"),
        pytest.param(NOW.replace(microsecond=123_456), "2026-11-23T12:00:00.123456Z", id="micros"),
        pytest.param(NOW.astimezone(timezone(timedelta(hours=1))), "2026-11-23T13:00:00+01:00",
                     id="plus-one"),
        pytest.param(NOW.astimezone(timezone(-timedelta(hours=3, minutes=30))),
                     "2026-11-23T08:30:00-03:30", id="minus-three-thirty"),
        pytest.param(NOW.astimezone(ZoneInfo("Europe/Berlin")),
                     "2026-11-23T13:00:00+01:00[Europe/Berlin]", id="named-zone"),
        pytest.param(None, None, id="none"),
    ],
)  # fmt: skip
def test_cypher_time(at: datetime | None, text: str | None) -> None:
    """Times read as Neo4j's toString(datetime) (per ctxapi.rules.text, checked on 5.26)."""
    assert cypher_time(at) == text


# -- Facts.parse and judge ---------------------------------------------------------------------


def graph_map() -> dict[str, Any]:
    """A facts map shaped like INSIGHTS_FACTS returns it (nulls where the graph has none)."""
    shipment = {"type": "shipment", "id": "S-1", "label": "S-1"}
    order = {"type": "order", "id": "O-1", "label": "N-1"}
    return {
        "now": DateTime.from_native(NOW),
        "tier": None,
        "totals": [
            {"currency": "EUR", "orders": 2, "gross": 30_000, "last": ago(10), "lastYear": 2},
            {"currency": None, "orders": 1, "gross": 500, "last": ago(5), "lastYear": 1},
        ],
        "refunds": [["EUR", 2_500], ["USD", 1_000], ["USD", None], [None, 700]],
        "contacts": [
            {"ref": {"type": "interaction", "id": "I-1", "label": "I-1"}, "channel": "email",
             "direction": "inbound", "at": DateTime.from_native(ago(1)), "respondedAt": None,
             "topic": "refund", "status": None, "selfService": None, "sentiment": -0.4,
             "summary": None, "case": "K-1"},
        ],
        "cases": [
            {"ref": {"type": "case", "id": "K-1", "label": "K-1"}, "id": "K-1", "subject": None,
             "status": "open", "openedAt": ago(3), "resolvedAt": None, "lastUpdate": None,
             "followUpDue": ago(1), "contactCount": 1,
             "contacts": [["email", False]],
             "rated": False},
        ],
        "parcels": [
            {"ref": shipment, "order": order, "number": "N-1", "orderStatus": "shipped",
             "live": True, "carrier": None, "status": "in_transit", "promisedAt": ago(2),
             "deliveredAt": None, "condition": None, "lastUpdate": None, "updateDue": ago(2),
             "total": 15_000, "currency": "EUR"},
        ],
        "returns": [
            {"ref": {"type": "return", "id": "R-1", "label": "too small"}, "order": order,
             "number": "N-1", "status": "received", "reason": "too small",
             "requestedAt": ago(9), "receivedAt": ago(7), "refundedAt": None, "total": 15_000,
             "currency": "EUR"},
        ],
        "feedback": [
            {"ref": {"type": "feedback", "id": "F-1", "label": "F-1"}, "kind": "review",
             "score": 1, "at": ago(4), "comment": None, "bought": False},
        ],
        "carts": [
            {"ref": {"type": "order", "id": "O-9", "label": "N-9"}, "number": "N-9",
             "at": ago(1), "items": 3, "boughtSince": True},
        ],
    }  # fmt: skip


def test_facts_parse_types_the_graph_map() -> None:
    """Driver times become datetimes, nulls get defaults, refunds join their currency."""
    # given / when
    f = Facts.parse(graph_map())
    # then
    assert isinstance(f.now, datetime)
    assert (f.now, f.tier) == (NOW, "standard")
    assert f.totals == (
        Totals("EUR", 2, 30_000, 2_500, ago(10), 2),
        Totals("USD", 0, 0, 1_000),  # refunds in a currency with no counted order
    )
    [c] = f.contacts
    assert (c.at, c.status, c.self_service, c.summary, c.case) == (
        ago(1), "resolved", False, "", "K-1",
    )  # fmt: skip
    [k] = f.cases
    assert (k.subject, k.open, k.contacts[0].self_service, k.follow_up_due) == (
        "", True, False, ago(1),
    )  # fmt: skip
    [s] = f.parcels
    assert (s.carrier, s.live, s.update_due, s.total) == ("", True, ago(2), 15_000)
    assert (f.returns[0].received_at, f.feedback[0].bought, f.carts[0].bought_since) == (
        ago(7), False, True,
    )  # fmt: skip


def test_judge_answers_every_insights_field() -> None:
    """judge keys its answer by the GraphQL fields of Insights."""
    # given the parsed graph map
    # when
    answer = judge_graph_facts(graph_map(), T)
    # then
    assert set(answer) == {
        "asOf", "value", "effort", "recovery", "sentiment", "churnRisk", "nextBestActions",
    }  # fmt: skip
    assert answer["asOf"] == "2026-11-23T12:00:00Z"
    assert [a["kind"] for a in answer["nextBestActions"]] == [
        "PROACTIVE_DELIVERY_UPDATE", "APOLOGIZE", "CONFIRM_REFUND_TIMING", "FOLLOW_UP_OPEN_CASE",
    ]  # fmt: skip
    assert judge(facts(), T)["value"]["lifetimeValue"] is None


def _missing(value: Any, type_: Any, path: str) -> list[str]:
    """Fields of the GraphQL object type ``type_`` that the rules' ``value`` has no key for."""
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType) or value is None:
        return []
    if isinstance(value, list):
        return [m for item in value[:3] for m in _missing(item, named, path + "[]")]
    found = [path + "." + name for name in named.fields if name not in value]
    for name, field in named.fields.items():
        if name in value:
            found += _missing(value[name], field.type, path + "." + name)
    return found


def test_every_field_of_every_judged_type_is_in_the_rules_answer() -> None:
    """A field the rules do not fill would be null, and fail a non-null field at run time."""
    # given facts that make every signal, kind of negative and most actions hold
    items = [item for group in ONE_NEGATIVE.values() for item in group]
    rich = facts(*items, *moods(0.5, 0.5, -0.5, -0.5), cart(), totals(last_days_ago=3),
                 tier="vip")  # fmt: skip
    answer = judge(rich, T)
    insights = schema.graphql_schema.get_type("Insights")
    assert isinstance(insights, GraphQLObjectType)
    judged = {
        name: spec for name, spec in registry(schema.graphql_schema).fields["Insights"].items()
        if isinstance(spec, Judged)
    }  # fmt: skip
    # when / then every judged part, and every field under it, is in the answer
    assert {spec.part for spec in judged.values()} == set(answer)
    missing = [
        m
        for name, spec in judged.items()
        for m in _missing(answer[spec.part], insights.fields[name].type, name)
    ]
    assert not missing
    # and the lists were not empty, so their items' fields were checked too
    assert answer["recovery"]["openNegatives"]
    assert answer["nextBestActions"]
    assert answer["sentiment"]["points"]
    assert answer["value"]["byCurrency"]
