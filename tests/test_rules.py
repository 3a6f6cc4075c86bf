"""The insights rules (ctxapi.rules) as pure functions over facts built here: no Neo4j.

Value, effort, unanswered contacts, negative and positive experiences and sentiment. Churn
and the next best actions are in test_rules_actions.py; the time text, ``Facts.parse`` and
``judge`` in test_rules_parse.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from ctxapi.rules.experience import unanswered_contacts
from ctxapi.rules.mood import feedback_score, judge_sentiment
from ctxapi.rules.value import judge_value
from ctxapi.thresholds import Thresholds
from tests.rule_facts import (
    ONE_NEGATIVE,
    Fact,
    T,
    case,
    contact,
    effort_of,
    facts,
    feedback,
    moods,
    parcel,
    recovery_of,
    returned,
    totals,
)


def money(amount: str, currency: str = "EUR") -> dict[str, str]:
    """The API's Money."""
    return {"amount": amount, "currency": currency}


# -- value -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "tier", "t", "expected"),
    [
        pytest.param(
            [totals("EUR", 123_450, orders=3)], "standard", T,
            {"lifetimeValue": money("1234.50"), "grossSales": money("1234.50"),
             "refunded": money("0.00"), "orderCount": 3, "convertedFrom": [], "vip": False},
            id="single-currency",
        ),
        pytest.param(
            [totals("EUR", 250_000, orders=2), totals("GBP", 5_000)], "standard", T,
            {"lifetimeValue": None, "grossSales": None, "refunded": None, "convertedFrom": [],
             "byCurrency": [
                 {"currency": "EUR", "orders": 2, "lifetimeValue": money("2500.00"),
                  "grossSales": money("2500.00"), "refunded": money("0.00")},
                 {"currency": "GBP", "orders": 1, "lifetimeValue": money("50.00", "GBP"),
                  "grossSales": money("50.00", "GBP"), "refunded": money("0.00", "GBP")}],
             "vip": True,
             "vipReasons": ["lifetime value at least 2500.00 EUR without GBP (VIP from 2000.00)"]},
            id="two-currencies-without-rates-no-sum-but-vip-by-the-part-known",
        ),
        pytest.param(
            [totals("EUR", 100_000), totals("GBP", 90_000)], "standard",
            Thresholds(exchange_rates={"GBP": 1.17}),
            {"lifetimeValue": money("2053.00"), "convertedFrom": ["GBP"],
             "vipReasons": ["lifetime value 2053.00 EUR (VIP from 2000.00)"]},
            id="converted-with-a-rate-and-vip-by-the-sum",
        ),
        pytest.param(
            [totals("EUR", 220_000)], "standard",
            Thresholds(value_currency="GBP", exchange_rates={"EUR": 0.85}),
            {"lifetimeValue": money("1870.00", "GBP"), "convertedFrom": ["EUR"], "vip": False},
            id="vip-threshold-compared-in-value-currency",
        ),
        pytest.param(
            [totals("EUR", 50_000, refunded=5_000)], "standard", T,
            {"lifetimeValue": money("450.00"), "grossSales": money("500.00"),
             "refunded": money("50.00")},
            id="refunds-subtracted",
        ),
        pytest.param(
            [totals("JPY", 123_456)], "standard", Thresholds(exchange_rates={"JPY": 0.0062}),
            {"lifetimeValue": money("765.43"), "convertedFrom": ["JPY"],
             "byCurrency": [{"currency": "JPY", "orders": 1,
                             "lifetimeValue": money("123456", "JPY"),
                             "grossSales": money("123456", "JPY"),
                             "refunded": money("0", "JPY")}]},
            id="jpy-has-no-decimals",
        ),
        pytest.param(
            [totals("EUR", 1_234)], "standard",
            Thresholds(value_currency="JPY", exchange_rates={"EUR": 160.5}),
            {"lifetimeValue": money("1981", "JPY")},  # 1980.57 rounded half to even
            id="into-jpy",
        ),
        pytest.param(
            [totals("EUR", 10_000)], "vip", T, {"vip": True, "vipReasons": ["tier vip"]},
            id="vip-by-tier",
        ),
        pytest.param(
            [totals("EUR", 8_000, orders=5), totals("GBP", 3_000, orders=3)], "gold", T,
            {"ordersLastYear": 8, "vipReasons": ["8 orders in the last 12 months"]},
            id="vip-by-orders-per-year-in-any-currency",
        ),
        pytest.param(
            [totals("EUR", 200_000, orders=8)], "vip", T,
            {"vipReasons": ["tier vip", "lifetime value 2000.00 EUR (VIP from 2000.00)",
                            "8 orders in the last 12 months"]},
            id="every-vip-reason-in-order-threshold-inclusive",
        ),
        pytest.param(
            [], "standard", T,
            {"lifetimeValue": None, "orderCount": 0, "lastOrderAt": None,
             "daysSinceLastOrder": None, "vip": False},
            id="no-orders",
        ),
    ],
)  # fmt: skip
def test_value(items: list[Fact], tier: str, t: Thresholds, expected: dict[str, Any]) -> None:
    """Money stays per currency unless a rate converts it; VIP by tier, value or frequency."""
    answer = judge_value(facts(*items, tier=tier), t).answer()
    assert {key: answer[key] for key in expected} == expected


