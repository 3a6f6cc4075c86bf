"""What to do now: the signals of docs/insights.md, each with the facts behind it."""

from __future__ import annotations

import graphene

from ctxapi.graphql.scalars import DateTime, Money, Reference


class ValueInsight(graphene.ObjectType):
    """What the customer is worth to the business, and whether they count as a VIP."""

    lifetime_value = graphene.Field(Money, description="Order totals less refunds paid.")
    gross_sales = graphene.Field(Money, description="Order totals before refunds.")
    refunded = graphene.Field(Money, description="Refunds paid.")
    order_count = graphene.Int(
        required=True, description="Orders placed (not abandoned or cancelled)."
    )
    orders_last_year = graphene.Int(
        required=True, description="Orders placed in the last 365 days (frequency)."
    )
    last_order_at = graphene.Field(DateTime, description="Latest order placed at.")
    days_since_last_order = graphene.Int(description="Recency; null without orders.")
    tier = graphene.String(required=True, description="The tier the source system gives.")
    vip = graphene.Boolean(required=True, description="Whether the VIP rule holds.")
    vip_reasons = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="Which parts of the VIP rule hold (tier, lifetime value, frequency).",
    )


class EffortInsight(graphene.ObjectType):
    """How hard the customer has had to work to get help, over the insights window."""

    score = graphene.Float(required=True, description="0 (effortless) to 1.")
    level = graphene.String(required=True, description="low, medium or high.")
    cases = graphene.Int(required=True, description="Cases opened in the window, or open.")
    contacts_per_case = graphene.Float(description="Contacts per case; null without cases.")
    channel_switches = graphene.Int(
        required=True, description="Times a case moved to another channel."
    )
    repeat_contacts = graphene.Int(
        required=True,
        description="Inbound contacts on a topic already raised shortly before"
        " (repeat_contact_days, default 7).",
    )
    self_service_to_agent = graphene.Int(
        required=True, description="Cases that began in self-service and needed a person."
    )
    self_service_failures = graphene.Int(
        required=True, description="Self-service contacts escalated or abandoned in 30 days."
    )
    unanswered_questions = graphene.Int(
        required=True, description="Inbound questions still unanswered (recent ones)."
    )
    avg_first_response_minutes = graphene.Float(
        description="Mean time to a person's first response on inbound contacts."
    )
    avg_resolution_hours = graphene.Float(description="Mean time from opening to resolution.")


class Experience(graphene.ObjectType):
    """One negative experience that is not yet made good."""

    kind = graphene.String(
        required=True,
        description="UNRESOLVED_CASE, LOW_CSAT, NPS_DETRACTOR, LOW_REVIEW, HIGH_EFFORT_SCORE,"
        " LATE_DELIVERY, DAMAGED_DELIVERY or REFUSED_RETURN.",
    )
    at = graphene.Field(DateTime, description="When it happened.")
    ongoing = graphene.Boolean(
        required=True, description="Still going on (an open case, a parcel still late)."
    )
    label = graphene.String(required=True, description="A few words, e.g. late delivery of …")
    detail = graphene.String(required=True, description="The facts, in one line.")
    about = graphene.Field(Reference, description="The record behind it.")


class RecoveryBalance(graphene.ObjectType):
    """Negative experiences weighed against positive ones (recovery_ratio, default 12:1)."""

    positives = graphene.Int(required=True, description="Positive experiences in the window.")
    negatives = graphene.Int(
        required=True, description="Negative experiences in the window, and every unresolved case."
    )
    ratio = graphene.Int(required=True, description="Positives it takes to undo one negative.")
    balance = graphene.Int(required=True, description="positives - ratio * negatives.")
    recovered = graphene.Boolean(required=True, description="balance ≥ 0.")
    open_negatives = graphene.List(
        graphene.NonNull(Experience),
        required=True,
        description="Negatives still ongoing or with fewer than `ratio` positives since,"
        " ongoing first, then newest first.",
    )


class SentimentPoint(graphene.ObjectType):
    """One contact's sentiment or one feedback score, on a -1 to 1 scale."""

    at = graphene.Field(DateTime, required=True, description="When.")
    score = graphene.Float(required=True, description="-1 (angry) to 1 (delighted).")
    about = graphene.Field(Reference, description="The interaction or feedback.")


