"""The facts the insights rules judge: what ``INSIGHTS_FACTS`` (ctxapi.graphql.signals) reads
from the graph for one customer, typed.

Every list is bounded by the window and a cap from the thresholds (``contacts_cap`` …), so a
customer with 10,000 contacts costs the rules what one with 200 does. Times are aware
``datetime``s; references (``about``) are the API's ``Reference`` as a dict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ctxapi.model import OPEN_CASE_STATUSES, Direction

Ref = Mapping[str, Any]  # {"type": "order", "id": "O-1", "label": "N-1"}


def _time(value: Any) -> datetime | None:
    """A time the graph sent as text (``toString``), or a driver or Python datetime, as an
    aware datetime; None stays None."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value.split("[", 1)[0])
    native: datetime = value.to_native()
    return native


def _must(value: Any) -> datetime:
    found = _time(value)
    if found is None:
        raise ValueError("a required time is missing from the facts")
    return found


@dataclass(frozen=True)
class Contact:
    """One contact of the customer in the window (newest first in ``Facts.contacts``)."""

    ref: Ref
    channel: str
    direction: str
    at: datetime
    responded_at: datetime | None = None
    topic: str | None = None
    status: str = "resolved"
    self_service: bool = False
    sentiment: float | None = None
    summary: str = ""
    case: str | None = None  # the id of the customer's case it is part of

    @property
    def inbound(self) -> bool:
        return self.direction == Direction.INBOUND


@dataclass(frozen=True)
class CaseContact:
    """One contact of a case, in order, for its effort (channel switches, self-service first):
    its channel and self-service flag only, as a heavy customer's cases hold thousands."""

    channel: str
    self_service: bool = False


@dataclass(frozen=True)
class Case:
    """A case opened in the window or still open (open first, then newest first)."""

    ref: Ref
    id: str
    subject: str
    status: str
    opened_at: datetime
    resolved_at: datetime | None = None
    last_update: datetime | None = None  # the latest outbound contact on it
    follow_up_due: datetime | None = None  # ctxapi.graphql.due: when it needs an update
    contact_count: int = 0  # all its contacts (``contacts`` holds the first case_contacts_cap)
    contacts: Sequence[CaseContact] = ()
    rated: bool = False  # feedback rates it, or one of its contacts

    @property
    def open(self) -> bool:
        return self.status in OPEN_CASE_STATUSES


@dataclass(frozen=True)
class Parcel:
    """A shipment promised or delivered in the window (not delivered first, then newest)."""

    ref: Ref
    order: Ref
    number: str
    order_status: str
    carrier: str
    status: str
    promised_at: datetime | None
    delivered_at: datetime | None = None
    condition: str | None = None
    last_update: datetime | None = None  # ctxapi.graphql.due: the latest update sent since
    update_due: datetime | None = None  # ... and when the next one is due (not delivered)
    live: bool = True  # its order counts as a purchase (not cancelled, not an abandoned cart)
    total: int | None = None  # its order's total, minor units ...
    currency: str | None = None  # ... of this currency


@dataclass(frozen=True)
class Return:
    """A return in the window, or received and waiting for its refund (those first)."""

    ref: Ref
    order: Ref
    number: str
    status: str
    reason: str | None = None
    requested_at: datetime | None = None
    received_at: datetime | None = None
    refunded_at: datetime | None = None
    total: int | None = None  # its order's total, minor units ...
    currency: str | None = None  # ... of this currency


@dataclass(frozen=True)
class Feedback:
    """A survey answer or review (the latest feedback_cap, of any age)."""

    ref: Ref
    kind: str
    score: int
    at: datetime
    comment: str | None = None
    bought: bool = True  # False: a review of a product the customer never ordered


@dataclass(frozen=True)
class Cart:
    """An abandoned cart of the last cart_days."""

    ref: Ref
    number: str
    at: datetime
    items: int
    bought_since: bool = False


@dataclass(frozen=True)
class Totals:
    """Counted orders (all time) in one currency, and refunds paid on orders in it."""

    currency: str
    orders: int
    gross: int  # minor units
    refunded: int = 0
    last_order_at: datetime | None = None
    orders_last_year: int = 0


@dataclass(frozen=True)
class Facts:
    """Everything the rules know about one customer, as of ``now``."""

    now: datetime
    tier: str = "standard"
    totals: Sequence[Totals] = ()
    contacts: Sequence[Contact] = ()
    cases: Sequence[Case] = ()
    parcels: Sequence[Parcel] = ()
    returns: Sequence[Return] = ()
    feedback: Sequence[Feedback] = ()
    carts: Sequence[Cart] = ()

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Facts:
        """The facts map ``INSIGHTS_FACTS`` returns, typed."""
        refunds: dict[str, int] = {}
        for currency, minor in raw["refunds"]:
            if currency is not None:
                refunds[currency] = refunds.get(currency, 0) + int(minor or 0)
        totals = [
            Totals(
                currency=t["currency"],
                orders=t["orders"],
                gross=int(t["gross"] or 0),
                refunded=refunds.pop(t["currency"], 0),
                last_order_at=_time(t["last"]),
                orders_last_year=t["lastYear"],
            )
            for t in raw["totals"]
            if t["currency"] is not None
        ]
        totals += [Totals(currency, 0, 0, refunded) for currency, refunded in refunds.items()]
        return cls(
            now=_must(raw["now"]),
            tier=raw["tier"] or "standard",
            totals=tuple(sorted(totals, key=lambda t: t.currency)),
            contacts=tuple(
                Contact(
                    ref=c["ref"],
                    channel=c["channel"],
                    direction=c["direction"],
                    at=_must(c["at"]),
                    responded_at=_time(c["respondedAt"]),
                    topic=c["topic"],
                    status=c["status"] or "resolved",
                    self_service=bool(c["selfService"]),
                    sentiment=c["sentiment"],
                    summary=c["summary"] or "",
                    case=c["case"],
                )
                for c in raw["contacts"]
            ),
            cases=tuple(
                Case(
                    ref=k["ref"],
                    id=k["id"],
                    subject=k["subject"] or "",
                    status=k["status"],
                    opened_at=_must(k["openedAt"]),
                    resolved_at=_time(k["resolvedAt"]),
                    last_update=_time(k["lastUpdate"]),
                    follow_up_due=_time(k["followUpDue"]),
                    contact_count=k["contactCount"],
                    contacts=tuple(
                        CaseContact(channel=channel, self_service=bool(self_service))
                        for channel, self_service in k["contacts"]
                    ),
                    rated=bool(k["rated"]),
                )
                for k in raw["cases"]
            ),
            parcels=tuple(
                Parcel(
                    ref=s["ref"],
                    order=s["order"],
                    number=s["number"],
                    order_status=s["orderStatus"],
                    carrier=s["carrier"] or "",
                    status=s["status"],
                    promised_at=_time(s["promisedAt"]),
                    delivered_at=_time(s["deliveredAt"]),
                    condition=s["condition"],
                    last_update=_time(s["lastUpdate"]),
                    update_due=_time(s["updateDue"]),
                    live=bool(s["live"]),
                    total=s["total"],
                    currency=s["currency"],
                )
                for s in raw["parcels"]
            ),
            returns=tuple(
                Return(
                    ref=r["ref"],
                    order=r["order"],
                    number=r["number"],
                    status=r["status"],
                    reason=r["reason"],
                    requested_at=_time(r["requestedAt"]),
                    received_at=_time(r["receivedAt"]),
                    refunded_at=_time(r["refundedAt"]),
                    total=r["total"],
                    currency=r["currency"],
                )
                for r in raw["returns"]
            ),
            feedback=tuple(
                Feedback(
                    ref=f["ref"],
                    kind=f["kind"],
                    score=f["score"],
                    at=_must(f["at"]),
                    comment=f["comment"],
                    bought=bool(f["bought"]),
                )
                for f in raw["feedback"]
            ),
            carts=tuple(
                Cart(
                    ref=o["ref"],
                    number=o["number"],
                    at=_must(o["at"]),
                    items=o["items"],
                    bought_since=bool(o["boughtSince"]),
                )
                for o in raw["carts"]
            ),
        )
