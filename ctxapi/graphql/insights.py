"""What to do now: the signals of docs/insights.md, each with the facts behind it.

``Customer.insights`` runs the fragment ``INSIGHTS_FACTS`` (ctxapi.graphql.signals) once per
customer; it returns one map, and the fields below read its parts.
"""

from __future__ import annotations

from typing import Any, LiteralString

import graphene

from ctxapi.access.masking import Pii
from ctxapi.graphql import enums, fields
from ctxapi.graphql.fields import many, value
from ctxapi.graphql.scalars import Money, references, time


def part(type_: Any, key: LiteralString, **kwargs: Any) -> graphene.Field:
    """The part ``key`` of the map the insights fragment returned."""
    return many(type_, "WITH {v}." + key + " AS {c}", **kwargs)


def items(type_: Any, key: LiteralString, **kwargs: Any) -> graphene.Field:
    """The list ``key`` of the map the insights fragment returned, one row per item."""
    return many(graphene.List(graphene.NonNull(type_)), "UNWIND {v}." + key + " AS {c}", **kwargs)


class ValueInsight(graphene.ObjectType):
    """What the customer is worth to the business, and whether they count as a VIP."""

    lifetime_value = value(
        Money, "[{v}.net, {v}.currency]", description="Order totals less refunds paid."
    )
    gross_sales = value(
        Money, "[{v}.gross, {v}.currency]", description="Order totals before refunds."
    )
    refunded = value(Money, "[{v}.refunded, {v}.currency]", description="Refunds paid.")
    order_count = value(
        graphene.Int,
        "{v}.orders",
        required=True,
        description="Orders placed (not abandoned or cancelled).",
    )
    orders_last_year = value(
        graphene.Int,
        "{v}.lastYear",
        required=True,
        description="Orders placed in the last 365 days (frequency).",
    )
    last_order_at = time("lastOrderAt", description="Latest order placed at.")
    days_since_last_order = value(
        graphene.Int, "{v}.days", description="Recency; null without orders."
    )
    tier = value(
        enums.Tier, "{v}.tier", required=True, description="The tier the source system gives."
    )
    vip = value(
        graphene.Boolean,
        "size({v}.because) > 0",
        required=True,
        description="Whether the VIP rule holds.",
    )
    vip_reasons = value(
        graphene.List(graphene.NonNull(graphene.String)),
        "{v}.because",
        required=True,
        description="Which parts of the VIP rule hold (tier, lifetime value, frequency).",
    )


class EffortInsight(graphene.ObjectType):
    """How hard the customer has had to work to get help, over the insights window."""

    score = value(graphene.Float, "{v}.score", required=True, description="0 (effortless) to 1.")
    level = value(enums.Level, "{v}.level", required=True, description="The score, read coarsely.")
    cases = value(
        graphene.Int, "{v}.cases", required=True, description="Cases opened in the window, or open."
    )
    contacts_per_case = value(
        graphene.Float, "{v}.perCase", description="Contacts per case; null without cases."
    )
    channel_switches = value(
        graphene.Int,
        "{v}.switches",
        required=True,
        description="Times a case moved to another channel.",
    )
    repeat_contacts = value(
        graphene.Int,
        "{v}.repeats",
        required=True,
        description="Inbound contacts on a topic already raised shortly before"
        " (repeat_contact_days, default 7).",
    )
    self_service_to_agent = value(
        graphene.Int,
        "{v}.botToAgent",
        required=True,
        description="Cases that began in self-service and needed a person.",
    )
    self_service_failures = value(
        graphene.Int,
        "{v}.botFailures",
        required=True,
        description="Self-service contacts escalated or abandoned in 30 days.",
    )
    unanswered_questions = value(
        graphene.Int,
        "{v}.unanswered",
        required=True,
        description="Inbound questions still unanswered (recent ones).",
    )
    avg_first_response_minutes = value(
        graphene.Float,
        "{v}.firstResponse",
        description="Mean time to a person's first response on inbound contacts.",
    )
    avg_resolution_hours = value(
        graphene.Float, "{v}.resolution", description="Mean time from opening to resolution."
    )


class Experience(graphene.ObjectType):
    """One negative experience that is not yet made good."""

    kind = value(enums.ExperienceKind, "{v}.kind", required=True, description="What went wrong.")
    at = time("at", description="When it happened.")
    ongoing = value(
        graphene.Boolean,
        "{v}.ongoing",
        required=True,
        description="Still going on (an open case, a parcel still late).",
    )
    label = value(
        graphene.String,
        "{v}.label",
        required=True,
        description="A few words, e.g. late delivery of …",
    )
    detail = value(
        graphene.String, "{v}.detail", required=True, description="The facts, in one line."
    )
    about = references("{v}.node", one=True, description="The record behind it.")