class SentimentTrend(graphene.ObjectType):
    """The latest sentiment points, the newer half compared with the older half."""

    direction = graphene.String(
        required=True, description="IMPROVING, STEADY, WORSENING, or UNKNOWN with < 2 points."
    )
    latest = graphene.Float(description="Mean of the newer half of the points.")
    previous = graphene.Float(description="Mean of the older half of the points.")
    points = graphene.List(
        graphene.NonNull(SentimentPoint), required=True, description="Newest first."
    )


class RiskFactor(graphene.ObjectType):
    """One contribution to the churn risk."""

    code = graphene.String(
        required=True,
        description="OPEN_NEGATIVES, DETRACTOR, SENTIMENT, EFFORT, LAPSED or COOLING.",
    )
    weight = graphene.Float(required=True, description="What it adds to the score.")
    detail = graphene.String(required=True, description="The facts behind it.")


class ChurnRisk(graphene.ObjectType):
    """How likely the customer is to leave, from the signals above and recency."""

    score = graphene.Float(required=True, description="0 to 1: the factors' weights, capped.")
    level = graphene.String(required=True, description="low, medium or high.")
    reasons = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="The factors' details, heaviest first.",
    )
    factors = graphene.List(
        graphene.NonNull(RiskFactor), required=True, description="Heaviest first."
    )


class NextBestAction(graphene.ObjectType):
    """Something the agent should do now, and why."""

    kind = graphene.String(
        required=True,
        description="APOLOGIZE_AND_COMPENSATE, PROACTIVE_DELIVERY_UPDATE,"
        " ESCALATE_TO_LIVE_AGENT, ANSWER_OPEN_QUESTION, CONFIRM_REFUND_TIMING,"
        " RECOVER_ABANDONED_CART or REQUEST_FEEDBACK.",
    )
    priority = graphene.Int(required=True, description="Higher first; 0 to 100.")
    reason = graphene.String(required=True, description="The facts behind it, in one line.")
    about = graphene.List(
        graphene.NonNull(Reference), required=True, description="The records it concerns."
    )


class SharedIdentity(graphene.ObjectType):
    """An identifier of this customer that other customers use too: confirm who is speaking."""

    kind = graphene.String(required=True, description="phone, email, …")
    value = graphene.String(required=True, description="Normalized value.")
    other_customers = graphene.Int(required=True, description="How many others it identifies.")
    customers = graphene.List(
        graphene.NonNull(lambda: _customer()),
        required=True,
        description="The other customers, by id.",
    )


class SharedProblem(graphene.ObjectType):
    """Other customers who recently reported a problem with the same product or parcel."""

    about = graphene.Field(Reference, required=True, description="The product or shipment.")
    other_customers = graphene.Int(required=True, description="How many other customers.")
    last_reported_at = graphene.Field(DateTime, description="The latest such report.")
    detail = graphene.String(required=True, description="One line for the agent.")


class SharedContext(graphene.ObjectType):
    """What this customer has in common with others: what no single-customer view shows."""

    shared_identities = graphene.List(
        graphene.NonNull(SharedIdentity), required=True, description="By kind and value."
    )
    problems = graphene.List(
        graphene.NonNull(SharedProblem),
        required=True,
        description="Products bought recently (most reports first, at most 5) and parcels.",
    )


class Insights(graphene.ObjectType):
    """Signals and next best actions, computed in the same query as the rest of the context."""

    as_of = graphene.Field(DateTime, required=True, description="The time they were computed for.")
    value = graphene.Field(ValueInsight, required=True, description="Value and VIP status.")
    effort = graphene.Field(EffortInsight, required=True, description="Customer effort.")
    recovery = graphene.Field(
        RecoveryBalance, required=True, description="Negatives against positives (default 12:1)."
    )
    sentiment = graphene.Field(SentimentTrend, required=True, description="Sentiment trend.")
    churn_risk = graphene.Field(ChurnRisk, required=True, description="Risk of leaving.")
    next_best_actions = graphene.List(
        graphene.NonNull(NextBestAction),
        required=True,
        description="What to do now, highest priority first.",
    )
    shared = graphene.Field(
        SharedContext, required=True, description="Identities and problems shared with others."
    )


def _customer() -> type[graphene.ObjectType]:
    from ctxapi.graphql.customer import Customer

    return Customer
