"""What to do now: the signals of docs/insights.md, each with the facts behind it.

Facts in Cypher, judgement in Python: ``INSIGHTS_FACTS`` (ctxapi.graphql.signals) reads one
customer's bounded facts in the context query's round trip, and the rules of ``ctxapi.rules``
judge them; every judged field of ``Insights`` reads a part of that one judgement. The types
under them are plain: their values come from the rules. ``shared`` is compiled Cypher, as it
lists other customers with whatever the client selects on them.
"""

from __future__ import annotations

from typing import Any, LiteralString

import graphene

from ctxapi.access.masking import Pii
from ctxapi.graphql import enums, fields
from ctxapi.graphql.fields import judged, many, value
from ctxapi.graphql.scalars import DateTime, Money, Reference, references, time
from ctxapi.graphql.signals import INSIGHTS_FACTS, SHARED_FACTS
from ctxapi.rules.judge import judge_graph_facts


def fact(type_: Any, **kwargs: Any) -> graphene.Field:
    """A field of a judged type: one value of the rules' answer."""
    return graphene.Field(type_, **kwargs)


def facts(type_: Any, **kwargs: Any) -> graphene.Field:
    """A field of a judged type: a list from the rules' answer."""
    return graphene.Field(graphene.List(graphene.NonNull(type_)), **kwargs)


def insight(type_: Any, part: str, **kwargs: Any) -> graphene.Field:
    """The ``part`` of the rules' judgement of the customer's facts."""
    return judged(type_, INSIGHTS_FACTS, judge_graph_facts, part, needs=("__now", "__t"), **kwargs)


def items(type_: Any, key: LiteralString, **kwargs: Any) -> graphene.Field:
    """The list ``key`` of the map the insights fragment returned, one row per item."""
    return many(graphene.List(graphene.NonNull(type_)), "UNWIND {v}." + key + " AS {c}", **kwargs)


class CurrencyValue(graphene.ObjectType):
    """Orders and refunds in one currency, exactly."""

    currency = fact(graphene.String, required=True, description="ISO 4217 code, e.g. EUR.")
    orders = fact(graphene.Int, required=True, description="Counted orders in this currency.")
    lifetime_value = fact(Money, required=True, description="Order totals less refunds paid.")
    gross_sales = fact(Money, required=True, description="Order totals before refunds.")
    refunded = fact(Money, required=True, description="Refunds paid on these orders.")


class ValueInsight(graphene.ObjectType):
    """What the customer is worth to the business, and whether they count as a VIP."""

    lifetime_value = fact(
        Money,
        description="Order totals less refunds paid, in the configured value currency (other"
        " currencies converted with the configured rates, see convertedFrom); null without"
        " orders, or when an amount is in a currency without a rate (see byCurrency).",
    )
    gross_sales = fact(Money, description="Order totals before refunds, like lifetimeValue.")
    refunded = fact(Money, description="Refunds paid, like lifetimeValue.")
    by_currency = facts(
        CurrencyValue, required=True, description="Per currency, exactly; most orders first."
    )
    converted_from = facts(
        graphene.String,
        required=True,
        description="Currencies converted into the value currency for lifetimeValue.",
    )
    order_count = fact(
        graphene.Int,
        required=True,
        description="Orders placed (not abandoned or cancelled).",
    )
    orders_last_year = fact(
        graphene.Int,
        required=True,
        description="Orders placed in the last 365 days (frequency).",
    )
    last_order_at = fact(DateTime, description="Latest order placed at.")
    days_since_last_order = fact(graphene.Int, description="Recency; null without orders.")
    tier = fact(enums.Tier, required=True, description="The tier the source system gives.")
    vip = fact(
        graphene.Boolean,
        required=True,
        description="Whether the VIP rule holds.",
    )
    vip_reasons = facts(
        graphene.String,
        required=True,
        description="Which parts of the VIP rule hold (tier, lifetime value, frequency).",
    )


class EffortInsight(graphene.ObjectType):
    """How hard the customer has had to work to get help, over the insights window."""

    score = fact(graphene.Float, required=True, description="0 (effortless) to 1.")
    level = fact(enums.Level, required=True, description="The score, read coarsely.")
    cases = fact(graphene.Int, required=True, description="Cases opened in the window, or open.")
    contacts_per_case = fact(graphene.Float, description="Contacts per case; null without cases.")
    channel_switches = fact(
        graphene.Int,
        required=True,
        description="Times a case moved to another channel.",
    )
    repeat_contacts = fact(
        graphene.Int,
        required=True,
        description="Inbound contacts on a topic already raised shortly before"
        " (repeat_contact_days, default 7).",
    )
    self_service_to_agent = fact(
        graphene.Int,
        required=True,
        description="Cases that began in self-service and needed a person.",
    )
    self_service_failures = fact(
        graphene.Int,
        required=True,
        description="Self-service contacts escalated or abandoned in 30 days.",
    )
    unanswered_questions = fact(
        graphene.Int,
        required=True,
        description="Inbound questions still unanswered (recent ones).",
    )
    avg_first_response_minutes = fact(
        graphene.Float,
        description="Mean time to a person's first response on inbound contacts.",
    )
    avg_resolution_hours = fact(graphene.Float, description="Mean time from opening to resolution.")