# -- effort ------------------------------------------------------------------------------------

HIGH_EFFORT = (  # 3.5 contacts per case (0.25) and 3 channel switches (0.25)
    case("K-1", status="resolved", channels="chat email chat"),
    case("K-2", status="resolved", channels="email email email phone"),
)


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        pytest.param([], {"score": 0.0, "level": "low", "cases": 0, "contactsPerCase": None},
                     id="nothing"),
        pytest.param([case(status="resolved", channels="email")],
                     {"score": 0.0, "contactsPerCase": 1.0}, id="one-contact-per-case-is-free"),
        pytest.param([case(status="resolved", channels="email email email email")],
                     {"score": 0.3, "level": "medium", "contactsPerCase": 4.0},
                     id="contacts-per-case"),
        pytest.param([case(status="resolved", channels="chat email phone")],
                     {"score": 0.37, "channelSwitches": 2}, id="channel-switches"),
        pytest.param([contact(10, topic="refund"), contact(5, topic="refund")],
                     {"score": 0.1, "repeatContacts": 1}, id="repeat-within-days"),
        pytest.param([contact(10, topic="refund"), contact(3, topic="refund")],
                     {"repeatContacts": 1}, id="repeat-at-exactly-repeat-contact-days"),
        pytest.param([contact(20, topic="refund"), contact(10, topic="refund")],
                     {"score": 0.0, "repeatContacts": 0}, id="no-repeat-outside-days"),
        pytest.param([contact(6, topic="refund", direction="outbound"), contact(5, topic="refund")],
                     {"repeatContacts": 0}, id="outbound-never-repeats"),
        pytest.param([contact(6, topic="a"), contact(5, topic="b"), contact(4), contact(3)],
                     {"repeatContacts": 0}, id="other-or-no-topic-never-repeats"),
        pytest.param(
            [case("K-1", status="resolved", channels="chat chat", self_service_first=True),
             case("K-2", status="resolved", channels="chat chat", self_service_first=True)],
            {"score": 0.25, "level": "medium", "selfServiceToAgent": 2},
            id="self-service-to-agent",
        ),
        pytest.param([contact(1, status="unanswered")],
                     {"score": 0.1, "level": "low", "unansweredQuestions": 1},
                     id="unanswered-flag"),
        pytest.param(HIGH_EFFORT, {"score": 0.5, "level": "high", "contactsPerCase": 3.5},
                     id="high-at-effort-high"),
        pytest.param([case(opened_days_ago=400, status="resolved", channels="email email")],
                     {"cases": 0}, id="resolved-case-before-window-left-out"),
        pytest.param([case(opened_days_ago=400, channels="email email")],
                     {"cases": 1, "contactsPerCase": 2.0}, id="open-case-of-any-age-counts"),
    ],
)  # fmt: skip
def test_effort(items: list[Fact], expected: dict[str, Any]) -> None:
    """Each part of the effort score, and what does not count."""
    answer = effort_of(facts(*items)).answer()
    assert {key: answer[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("effort_high", "level"),
    [(0.3, "high"), (0.6, "medium"), (0.61, "low")],
    ids=["at-high", "at-half-of-high", "below-half"],
)
def test_effort_level_boundaries(effort_high: float, level: str) -> None:
    """A score of 0.3 is high at effort_high, medium at half of it, low below half."""
    four_contacts = facts(case(status="resolved", channels="email email email email"))
    effort = effort_of(four_contacts, Thresholds(effort_high=effort_high))
    assert (effort.score, effort.level) == (0.3, level)


def test_first_response_time_ignores_self_service() -> None:
    """avgFirstResponseMinutes is over agent-handled inbound contacts only."""
    # given two emails answered in 30 and 90 minutes, and a bot that answered in 1
    f = facts(
        contact(3, responded_after_minutes=30),
        contact(2, responded_after_minutes=90),
        contact(1, channel="chat", self_service=True, responded_after_minutes=1),
    )
    # when
    answer = effort_of(f).answer()
    # then
    assert answer["avgFirstResponseMinutes"] == 60.0


# -- unanswered contacts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "unanswered"),
    [
        pytest.param([contact(1, id="I-1", channel="phone", status="unanswered")], ["I-1"],
                     id="marked-unanswered"),
        pytest.param([contact(1, id="I-1", status="open")], ["I-1"],
                     id="open-email-without-response"),
        pytest.param([contact(1, id="I-1", status="open"), contact(0.5, direction="outbound")], [],
                     id="a-later-outbound-answers-it"),
        pytest.param([contact(3, direction="outbound"), contact(1, id="I-1", status="open")],
                     ["I-1"], id="an-earlier-outbound-does-not"),
        pytest.param([contact(1, status="open", responded_after_minutes=20)], [],
                     id="with-a-response-time"),
        pytest.param([contact(1, status="resolved")], [], id="resolved"),
        pytest.param([contact(1, channel="messaging", status="open", self_service=True)], [],
                     id="self-service-is-no-question"),
        pytest.param([contact(1, channel="phone", status="open")], [],
                     id="a-call-is-the-conversation"),
        pytest.param([contact(15, status="unanswered")], [], id="older-than-question-days"),
        pytest.param([contact(1, direction="outbound", status="open")], [], id="outbound"),
        pytest.param([contact(5, id="I-1", status="open"), contact(2, id="I-2", status="open")],
                     ["I-2", "I-1"], id="newest-first"),
    ],
)  # fmt: skip
def test_unanswered_contacts(items: list[Fact], unanswered: list[str]) -> None:
    """Inbound questions of the last question_days nobody answered."""
    found = unanswered_contacts(facts(*items), T)
    assert [c.ref["id"] for c in found] == unanswered


