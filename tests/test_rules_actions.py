"""The churn model and the next best actions (ctxapi.rules) over facts built here: no Neo4j."""

from __future__ import annotations

from typing import Any

import pytest

from ctxapi.rules.judge import judge
from ctxapi.thresholds import Priorities, Thresholds
from tests.rule_facts import (
    ONE_NEGATIVE,
    Fact,
    T,
    cart,
    case,
    churn_of,
    contact,
    facts,
    feedback,
    moods,
    parcel,
    returned,
    totals,
)


def actions(*items: Fact, tier: str = "standard", t: Thresholds = T) -> list[dict[str, Any]]:
    """The next best actions ``judge`` proposes for these facts."""
    answer: list[dict[str, Any]] = judge(facts(*items, tier=tier), t)["nextBestActions"]
    return answer


# -- churn -------------------------------------------------------------------------------------

ON_TIME_AFTER_A_DETRACTOR = [  # 12 positives: the NPS 6 of 20 days ago is made good
    parcel(f"N-{i}", promised_days_ago=18 - i, delivered_days_ago=19 - i) for i in range(12)
]
EFFORT_HALF = [  # 3.5 contacts per case (0.25) and 3 channel switches (0.25): effort 0.5
    case("K-1", status="resolved", channels="chat email chat"),
    case("K-2", status="resolved", channels="email email email phone"),
]
EFFORT_QUARTER = [  # 3.5 contacts per case, one channel: effort 0.25
    case("K-1", status="resolved", channels="email email email"),
    case("K-2", status="resolved", channels="email email email email"),
]


@pytest.mark.parametrize(
    ("items", "tier", "level", "codes", "score"),
    [
        pytest.param([], "standard", "low", [], 0.10, id="nothing"),
        # each strong signal alone reaches at least medium
        pytest.param([case(opened_days_ago=3)], "standard", "medium", ["OPEN_NEGATIVES"], 0.31,
                     id="one-open-negative"),
        pytest.param([parcel(promised_days_ago=3)], "standard", "medium", ["OPEN_NEGATIVES"],
                     0.31, id="one-late-parcel"),
        pytest.param([feedback("nps", 6, 20), *ON_TIME_AFTER_A_DETRACTOR], "standard", "medium",
                     ["DETRACTOR"], 0.35, id="detractor"),
        # a detractor answer is also an open negative, and still counts once
        pytest.param([feedback("nps", 6, 20)], "standard", "medium", ["DETRACTOR"], 0.35,
                     id="detractor-counted-once"),
        pytest.param(moods(0.2, 0.2, 0.2, -0.1, -0.1, -0.1), "standard", "medium", ["SENTIMENT"],
                     0.33, id="souring-sentiment"),
        pytest.param([totals(last_days_ago=200)], "vip", "medium", ["LAPSED"], 0.35,
                     id="lapsed-vip"),
        pytest.param(EFFORT_HALF, "standard", "medium", ["EFFORT"], 0.31, id="effort-half"),
        # noise alone stays low
        pytest.param([totals(last_days_ago=100)], "standard", "low", ["COOLING"], 0.15,
                     id="cooling"),
        pytest.param([totals(last_days_ago=200)], "standard", "low", ["LAPSED"], 0.21,
                     id="lapsed-not-vip"),
        pytest.param(EFFORT_QUARTER, "standard", "low", ["EFFORT"], 0.18, id="effort-quarter"),
        pytest.param(moods(0.25, 0.1), "standard", "low", [], 0.10,
                     id="two-mildly-positive-contacts"),
        pytest.param([feedback("review", 1, bought=False)], "standard", "low", [], 0.10,
                     id="review-of-a-product-never-bought"),
    ],
)  # fmt: skip
def test_churn_risk(
    items: list[Fact], tier: str, level: str, codes: list[str], score: float
) -> None:
    """The logistic model: one strong signal makes a risk, noise does not."""
    churn = churn_of(facts(*items, tier=tier))
    assert ([code for code, _, _ in churn.factors], churn.level, churn.score) == (
        codes, level, score,
    )  # fmt: skip


