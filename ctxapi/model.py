"""The graph's vocabulary: every closed set of values and the status sets rules share.

The loader validates records against these sets, the API publishes them as GraphQL enums, the
thresholds check tiers against them, and the Cypher fragments that need a set as a literal
take it from here (checked at import against the enum). Neither ``ctxapi.graphql`` nor
``ctxapi.seeding`` owns this module; both import it.

A member's name is its GraphQL enum value (``SCREAMING_CASE``); its value is what the graph
stores (and what export files carry): ``Tier.VIP`` is stored as ``"vip"``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import LiteralString


class Vocabulary(StrEnum):
    """A closed set of the graph; ``description`` is what a member means (GraphQL shows it)."""

    @property
    def description(self) -> str:
        """The member's meaning, or else the value the graph stores."""
        return MEANINGS.get(type(self), {}).get(self.name) or f"Stored as `{self.value}`."


# -- what the graph stores ----------------------------------------------------------------------
class Tier(Vocabulary):
    """A customer's loyalty tier, as the source system gives it."""

    STANDARD = "standard"
    SILVER = "silver"
    GOLD = "gold"
    VIP = "vip"


class IdentityKind(Vocabulary):
    """The kind of an identifier; values are normalized (emails lowercased, phones E.164)."""

    EMAIL = "email"
    PHONE = "phone"
    SOCIAL = "social"
    CHAT = "chat"
    MESSAGING = "messaging"
    EXTERNAL = "external"


class AddressKind(Vocabulary):
    """What an address is used for."""

    SHIPPING = "shipping"
    BILLING = "billing"


class Channel(Vocabulary):
    """The channel of a contact."""

    PHONE = "phone"
    EMAIL = "email"
    CHAT = "chat"
    SMS = "sms"
    SOCIAL = "social"
    MESSAGING = "messaging"
    IN_STORE = "in_store"
    WEB = "web"


class Direction(Vocabulary):
    """Who started a contact."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class InteractionStatus(Vocabulary):
    """Where a contact stands."""

    OPEN = "open"
    RESOLVED = "resolved"
    UNANSWERED = "unanswered"
    ESCALATED = "escalated"
    ABANDONED = "abandoned"


class OrderStatus(Vocabulary):
    """Where an order stands; an abandoned cart is an order too."""

    ABANDONED = "abandoned"
    PENDING = "pending"
    PAID = "paid"
    FULFILLED = "fulfilled"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class SalesChannel(Vocabulary):
    """Where an order was placed."""

    WEB = "web"
    APP = "app"
    STORE = "store"
    PHONE = "phone"
    MARKETPLACE = "marketplace"


class ShipmentStatus(Vocabulary):
    """Where a parcel is."""

    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELAYED = "delayed"
    EXCEPTION = "exception"
    RETURNED = "returned"


class Condition(Vocabulary):
    """The state a parcel arrived in."""

    OK = "ok"
    DAMAGED = "damaged"


class ReturnStatus(Vocabulary):
    """Where a return and its refund stand."""

    REQUESTED = "requested"
    APPROVED = "approved"
    RECEIVED = "received"
    REFUNDED = "refunded"
    REJECTED = "rejected"


class CaseStatus(Vocabulary):
    """Where a case stands."""

    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(Vocabulary):
    """How urgent a case is."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class FeedbackKind(Vocabulary):
    """The kind of a survey answer or review."""

    CSAT = "csat"
    NPS = "nps"
    CES = "ces"
    REVIEW = "review"


#: The inclusive score range of each feedback kind.
SCORE_RANGES: dict[FeedbackKind, tuple[int, int]] = {
    FeedbackKind.CSAT: (1, 5),
    FeedbackKind.NPS: (0, 10),
    FeedbackKind.CES: (1, 7),
    FeedbackKind.REVIEW: (1, 5),
}


# -- what the API derives -----------------------------------------------------------------------
class ReferenceType(Vocabulary):
    """The type of a record another one points at (its label, lower case)."""

    ORDER = "order"
    SHIPMENT = "shipment"
    RETURN = "return"
    PRODUCT = "product"
    CASE = "case"
    INTERACTION = "interaction"
    FEEDBACK = "feedback"


#: What an interaction may be ``about``: reference type → node label.
ABOUT_TYPES: dict[ReferenceType, LiteralString] = {
    ReferenceType.ORDER: "Order",
    ReferenceType.SHIPMENT: "Shipment",
    ReferenceType.RETURN: "Return",
    ReferenceType.PRODUCT: "Product",
}
#: What feedback may ``rate``: reference type → node label.
RATES_TYPES: dict[ReferenceType, LiteralString] = {
    ReferenceType.INTERACTION: "Interaction",
    ReferenceType.CASE: "Case",
    ReferenceType.ORDER: "Order",
    ReferenceType.PRODUCT: "Product",
}


class TimelineKind(Vocabulary):
    """What a timeline event is."""

    ORDER = "ORDER"
    DELIVERY = "DELIVERY"
    RETURN = "RETURN"
    INTERACTION = "INTERACTION"
    FEEDBACK = "FEEDBACK"


