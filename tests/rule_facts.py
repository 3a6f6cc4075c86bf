"""Builders of the facts the insights rules judge (ctxapi.rules), relative to a fixed NOW.

No database: each builder returns a ``ctxapi.rules.facts`` dataclass with the fields the
Cypher of ``INSIGHTS_FACTS`` would fill in, due times included (as ``ctxapi.graphql.due``
computes them), and ``facts(...)`` puts them into one ``Facts`` in the order the Cypher
returns them (newest first, open cases first).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import TypeVar

from ctxapi.rules.effort import Effort, judge_effort
from ctxapi.rules.experience import Recovery, judge_recovery
from ctxapi.rules.facts import (
    Cart,
    Case,
    CaseContact,
    Contact,
    Facts,
    Feedback,
    Parcel,
    Return,
    Totals,
)
from ctxapi.rules.mood import Churn, judge_churn, judge_sentiment
from ctxapi.rules.value import judge_value
from ctxapi.thresholds import Thresholds

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
T = Thresholds()
_ids = count(1)
X = TypeVar("X")

Fact = Contact | Case | Parcel | Return | Feedback | Cart | Totals


def ago(days: float = 0, hours: float = 0) -> datetime:
    """A time ``days`` (and ``hours``) before NOW; negative for the future."""
    return NOW - timedelta(days=days, hours=hours)


def _when(days: float | None) -> datetime | None:
    return None if days is None else ago(days)


def _ref(kind: str, id_: str | None, label: str | None = None) -> dict[str, str]:
    id_ = id_ or kind[0].upper() + "-" + str(next(_ids))
    return {"type": kind, "id": id_, "label": label or id_}


def contact(
    days_ago: float = 1,
    *,
    id: str | None = None,
    channel: str = "email",
    direction: str = "inbound",
    status: str = "resolved",
    responded_after_minutes: float | None = None,
    topic: str | None = None,
    self_service: bool = False,
    sentiment: float | None = None,
    summary: str = "",
    case: str | None = None,
) -> Contact:
    """A contact (an inbound, resolved email unless told otherwise)."""
    at = ago(days_ago)
    answered = None
    if responded_after_minutes is not None:
        answered = at + timedelta(minutes=responded_after_minutes)
    return Contact(
        ref=_ref("interaction", id),
        channel=channel,
        direction=direction,
        at=at,
        responded_at=answered,
        topic=topic,
        status=status,
        self_service=self_service,
        sentiment=sentiment,
        summary=summary,
        case=case,
    )


def case(
    id: str = "K-1",
    *,
    opened_days_ago: float = 3,
    status: str = "open",
    resolved_days_ago: float | None = None,
    subject: str = "broken zip",
    channels: str = "",
    self_service_first: bool = False,
    told_days_ago: float | None = None,
    rated: bool = False,
) -> Case:
    """A case; ``channels`` are its contacts' channels, in order ("chat email")."""
    opened = ago(opened_days_ago)
    told = _when(told_days_ago)
    contacts = tuple(
        CaseContact(channel=channel, self_service=self_service_first and i == 0)
        for i, channel in enumerate(channels.split())
    )
    if resolved_days_ago is None and status in ("resolved", "closed"):
        resolved_days_ago = opened_days_ago - 1
    due = max(told or opened, opened) + timedelta(days=T.case_follow_up_days)
    return Case(
        ref=_ref("case", id, subject),
        id=id,
        subject=subject,
        status=status,
        opened_at=opened,
        resolved_at=_when(resolved_days_ago),
        last_update=told,
        follow_up_due=due,
        contact_count=len(contacts),
        contacts=contacts,
        rated=rated,
    )


def parcel(
    number: str = "N-1",
    *,
    id: str | None = None,
    promised_days_ago: float = 3,
    delivered_days_ago: float | None = None,
    told_days_ago: float | None = None,
    condition: str | None = None,
    live: bool = True,
    status: str | None = None,
    total: int | None = None,
    currency: str = "EUR",
    carrier: str = "DHL",
) -> Parcel:
    """A parcel of order ``number``; not delivered, its update is due as ctxapi.graphql.due
    says: at the promise, or delivery_update_days after the last update sent."""
    delivered = _when(delivered_days_ago)
    told = None if delivered else _when(told_days_ago)
    promised = ago(promised_days_ago)
    due = None
    if delivered is None:
        due = promised if told is None else told + timedelta(days=T.delivery_update_days)
    return Parcel(
        ref=_ref("shipment", id or "S-" + number),
        order={"type": "order", "id": "O-" + number, "label": number},
        number=number,
        order_status="shipped" if live else "cancelled",
        carrier=carrier,
        status=status or ("delivered" if delivered else "in_transit"),
        promised_at=promised,
        delivered_at=delivered,
        condition=condition,
        last_update=told,
        update_due=due,
        live=live,
        total=total,
        currency=currency,
    )