def test_a_lapsed_vip_weighs_more_and_says_why() -> None:
    """LAPSED for a VIP carries the VIP reasons and the heavier weight."""
    [(code, weight, detail)] = churn_of(facts(totals(last_days_ago=200), tier="vip")).factors
    assert (code, weight, detail) == (
        "LAPSED", T.weights.lapsed_vip, "a VIP (tier vip) with no order for 200 days",
    )  # fmt: skip


# -- apologies, for every tier ------------------------------------------------------------------

INCENTIVE = {"LATE_DELIVERY": "60.00", "DAMAGED_DELIVERY": "60.00", "REFUSED_RETURN": "90.00"}
ABOUT = {
    "UNRESOLVED_CASE": "K-1", "LOW_CSAT": "F-1", "NPS_DETRACTOR": "F-1", "LOW_REVIEW": "F-1",
    "HIGH_EFFORT_SCORE": "F-1", "LATE_DELIVERY": "S-N-1", "DAMAGED_DELIVERY": "S-N-1",
    "REFUSED_RETURN": "R-N-2", "UNANSWERED_CONTACT": "I-1",
}  # fmt: skip


@pytest.mark.parametrize("tier", ["standard", "silver", "gold", "vip"])
@pytest.mark.parametrize("kind", list(ONE_NEGATIVE))
def test_every_open_negative_gets_an_apology_in_every_tier(kind: str, tier: str) -> None:
    """A VIP is offered an incentive (15% of the order concerned, else 20.00); others an apology."""
    found = actions(*ONE_NEGATIVE[kind], tier=tier)
    [apology] = [a for a in found if a["kind"].startswith("APOLOGIZE")]
    assert [ref["id"] for ref in apology["about"]] == [ABOUT[kind]]
    shown = (apology["kind"], apology["priority"], apology["incentive"])
    if tier == "vip":
        amount = INCENTIVE.get(kind, "20.00")
        offer = {"amount": amount, "currency": "EUR"}
        assert shown == ("APOLOGIZE_AND_COMPENSATE", 100, offer)
        assert f"offer an incentive of {amount} EUR (" in apology["reason"]
    else:
        assert shown == ("APOLOGIZE", 85, None)
        assert apology["reason"].endswith("; apologize and say what happens next")


@pytest.mark.parametrize(
    ("items", "t", "amount", "basis"),
    [
        pytest.param([parcel(total=40_000)], T, "60.00", "15% of order N-1", id="share-of-order"),
        pytest.param([parcel(total=100_000)], T, "100.00",
                     "15% of order N-1, capped at 100.00", id="capped-at-incentive-max"),
        pytest.param([case()], T, "20.00", "the default incentive", id="default-without-order"),
        pytest.param([parcel("N-1", total=40_000), parcel("N-3", total=50_000)], T, "75.00",
                     "15% of order N-3", id="largest-order-concerned"),
        pytest.param([case(), parcel("N-5", promised_days_ago=9, delivered_days_ago=10,
                                     total=90_000)], T, "20.00", "the default incentive",
                     id="an-order-not-concerned-does-not-count"),
        pytest.param([parcel(total=20_000, currency="JPY")],
                     Thresholds(exchange_rates={"JPY": 0.0062}), "18.60", "15% of order N-1",
                     id="converted-to-value-currency"),
        pytest.param([parcel(total=40_000, currency="GBP")], T, "20.00", "the default incentive",
                     id="no-rate-default"),
        pytest.param([parcel(total=40_000)], Thresholds(incentive_percent=10, incentive_max=3_000),
                     "30.00", "10% of order N-1, capped at 30.00", id="configured"),
    ],
)  # fmt: skip
def test_vip_incentive(items: list[Fact], t: Thresholds, amount: str, basis: str) -> None:
    """incentive_percent of the largest concerned order, at most incentive_max."""
    [offer] = [a for a in actions(*items, tier="vip", t=t) if a["incentive"]]
    assert offer["incentive"] == {"amount": amount, "currency": "EUR"}
    assert offer["reason"].endswith(f"; apologize and offer an incentive of {amount} EUR ({basis})")


# -- one action at a time ----------------------------------------------------------------------