# -- negative and positive experiences ---------------------------------------------------------

NEGATIVE_TEXT = {
    "UNRESOLVED_CASE": ("unresolved case K-1", "case K-1 open since 2026-11-20: broken zip", True),
    "LOW_CSAT": ("CSAT 1", 'CSAT 1: "slow"', False),
    "NPS_DETRACTOR": ("NPS 3", "NPS 3", False),
    "LOW_REVIEW": ("REVIEW 2", "REVIEW 2", False),
    "HIGH_EFFORT_SCORE": ("CES 2", "CES 2", False),
    "LATE_DELIVERY": ("late delivery of N-1", "order N-1 not delivered, promised for 2026-11-20",
                      True),
    "DAMAGED_DELIVERY": ("damaged delivery of N-1", "order N-1 arrived damaged on 2026-11-17",
                         False),
    "REFUSED_RETURN": ("refused return of N-2", "return of order N-2 refused: worn", False),
    "UNANSWERED_CONTACT": ("unanswered email of 2026-11-21",
                           "inbound email on 2026-11-21 not answered: Is it waterproof?", True),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(ONE_NEGATIVE))
def test_each_negative_experience(kind: str) -> None:
    """Each ExperienceKind, with its label, detail and whether it is ongoing."""
    recovery = recovery_of(facts(*ONE_NEGATIVE[kind]))
    [negative] = [n.answer() for n in recovery.open]
    label, detail, ongoing = NEGATIVE_TEXT[kind]
    assert (negative["kind"], negative["label"], negative["detail"], negative["ongoing"]) == (
        kind, label, detail, ongoing,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("items", "kinds"),
    [
        pytest.param([parcel(promised_days_ago=10, delivered_days_ago=8.5)], ["LATE_DELIVERY"],
                     id="delivered-late"),
        pytest.param([parcel(promised_days_ago=3, live=False)], [],
                     id="late-parcel-of-a-cancelled-order"),
        pytest.param([parcel(promised_days_ago=3, status="returned")], [],
                     id="parcel-returned-to-sender"),
        pytest.param([parcel(promised_days_ago=-2)], [], id="promised-for-later"),
        pytest.param([parcel(promised_days_ago=400)], [], id="promised-before-window"),
        pytest.param([feedback("review", 1, bought=False)], [],
                     id="review-of-a-product-never-bought"),
        pytest.param([feedback("csat", 3), feedback("nps", 7), feedback("ces", 4)], [],
                     id="neutral-feedback"),
        pytest.param([feedback("csat", 1, days_ago=400)], [], id="feedback-before-window"),
        pytest.param([case(opened_days_ago=600)], ["UNRESOLVED_CASE"], id="open-case-of-any-age"),
        pytest.param([returned(status="rejected", received_days_ago=None, reason=None)],
                     ["REFUSED_RETURN"], id="refused-return-dated-by-its-request"),
        pytest.param(
            [parcel(promised_days_ago=8, delivered_days_ago=6, condition="damaged",
                    status="returned")],
            ["DAMAGED_DELIVERY"], id="damaged-parcel-sent-back-stays-damaged",
        ),
    ],
)  # fmt: skip
def test_negative_experiences(items: list[Fact], kinds: list[str]) -> None:
    """What is, and what is not, a negative experience."""
    assert [n.kind for n in recovery_of(facts(*items)).negatives] == kinds