class Experience(graphene.ObjectType):
    """One negative experience that is not yet made good."""

    kind = fact(enums.ExperienceKind, required=True, description="What went wrong.")
    at = fact(DateTime, description="When it happened.")
    ongoing = fact(
        graphene.Boolean,
        required=True,
        description="Still going on (an open case, a parcel still late).",
    )
    label = fact(
        graphene.String,
        required=True,
        description="A few words, e.g. late delivery of …",
    )
    detail = fact(graphene.String, required=True, description="The facts, in one line.")
    about = fact(Reference, description="The record behind it.")


class RecoveryBalance(graphene.ObjectType):
    """Negative experiences weighed against positive ones (recovery_ratio, default 12:1)."""

    positives = fact(
        graphene.Int,
        required=True,
        description="Positive experiences in the window.",
    )
    negatives = fact(
        graphene.Int,
        required=True,
        description="Negative experiences in the window, and every unresolved case.",
    )
    ratio = fact(
        graphene.Int,
        required=True,
        description="Positives it takes to undo one negative.",
    )
    balance = fact(graphene.Int, required=True, description="positives - ratio * negatives.")
    recovered = fact(graphene.Boolean, required=True, description="balance ≥ 0.")
    open_negatives = facts(
        Experience,
        required=True,
        description="Negatives still ongoing or with fewer than `ratio` positives since,"
        " ongoing first, then newest first.",
    )


class SentimentPoint(graphene.ObjectType):
    """One contact's sentiment or one feedback score, on a -1 to 1 scale."""

    at = fact(DateTime, required=True, description="When.")
    score = fact(graphene.Float, required=True, description="-1 (angry) to 1 (delighted).")
    about = fact(Reference, description="The interaction or feedback.")


class SentimentTrend(graphene.ObjectType):
    """The latest sentiment points, the newer half compared with the older half."""

    direction = fact(
        enums.SentimentDirection,
        required=True,
        description="Which way it moves; UNKNOWN with fewer than sentiment_min_points.",
    )
    latest = fact(graphene.Float, description="Mean of the newer half of the points.")
    previous = fact(graphene.Float, description="Mean of the older half of the points.")
    points = facts(SentimentPoint, required=True, description="Newest first.")


class RiskFactor(graphene.ObjectType):
    """One contribution to the churn risk."""

    code = fact(enums.RiskFactorCode, required=True, description="Which factor.")
    weight = fact(
        graphene.Float, required=True, description="What it adds to the log-odds of leaving."
    )
    detail = fact(graphene.String, required=True, description="The facts behind it.")


class ChurnRisk(graphene.ObjectType):
    """How likely the customer is to leave, from the signals above and recency."""

    score = fact(
        graphene.Float,
        required=True,
        description="0 to 1: 1 / (1 + exp(-(base + the factors' weights))).",
    )
    level = fact(enums.Level, required=True, description="The score, read coarsely.")
    reasons = facts(
        graphene.String,
        required=True,
        description="The factors' details, heaviest first.",
    )
    factors = facts(RiskFactor, required=True, description="Heaviest first.")


class NextBestAction(graphene.ObjectType):
    """Something the agent should do now, and why."""

    kind = fact(enums.ActionKind, required=True, description="What to do.")
    priority = fact(graphene.Int, required=True, description="Higher first; 0 to 100.")
    reason = fact(
        graphene.String,
        required=True,
        description="The facts behind it, in one line.",
    )
    about = facts(Reference, required=True, description="The records it concerns.")
    incentive = fact(
        Money,
        description="APOLOGIZE_AND_COMPENSATE only: the suggested incentive (incentive_percent"
        " of the order concerned, else incentive_default; at most incentive_max).",
    )


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

    as_of = insight(DateTime, "asOf", required=True, description="The time they were computed for.")
    value = insight(ValueInsight, "value", required=True, description="Value and VIP status.")
    effort = insight(EffortInsight, "effort", required=True, description="Customer effort.")
    recovery = insight(
        RecoveryBalance,
        "recovery",
        required=True,
        description="Negatives against positives (default 12:1).",
    )
    sentiment = insight(SentimentTrend, "sentiment", required=True, description="Sentiment trend.")
    churn_risk = insight(ChurnRisk, "churnRisk", required=True, description="Risk of leaving.")
    next_best_actions = insight(
        graphene.List(graphene.NonNull(NextBestAction)),
        "nextBestActions",
        required=True,
        description="What to do now, highest priority first.",
    )
    shared = many(
        SharedContext,
        SHARED_FACTS,
        needs=("__now", "__t"),
        required=True,
        description="Identities and problems shared with others.",
    )