LATE = "parcel for order N-1 (DHL) promised for "
QUIET = "case K-1 (broken zip) "
HARD = "; give it to one senior agent who owns it to the end"
DETRACTOR = ", and nobody has called back since; call, listen, close the loop"
FIRST = Thresholds(priorities=Priorities(request_feedback=99))


@pytest.mark.parametrize(
    ("items", "kind", "expected", "t"),
    [
        # PROACTIVE_DELIVERY_UPDATE: a late parcel of a live order, unless told recently
        pytest.param([parcel(promised_days_ago=3)], "PROACTIVE_DELIVERY_UPDATE",
                     [(90, LATE + "2026-11-20 (3 days ago), not delivered; nobody has "
                       "told the customer")], T, id="late-parcel-never-told"),
        pytest.param([parcel(promised_days_ago=10, told_days_ago=5)], "PROACTIVE_DELIVERY_UPDATE",
                     [(55, LATE + "2026-11-13 (10 days ago), not delivered; last update "
                       "sent 2026-11-18 (5 days ago)")], T, id="late-parcel-told-long-ago"),
        pytest.param([parcel(promised_days_ago=10, told_days_ago=2)], "PROACTIVE_DELIVERY_UPDATE",
                     [(55, LATE + "2026-11-13 (10 days ago), not delivered; last update "
                       "sent 2026-11-21 (2 days ago)")], T, id="late-parcel-update-due-now"),
        pytest.param([parcel(promised_days_ago=10, told_days_ago=1)], "PROACTIVE_DELIVERY_UPDATE",
                     [], T, id="late-parcel-told-recently"),
        pytest.param([parcel(promised_days_ago=0.25)], "PROACTIVE_DELIVERY_UPDATE",
                     [(90, LATE + "2026-11-23 (0 days ago), not delivered; nobody has told the "
                       "customer")], T, id="late-parcel-since-this-morning"),
        pytest.param([parcel(promised_days_ago=3, live=False)], "PROACTIVE_DELIVERY_UPDATE", [],
                     T, id="late-parcel-of-cancelled-order"),
        pytest.param([parcel(promised_days_ago=3, delivered_days_ago=1)],
                     "PROACTIVE_DELIVERY_UPDATE", [], T, id="parcel-delivered-late"),
        pytest.param([parcel(promised_days_ago=3, status="returned")],
                     "PROACTIVE_DELIVERY_UPDATE", [], T, id="parcel-returned-to-sender"),
        pytest.param([parcel(promised_days_ago=-1)], "PROACTIVE_DELIVERY_UPDATE", [], T,
                     id="parcel-not-late-yet"),
        pytest.param([parcel(promised_days_ago=400)], "PROACTIVE_DELIVERY_UPDATE", [], T,
                     id="parcel-promised-before-window"),
        # FOLLOW_UP_OPEN_CASE: an open case with no update sent for case_follow_up_days
        pytest.param([case(opened_days_ago=10)], "FOLLOW_UP_OPEN_CASE",
                     [(65, QUIET + "open since 2026-11-13 (10 days); no update sent")], T,
                     id="quiet-case"),
        pytest.param([case(opened_days_ago=10, told_days_ago=5)], "FOLLOW_UP_OPEN_CASE",
                     [(65, QUIET + "open since 2026-11-13 (10 days); last update sent 2026-11-18 "
                       "(5 days ago)")], T, id="case-updated-long-ago"),
        pytest.param([case(opened_days_ago=4, status="pending")], "FOLLOW_UP_OPEN_CASE",
                     [(65, QUIET + "pending since 2026-11-19 (4 days); no update sent")], T,
                     id="pending-case"),
        pytest.param([case(opened_days_ago=10, told_days_ago=1)], "FOLLOW_UP_OPEN_CASE", [], T,
                     id="case-updated-recently"),
        pytest.param([case(opened_days_ago=1)], "FOLLOW_UP_OPEN_CASE", [], T,
                     id="case-just-opened"),
        pytest.param([case(opened_days_ago=10, status="resolved")], "FOLLOW_UP_OPEN_CASE", [], T,
                     id="case-resolved"),
        # ESCALATE_TO_LIVE_AGENT
        pytest.param([case(channels="email email email")], "ESCALATE_TO_LIVE_AGENT",
                     [(80, "open case K-1 took 3 contacts and 0 channel switch(es)" + HARD)], T,
                     id="escalate-on-contacts"),
        pytest.param([case(channels="chat email chat")], "ESCALATE_TO_LIVE_AGENT",
                     [(80, "open case K-1 took 3 contacts and 2 channel switch(es)" + HARD)],
                     Thresholds(escalate_contacts=9), id="escalate-on-switches"),
        pytest.param([case(status="resolved", channels="chat email chat phone")],
                     "ESCALATE_TO_LIVE_AGENT", [], T, id="hard-case-already-resolved"),
        pytest.param([contact(1, channel="chat", self_service=True, status="escalated"),
                      contact(2, channel="web", self_service=True, status="abandoned")],
                     "ESCALATE_TO_LIVE_AGENT",
                     [(80, "2 self-service contacts failed in 30 days" + HARD)], T,
                     id="escalate-on-self-service-failures"),
        pytest.param([contact(1, channel="chat", self_service=True, status="escalated"),
                      contact(31, channel="chat", self_service=True, status="abandoned")],
                     "ESCALATE_TO_LIVE_AGENT", [], T, id="one-self-service-failure-in-30-days"),
        # ANSWER_OPEN_QUESTION
        pytest.param([contact(5, status="open", summary="Does it fit?"),
                      contact(1, status="unanswered", summary="Hello?")], "ANSWER_OPEN_QUESTION",
                     [(75, "2 question(s) unanswered, the oldest from 2026-11-18: Does it fit?")],
                     T, id="answer-open-questions"),
        # RECOVER_DETRACTOR
        pytest.param([feedback("nps", 3, 5, comment="rude")], "RECOVER_DETRACTOR",
                     [(72, 'NPS 3 on 2026-11-18: "rude"' + DETRACTOR)], T, id="recent-detractor"),
        pytest.param([feedback("nps", 3, 5), contact(2, direction="outbound")],
                     "RECOVER_DETRACTOR", [], T, id="detractor-called-back"),
        pytest.param([feedback("nps", 3, 31)], "RECOVER_DETRACTOR", [], T,
                     id="detractor-older-than-detractor-days"),
        pytest.param([feedback("nps", 3, 10), feedback("nps", 10, 5)], "RECOVER_DETRACTOR", [], T,
                     id="promoter-since"),
        # CONFIRM_REFUND_TIMING
        pytest.param([returned(received_days_ago=7)], "CONFIRM_REFUND_TIMING",
                     [(70, "return of order N-2 received 2026-11-16, refund not paid (due "
                       "2026-11-21, 2 days overdue)")], T, id="refund-overdue"),
        pytest.param([returned(received_days_ago=2)], "CONFIRM_REFUND_TIMING",
                     [(45, "return of order N-2 received 2026-11-21, refund not paid (due "
                       "2026-11-26)")], T, id="refund-due"),
        pytest.param([returned(received_days_ago=None)], "CONFIRM_REFUND_TIMING",
                     [(45, "return of order N-2 received on a date not recorded, refund not "
                       "paid")], T, id="refund-receipt-not-recorded"),
        pytest.param([returned(status="refunded", refunded_days_ago=1)], "CONFIRM_REFUND_TIMING",
                     [], T, id="refund-paid"),
        # RECOVER_ABANDONED_CART
        pytest.param([cart("N-9", 2)], "RECOVER_ABANDONED_CART",
                     [(60, "cart N-9 abandoned on 2026-11-21 with 2 item(s), nothing ordered "
                       "since")], T, id="abandoned-cart"),
        pytest.param([cart("N-9", 2, bought=True)], "RECOVER_ABANDONED_CART", [], T,
                     id="cart-bought-since"),
        # REQUEST_FEEDBACK
        pytest.param([case(opened_days_ago=11, status="resolved")], "REQUEST_FEEDBACK",
                     [(30, "case K-1 (broken zip) resolved 2026-11-13 and nobody asked how it "
                       "went")], T, id="resolved-case-unrated"),
        pytest.param([case(opened_days_ago=11, status="closed")], "REQUEST_FEEDBACK",
                     [(30, "case K-1 (broken zip) resolved 2026-11-13 and nobody asked how it "
                       "went")], T, id="closed-case-unrated"),
        pytest.param([case(opened_days_ago=11, status="resolved", rated=True)],
                     "REQUEST_FEEDBACK", [], T, id="case-rated"),
        pytest.param([case(opened_days_ago=101, status="resolved")], "REQUEST_FEEDBACK", [], T,
                     id="resolved-before-feedback-request-days"),
        pytest.param([case(opened_days_ago=11)], "REQUEST_FEEDBACK", [], T, id="case-still-open"),
        pytest.param([case(opened_days_ago=11, status="resolved"), parcel(promised_days_ago=3)],
                     "REQUEST_FEEDBACK", [], T, id="never-while-a-negative-is-ongoing"),
        # priorities come from Thresholds.priorities
        pytest.param([case(opened_days_ago=11, status="resolved")], "REQUEST_FEEDBACK",
                     [(99, "case K-1 (broken zip) resolved 2026-11-13 and nobody asked how it "
                       "went")], FIRST, id="configured-priority"),
    ],
)  # fmt: skip
def test_an_action_holds_when_its_facts_do(
    items: list[Fact], kind: str, expected: list[tuple[int, str]], t: Thresholds
) -> None:
    """Each next best action: when it is proposed, its priority and its reason."""
    found = [(a["priority"], a["reason"]) for a in actions(*items, t=t) if a["kind"] == kind]
    assert found == expected