def test_late_delivery_detail_rounds_the_delay_up() -> None:
    """A parcel 1.5 days late reads "2 day(s) late", and is no longer ongoing."""
    [late] = recovery_of(facts(parcel(promised_days_ago=10, delivered_days_ago=8.5))).negatives
    assert (late.detail, late.ongoing) == ("order N-1 delivered 2 day(s) late", False)


@pytest.mark.parametrize(
    ("items", "count"),
    [
        pytest.param([parcel(promised_days_ago=5, delivered_days_ago=6)], 1, id="on-time-intact"),
        pytest.param([parcel(promised_days_ago=5, delivered_days_ago=6, condition="damaged")], 0,
                     id="on-time-damaged"),
        pytest.param([feedback("csat", 4), feedback("nps", 9), feedback("review", 4),
                      feedback("ces", 5)], 4, id="good-feedback-of-each-kind"),
        pytest.param([feedback("csat", 3), feedback("nps", 8)], 0, id="neutral-feedback"),
        pytest.param([contact(1, sentiment=0.3), contact(2, direction="outbound", sentiment=0.9)],
                     2, id="positive-contacts-either-way"),
        pytest.param([contact(1, sentiment=0.29)], 0, id="lukewarm-contact"),
        pytest.param([returned(status="refunded", refunded_days_ago=3)], 1, id="refund-paid"),
        pytest.param([feedback("review", 5, bought=False)], 0,
                     id="review-of-a-product-never-bought"),
    ],
)  # fmt: skip
def test_positive_experiences(items: list[Fact], count: int) -> None:
    """What counts as a positive experience."""
    assert len(recovery_of(facts(*items)).positives) == count