class Level(Vocabulary):
    """A coarse reading of a score (effort, churn risk)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class SentimentDirection(Vocabulary):
    """Which way sentiment is moving."""

    IMPROVING = "IMPROVING"
    STEADY = "STEADY"
    WORSENING = "WORSENING"
    UNKNOWN = "UNKNOWN"


class ExperienceKind(Vocabulary):
    """A negative experience the recovery balance counts."""

    UNRESOLVED_CASE = "UNRESOLVED_CASE"
    LOW_CSAT = "LOW_CSAT"
    NPS_DETRACTOR = "NPS_DETRACTOR"
    LOW_REVIEW = "LOW_REVIEW"
    HIGH_EFFORT_SCORE = "HIGH_EFFORT_SCORE"
    LATE_DELIVERY = "LATE_DELIVERY"
    DAMAGED_DELIVERY = "DAMAGED_DELIVERY"
    REFUSED_RETURN = "REFUSED_RETURN"
    UNANSWERED_CONTACT = "UNANSWERED_CONTACT"


class RiskFactorCode(Vocabulary):
    """A contribution to the churn risk."""

    OPEN_NEGATIVES = "OPEN_NEGATIVES"
    DETRACTOR = "DETRACTOR"
    SENTIMENT = "SENTIMENT"
    EFFORT = "EFFORT"
    LAPSED = "LAPSED"
    COOLING = "COOLING"


class ActionKind(Vocabulary):
    """Something an agent should do (a next best action, or a proactive queue item's action)."""

    APOLOGIZE_AND_COMPENSATE = "APOLOGIZE_AND_COMPENSATE"
    APOLOGIZE = "APOLOGIZE"
    RECOVER_DETRACTOR = "RECOVER_DETRACTOR"
    PROACTIVE_DELIVERY_UPDATE = "PROACTIVE_DELIVERY_UPDATE"
    ESCALATE_TO_LIVE_AGENT = "ESCALATE_TO_LIVE_AGENT"
    ANSWER_OPEN_QUESTION = "ANSWER_OPEN_QUESTION"
    CONFIRM_REFUND_TIMING = "CONFIRM_REFUND_TIMING"
    RECOVER_ABANDONED_CART = "RECOVER_ABANDONED_CART"
    REQUEST_FEEDBACK = "REQUEST_FEEDBACK"
    FOLLOW_UP_OPEN_CASE = "FOLLOW_UP_OPEN_CASE"


class ProactiveReason(Vocabulary):
    """Why a customer is in the proactive queue."""

    LATE_SHIPMENT = "LATE_SHIPMENT"
    REFUND_OVERDUE = "REFUND_OVERDUE"
    UNRESOLVED_CASE = "UNRESOLVED_CASE"


#: What a member means, where its name does not say it all (GraphQL enum value descriptions),
#: by enum: members of different enums may share a value (UNRESOLVED_CASE, LOW, HIGH).
MEANINGS: dict[type[Vocabulary], dict[str, str]] = {
    ActionKind: {
        "APOLOGIZE_AND_COMPENSATE": "A VIP with open negatives: apologize, offer the incentive.",
        "APOLOGIZE": "Open negatives: apologize and say what happens next.",
        "RECOVER_DETRACTOR": "A detractor answer nobody followed up: call back, close the loop.",
        "PROACTIVE_DELIVERY_UPDATE": "A parcel is late: tell them before they ask.",
        "ESCALATE_TO_LIVE_AGENT": "A hard case or failed bots: one senior agent owns it.",
        "ANSWER_OPEN_QUESTION": "An inbound question is still unanswered.",
        "CONFIRM_REFUND_TIMING": "A received return is not refunded yet.",
        "RECOVER_ABANDONED_CART": "A recent cart was abandoned and nothing bought since.",
        "REQUEST_FEEDBACK": "A case was resolved recently and nobody asked how it went.",
        "FOLLOW_UP_OPEN_CASE": "An open case has had no update sent for days.",
    },
    ProactiveReason: {
        "LATE_SHIPMENT": "A parcel of a live order not delivered by its promised time, with no"
        " update sent for delivery_update_days.",
        "REFUND_OVERDUE": "A received return not refunded within refund_due_days.",
        "UNRESOLVED_CASE": "An open case with no update sent for case_follow_up_days.",
    },
    ExperienceKind: {
        "UNRESOLVED_CASE": "A case still open or pending.",
        "LOW_CSAT": "A CSAT score at or below csat_negative_max.",
        "NPS_DETRACTOR": "An NPS score at or below nps_detractor_max.",
        "LOW_REVIEW": "A review at or below review_negative_max.",
        "HIGH_EFFORT_SCORE": "A CES score at or below ces_negative_max.",
        "LATE_DELIVERY": "A parcel delivered after its promise, or not yet.",
        "DAMAGED_DELIVERY": "A parcel that arrived damaged.",
        "REFUSED_RETURN": "A return that was refused.",
        "UNANSWERED_CONTACT": "An inbound contact with no response after it.",
    },
    RiskFactorCode: {
        "OPEN_NEGATIVES": "Negative experiences not yet made good.",
        "DETRACTOR": "The latest NPS answer is a detractor.",
        "SENTIMENT": "Sentiment is negative now, or worsening into negative.",
        "EFFORT": "Getting help has been hard.",
        "LAPSED": "No order for lapsed_days (heavier for a VIP).",
        "COOLING": "No order for half of lapsed_days.",
    },
    SentimentDirection: {
        "IMPROVING": "The newer half is better by sentiment_change or more.",
        "STEADY": "Neither half differs by sentiment_change.",
        "WORSENING": "The newer half is worse by sentiment_change or more.",
        "UNKNOWN": "Fewer than sentiment_min_points (3) sentiment points.",
    },
    Level: {
        "LOW": "Below the medium threshold.",
        "MEDIUM": "At or above the medium threshold.",
        "HIGH": "At or above the high threshold.",
    },
    TimelineKind: {
        "ORDER": "An order placed (or a cart abandoned).",
        "DELIVERY": "A parcel delivered.",
        "RETURN": "A return requested.",
        "INTERACTION": "A contact on any channel.",
        "FEEDBACK": "A survey answer or review.",
    },
    ReferenceType: {
        "ORDER": "An Order.",
        "SHIPMENT": "A Shipment (a parcel).",
        "RETURN": "A Return.",
        "PRODUCT": "A Product.",
        "CASE": "A Case.",
        "INTERACTION": "An Interaction.",
        "FEEDBACK": "A Feedback answer or review.",
    },
}
for _kind, _meanings in MEANINGS.items():
    _strays = set(_meanings) - set(_kind.__members__)
    if _strays:
        raise ValueError(f"MEANINGS of {_kind.__name__} name no member: {sorted(_strays)}")


# -- sets the rules share ---------------------------------------------------------------------
#: Orders that count as purchases (stats, value, VIP): all but abandoned carts and cancellations.
COUNTED_ORDER_STATUSES: tuple[OrderStatus, ...] = tuple(
    s for s in OrderStatus if s not in (OrderStatus.ABANDONED, OrderStatus.CANCELLED)
)
#: Cases still waiting for the business.
OPEN_CASE_STATUSES: tuple[CaseStatus, ...] = (CaseStatus.OPEN, CaseStatus.PENDING)


def cypher_list(values: tuple[str, ...]) -> str:
    """``['open', 'pending']``: the values as a Cypher list literal."""
    return "[" + ", ".join("'" + str(value) + "'" for value in values) + "]"


def _checked(literal: LiteralString, values: tuple[str, ...]) -> LiteralString:
    """``literal``, after proving it spells exactly ``values`` (Cypher text stays a literal
    that a reviewer reads, and cannot drift from the enums)."""
    if literal != cypher_list(values):
        raise ValueError(f"{literal} is out of step with {cypher_list(values)}")
    return literal


def _checked_one(literal: LiteralString, value: str) -> LiteralString:
    """``literal``, after proving it spells ``value`` as a Cypher string."""
    if literal != "'" + value + "'":
        raise ValueError(f"{literal} is out of step with {value!r}")
    return literal


#: Cypher literals of the sets above, for fragments that test ``status IN …``.
OPEN_CASES = _checked("['open', 'pending']", OPEN_CASE_STATUSES)
CLOSED_CASES = _checked(
    "['resolved', 'closed']", tuple(s for s in CaseStatus if s not in OPEN_CASE_STATUSES)
)
#: Self-service contacts that did not help (a bot escalated or the customer gave up).
FAILED_CONTACTS = _checked(
    "['escalated', 'abandoned']", (InteractionStatus.ESCALATED, InteractionStatus.ABANDONED)
)
#: The labels a contact may be about, a feedback may rate, and any reference may carry (its
#: ``ReferenceType`` is the first of its labels in the list).
ABOUT_LABELS = _checked("['Order', 'Shipment', 'Return', 'Product']", tuple(ABOUT_TYPES.values()))
RATES_LABELS = _checked("['Interaction', 'Case', 'Order', 'Product']", tuple(RATES_TYPES.values()))
REFERENCE_LABELS = _checked(
    "['Order', 'Shipment', 'Return', 'Product', 'Case', 'Interaction', 'Feedback']",
    tuple(member.value.capitalize() for member in ReferenceType),
)

#: While a parcel, return or case may still fall due (late, refund overdue, no update) it
#: carries its customer's tier as ``queueTier`` for the proactive queue's indexes; each
#: condition reads the node as ``x``.
MAY_FALL_DUE: dict[LiteralString, LiteralString] = {
    "Shipment": "x.deliveredAt IS NULL AND NOT x.status IN "
    + _checked("['delivered', 'returned']", (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED)),
    "Return": "x.status = " + _checked_one("'received'", ReturnStatus.RECEIVED),
    "Case": "x.status IN " + OPEN_CASES,
}


def may_fall_due(label: LiteralString, node: LiteralString) -> LiteralString:
    """The condition under which a ``label`` node, bound as ``node``, may still fall due."""
    return MAY_FALL_DUE[label].replace("x.", node + ".")