def test_a_customer_writing_again_after_a_case_closed_is_answered_not_surveyed() -> None:
    """A new inbound message on a closed case is an open question, not a feedback request."""
    # given case K-1 resolved ten days ago, and an email about it two days ago nobody answered
    closed = case("K-1", opened_days_ago=11, status="resolved")
    again = contact(2, id="I-1", status="open", case="K-1", summary="It broke again")
    # when
    answer = judge(facts(closed, again), T)
    # then
    [negative] = answer["recovery"]["openNegatives"]
    assert (negative["kind"], negative["about"]["id"]) == ("UNANSWERED_CONTACT", "I-1")
    kinds = [a["kind"] for a in answer["nextBestActions"]]
    assert kinds == ["APOLOGIZE", "ANSWER_OPEN_QUESTION"]


def test_a_customer_who_wrote_again_is_not_surveyed_even_once_answered() -> None:
    """REQUEST_FEEDBACK skips a case the customer wrote about after it was resolved."""
    # given the same case, the new email answered since
    closed = case("K-1", opened_days_ago=11, status="resolved")
    again = contact(2, status="open", case="K-1")
    reply = contact(1, direction="outbound", case="K-1")
    # when
    found = actions(closed, again, reply)
    # then
    assert found == []


def test_actions_are_ordered_by_priority_then_kind_then_record() -> None:
    """Highest priority first; equal priorities by kind, then by the first record's id."""
    # given a refund due at the detractor's priority, and two abandoned carts
    t = Thresholds(priorities=Priorities(refund_due=72))
    items: list[Fact] = [
        parcel(promised_days_ago=3), feedback("nps", 6, 5, id="F-1"), returned(received_days_ago=1),
        cart("N-9"), cart("N-8"), case("K-1", opened_days_ago=11, status="resolved"),
    ]  # fmt: skip
    # when
    found = [(a["kind"], a["priority"], a["about"][0]["id"]) for a in actions(*items, t=t)]
    # then
    assert found == [
        ("PROACTIVE_DELIVERY_UPDATE", 90, "S-N-1"),
        ("APOLOGIZE", 85, "S-N-1"),
        ("CONFIRM_REFUND_TIMING", 72, "R-N-2"),
        ("RECOVER_DETRACTOR", 72, "F-1"),
        ("RECOVER_ABANDONED_CART", 60, "O-N-8"),
        ("RECOVER_ABANDONED_CART", 60, "O-N-9"),
    ]  # the late parcel is ongoing: no feedback request for K-1