@pytest.mark.parametrize(("positives", "still_open"), [(12, False), (11, True)])
def test_recovery_ratio(positives: int, still_open: bool) -> None:
    """recovery_ratio (12) positives after a negative make it good; 11 do not."""
    # given a low CSAT 30 days ago and happy contacts after it
    happy = [contact(29 - i, sentiment=0.8) for i in range(positives)]
    # when
    answer = recovery_of(facts(feedback("csat", 1, days_ago=30), *happy)).answer()
    # then
    assert (len(answer["openNegatives"]) == 1) == still_open
    assert answer["balance"] == positives - 12
    assert answer["recovered"] == (not still_open)


def test_ongoing_negatives_come_first_then_newest() -> None:
    """openNegatives: ongoing first, then newest first."""
    # given a recent low CSAT, an older open case and a late parcel in between
    f = facts(
        feedback("csat", 1, days_ago=1), case(opened_days_ago=20), parcel(promised_days_ago=5)
    )
    # when
    kinds = [n.kind for n in recovery_of(f).open]
    # then
    assert kinds == ["LATE_DELIVERY", "UNRESOLVED_CASE", "LOW_CSAT"]


# -- sentiment ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "direction", "latest", "previous"),
    [
        pytest.param([], "UNKNOWN", None, None, id="no-points"),
        pytest.param(moods(0.9, -0.9), "UNKNOWN", -0.9, 0.9, id="fewer-than-min-points"),
        pytest.param(moods(0.4, 0.1), "UNKNOWN", 0.1, 0.4, id="two-mildly-positive-not-worsening"),
        pytest.param(moods(0.5, 0.5, 0.5, -0.2, -0.2, -0.2), "WORSENING", -0.2, 0.5,
                     id="worsening"),
        pytest.param(moods(-0.2, -0.2, -0.2, 0.5, 0.5, 0.5), "IMPROVING", 0.5, -0.2,
                     id="improving"),
        pytest.param(moods(0.2, 0.1, 0.2, 0.1), "STEADY", 0.15, 0.15, id="steady"),
        pytest.param(moods(-1, -1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5), "STEADY", 0.5, 0.5,
                     id="only-the-latest-points"),
        pytest.param([feedback("nps", 10, 3), feedback("csat", 1, 2), feedback("ces", 1, 1)],
                     "WORSENING", -1.0, 1.0, id="feedback-mapped"),
        pytest.param([feedback("review", 1, bought=False)], "UNKNOWN", None, None,
                     id="review-of-a-product-never-bought-ignored"),
    ],
)  # fmt: skip
def test_sentiment(
    items: list[Fact], direction: str, latest: float | None, previous: float | None
) -> None:
    """The newer half of the latest points against the older half."""
    answer = judge_sentiment(facts(*items), T).answer()
    assert (answer["direction"], answer["latest"], answer["previous"]) == (
        direction, latest, previous,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "score", "mapped"),
    [("nps", 10, 1.0), ("nps", 9, 0.5), ("nps", 8, 0.0), ("nps", 7, 0.0), ("nps", 6, -1 / 7),
     ("nps", 0, -1.0), ("ces", 7, 1.0), ("ces", 4, 0.0), ("ces", 1, -1.0), ("csat", 5, 1.0),
     ("csat", 3, 0.0), ("csat", 1, -1.0), ("review", 4, 0.5)],
)  # fmt: skip
def test_feedback_on_the_sentiment_scale(kind: str, score: int, mapped: float) -> None:
    """NPS, CES and CSAT (and reviews) mapped to -1..1."""
    assert feedback_score(feedback(kind, score)) == pytest.approx(mapped)