class RecoveryBalance(graphene.ObjectType):
    """Negative experiences weighed against positive ones (recovery_ratio, default 12:1)."""

    positives = value(
        graphene.Int,
        "{v}.positives",
        required=True,
        description="Positive experiences in the window.",
    )
    negatives = value(
        graphene.Int,
        "{v}.negatives",
        required=True,
        description="Negative experiences in the window, and every unresolved case.",
    )
    ratio = value(
        graphene.Int,
        "{v}.ratio",
        required=True,
        description="Positives it takes to undo one negative.",
    )
    balance = value(
        graphene.Int, "{v}.balance", required=True, description="positives - ratio * negatives."
    )
    recovered = value(
        graphene.Boolean, "{v}.balance >= 0", required=True, description="balance ≥ 0."
    )
    open_negatives = items(
        Experience,
        "open",
        required=True,
        description="Negatives still ongoing or with fewer than `ratio` positives since,"
        " ongoing first, then newest first.",
    )


class SentimentPoint(graphene.ObjectType):
    """One contact's sentiment or one feedback score, on a -1 to 1 scale."""

    at = time("at", required=True, description="When.")
    score = value(
        graphene.Float, "{v}.score", required=True, description="-1 (angry) to 1 (delighted)."
    )
    about = references("{v}.node", one=True, description="The interaction or feedback.")


class SentimentTrend(graphene.ObjectType):
    """The latest sentiment points, the newer half compared with the older half."""

    direction = value(
        enums.SentimentDirection,
        "{v}.direction",
        required=True,
        description="Which way it moves; UNKNOWN with fewer than 2 points.",
    )
    latest = value(
        graphene.Float, "{v}.current", description="Mean of the newer half of the points."
    )
    previous = value(
        graphene.Float, "{v}.previous", description="Mean of the older half of the points."
    )
    points = items(SentimentPoint, "points", required=True, description="Newest first.")


class RiskFactor(graphene.ObjectType):
    """One contribution to the churn risk."""

    code = value(enums.RiskFactorCode, "{v}.code", required=True, description="Which factor.")
    weight = value(
        graphene.Float, "{v}.weight", required=True, description="What it adds to the score."
    )
    detail = value(graphene.String, "{v}.detail", required=True, description="The facts behind it.")


class ChurnRisk(graphene.ObjectType):
    """How likely the customer is to leave, from the signals above and recency."""

    score = value(
        graphene.Float,
        "{v}.score",
        required=True,
        description="0 to 1: the factors' weights, capped.",
    )
    level = value(enums.Level, "{v}.level", required=True, description="The score, read coarsely.")
    reasons = value(
        graphene.List(graphene.NonNull(graphene.String)),
        "[x IN {v}.factors | x.detail]",
        required=True,
        description="The factors' details, heaviest first.",
    )
    factors = items(RiskFactor, "factors", required=True, description="Heaviest first.")


class NextBestAction(graphene.ObjectType):
    """Something the agent should do now, and why."""

    kind = value(enums.ActionKind, "{v}.kind", required=True, description="What to do.")
    priority = value(
        graphene.Int, "{v}.priority", required=True, description="Higher first; 0 to 100."
    )
    reason = value(
        graphene.String,
        "{v}.reason",
        required=True,
        description="The facts behind it, in one line.",
    )
    about = references("{v}.about", required=True, description="The records it concerns.")


class SharedIdentity(graphene.ObjectType):
    """An identifier of this customer that other customers use too: confirm who is speaking."""

    kind = value(enums.IdentityKind, "{v}.identity.kind", required=True, description="Its kind.")
    value = value(
        graphene.String,
        "{v}.identity.value",
        pii=Pii.IDENTIFIER,
        required=True,
        description="Normalized value; masked without the pii:read scope.",
    )
    other_customers = fields.value(
        graphene.Int,
        "size({v}.others)",
        required=True,
        description="How many others it identifies.",
    )
    customers = items(
        "ctxapi.graphql.customer.Customer",
        "others",
        required=True,
        description="The other customers, by id.",
    )


class SharedProblem(graphene.ObjectType):
    """Other customers who recently reported a problem with the same product or parcel."""

    about = references("{v}.about", one=True, required=True, description="The product or shipment.")
    other_customers = value(
        graphene.Int, "{v}.others", required=True, description="How many other customers."
    )
    last_reported_at = time("lastAt", description="The latest such report.")
    detail = value(
        graphene.String, "{v}.detail", required=True, description="One line for the agent."
    )


class SharedContext(graphene.ObjectType):
    """What this customer has in common with others: what no single-customer view shows."""

    shared_identities = items(
        SharedIdentity, "identities", required=True, description="By kind and value."
    )
    problems = items(
        SharedProblem,
        "problems",
        required=True,
        description="Products bought recently (most reports first, at most 5) and parcels.",
    )


class Insights(graphene.ObjectType):
    """Signals and next best actions, computed in the same query as the rest of the context."""

    as_of = time("asOf", required=True, description="The time they were computed for.")
    value = part(ValueInsight, "value", required=True, description="Value and VIP status.")
    effort = part(EffortInsight, "effort", required=True, description="Customer effort.")
    recovery = part(
        RecoveryBalance,
        "recovery",
        required=True,
        description="Negatives against positives (default 12:1).",
    )
    sentiment = part(SentimentTrend, "sentiment", required=True, description="Sentiment trend.")
    churn_risk = part(ChurnRisk, "churn", required=True, description="Risk of leaving.")
    next_best_actions = items(
        NextBestAction,
        "actions",
        required=True,
        description="What to do now, highest priority first.",
    )
    shared = part(
        SharedContext,
        "shared",
        required=True,
        description="Identities and problems shared with others.",
    )