def returned(
    number: str = "N-2",
    *,
    status: str = "received",
    received_days_ago: float | None = 2,
    refunded_days_ago: float | None = None,
    reason: str | None = "too small",
    total: int | None = None,
    currency: str = "EUR",
) -> Return:
    """A return of order ``number`` (received two days ago unless told otherwise)."""
    return Return(
        ref=_ref("return", "R-" + number),
        order={"type": "order", "id": "O-" + number, "label": number},
        number=number,
        status=status,
        reason=reason,
        requested_at=ago(20),
        received_at=_when(received_days_ago),
        refunded_at=_when(refunded_days_ago),
        total=total,
        currency=currency,
    )


def feedback(
    kind: str,
    score: int,
    days_ago: float = 5,
    *,
    id: str | None = None,
    comment: str | None = None,
    bought: bool = True,
) -> Feedback:
    """A survey answer or review."""
    return Feedback(_ref("feedback", id), kind, score, ago(days_ago), comment, bought)


def cart(number: str = "N-9", days_ago: float = 2, *, items: int = 2, bought: bool = False) -> Cart:
    """An abandoned cart."""
    order = {"type": "order", "id": "O-" + number, "label": number}
    return Cart(order, number, ago(days_ago), items, bought)


def totals(
    currency: str = "EUR",
    gross: int = 10_000,
    *,
    orders: int = 1,
    refunded: int = 0,
    last_days_ago: float = 10,
    last_year: int | None = None,
) -> Totals:
    """Counted orders in one currency (all in the last year unless told otherwise)."""
    if last_year is None:
        last_year = orders if last_days_ago < 365 else 0
    return Totals(currency, orders, gross, refunded, ago(last_days_ago), last_year)


def moods(*scores: float) -> list[Fact]:
    """Resolved inbound contacts with these sentiments, oldest first, one a day to yesterday."""
    return [contact(len(scores) - i, sentiment=s) for i, s in enumerate(scores)]


def facts(*items: Fact, tier: str = "standard") -> Facts:
    """The facts of one customer, each list in the order the Cypher returns it."""

    def of(kind: type[X]) -> list[X]:
        return [x for x in items if isinstance(x, kind)]

    return Facts(
        now=NOW,
        tier=tier,
        totals=sorted(of(Totals), key=lambda x: x.currency),
        contacts=sorted(of(Contact), key=lambda c: c.at, reverse=True),
        cases=sorted(of(Case), key=lambda k: (not k.open, -k.opened_at.timestamp())),
        parcels=sorted(
            of(Parcel), key=lambda s: s.delivered_at or s.promised_at or NOW, reverse=True
        ),
        returns=of(Return),
        feedback=sorted(of(Feedback), key=lambda f: f.at, reverse=True),
        carts=of(Cart),
    )


def effort_of(f: Facts, t: Thresholds = T) -> Effort:
    """The effort as ``judge`` computes it."""
    return judge_effort(f, t, len(judge_recovery(f, t).unanswered))


def recovery_of(f: Facts, t: Thresholds = T) -> Recovery:
    return judge_recovery(f, t)


def churn_of(f: Facts, t: Thresholds = T) -> Churn:
    """``mood.judge_churn`` over the other signals of ``f``."""
    recovery = judge_recovery(f, t)
    effort = judge_effort(f, t, len(recovery.unanswered))
    return judge_churn(f, t, judge_value(f, t), effort, recovery, judge_sentiment(f, t))


#: One facts set per negative experience kind, each giving exactly that one open negative.
ONE_NEGATIVE: dict[str, tuple[Fact, ...]] = {
    "UNRESOLVED_CASE": (case("K-1", opened_days_ago=3),),
    "LOW_CSAT": (feedback("csat", 1, id="F-1", comment="slow"),),
    "NPS_DETRACTOR": (feedback("nps", 3, id="F-1"),),
    "LOW_REVIEW": (feedback("review", 2, id="F-1"),),
    "HIGH_EFFORT_SCORE": (feedback("ces", 2, id="F-1"),),
    "LATE_DELIVERY": (parcel("N-1", promised_days_ago=3, total=40_000),),
    "DAMAGED_DELIVERY": (
        parcel("N-1", promised_days_ago=5, delivered_days_ago=6, condition="damaged", total=40_000),
    ),
    "REFUSED_RETURN": (
        returned("N-2", status="rejected", received_days_ago=4, reason="worn", total=60_000),
    ),
    "UNANSWERED_CONTACT": (contact(2, id="I-1", status="unanswered", summary="Is it waterproof?"),),
}
