"""The customer and the one-query context around them; the entry points that find them."""

from __future__ import annotations

import re
from typing import Any, LiteralString

import graphene
from graphql import GraphQLResolveInfo

from ctxapi.graphql.compiler import compile_field, shape
from ctxapi.graphql.errors import ClientError
from ctxapi.graphql.feedback import Feedback
from ctxapi.graphql.insights import Insights
from ctxapi.graphql.interaction import Case, Interaction
from ctxapi.graphql.order import Order
from ctxapi.graphql.scalars import DateTime, Money, connection
from ctxapi.identity import IdentityError, normalize


class Brand(graphene.ObjectType):
    """A brand of the retailer."""

    id = graphene.ID(required=True, description="External id.")
    name = graphene.String(required=True, description="Brand name.")


class Identity(graphene.ObjectType):
    """An identifier of the customer on one channel, and where the link came from."""

    kind = graphene.String(
        required=True, description="email, phone, social, chat, messaging or external."
    )
    value = graphene.String(required=True, description="Normalized value, e.g. +14155550100.")
    source = graphene.String(description="The system that linked it.")
    confidence = graphene.Float(description="How sure that system was, 0 to 1.")
    linked_at = graphene.Field(DateTime, description="Linked at.")
    shared_with = graphene.Int(
        required=True,
        description="How many OTHER customers it also identifies (a family landline): when"
        " above 0, confirm who is speaking before acting.",
    )


class Address(graphene.ObjectType):
    """A postal address of the customer."""

    id = graphene.ID(required=True, description="External id.")
    kind = graphene.String(required=True, description="shipping or billing.")
    line1 = graphene.String(required=True, description="First line.")
    line2 = graphene.String(description="Second line.")
    city = graphene.String(required=True, description="City.")
    postal_code = graphene.String(description="Postal code.")
    region = graphene.String(description="Region or state.")
    country = graphene.String(required=True, description="ISO 3166 country code.")


class CustomerStats(graphene.ObjectType):
    """Figures over the customer's whole history (abandoned and cancelled orders excluded)."""

    order_count = graphene.Int(required=True, description="Orders placed.")
    lifetime_value = graphene.Field(Money, description="Order totals less refunds paid.")
    average_order_value = graphene.Field(Money, description="Mean order total.")
    first_order_at = graphene.Field(DateTime, description="First order placed at.")
    last_order_at = graphene.Field(DateTime, description="Latest order placed at.")
    last_contact_at = graphene.Field(DateTime, description="Latest interaction at.")
    open_cases = graphene.Int(required=True, description="Cases open or pending.")


class TimelineEvent(graphene.ObjectType):
    """One thing that happened, for the merged history."""

    kind = graphene.String(
        required=True, description="ORDER, DELIVERY, RETURN, INTERACTION or FEEDBACK."
    )
    at = graphene.Field(DateTime, required=True, description="When.")
    id = graphene.ID(required=True, description="Id of the order, shipment, return, … behind it.")
    summary = graphene.String(required=True, description="One line for the agent.")


OrderConnection = connection(Order, "order")
InteractionConnection = connection(Interaction, "interaction")
FeedbackConnection = connection(Feedback, "feedback answer")
TimelineEventConnection = connection(TimelineEvent, "timeline event")

_FIRST = "How many to return (0 to 100)."
_AFTER = "Cursor (endCursor of the previous page) to continue after."


class Customer(graphene.ObjectType):
    """A customer and everything an agent needs to know about them."""

    id = graphene.ID(required=True, description="External id.")
    name = graphene.String(required=True, description="Full name.")
    tier = graphene.String(required=True, description="standard, silver, gold or vip.")
    locale = graphene.String(description="Preferred locale, e.g. de-DE.")
    created_at = graphene.Field(DateTime, description="Customer since.")
    brand = graphene.Field(Brand, description="The brand they are a customer of.")
    identities = graphene.List(
        graphene.NonNull(Identity),
        required=True,
        description="Every identifier linked to them, most confident first.",
    )
    addresses = graphene.List(
        graphene.NonNull(Address), required=True, description="Their postal addresses."
    )
    orders = graphene.Field(
        OrderConnection,
        required=True,
        first=graphene.Int(default_value=10, description=_FIRST),
        after=graphene.String(description=_AFTER),
        status=graphene.String(description="Only orders with this status."),
        description="Their orders, newest first.",
    )
    interactions = graphene.Field(
        InteractionConnection,
        required=True,
        first=graphene.Int(default_value=10, description=_FIRST),
        after=graphene.String(description=_AFTER),
        channels=graphene.List(graphene.NonNull(graphene.String), description="Only these."),
        since=graphene.Argument(DateTime, description="Only contacts at or after this."),
        description="Their contacts on every channel, newest first.",
    )
    cases = graphene.List(
        graphene.NonNull(Case),
        required=True,
        status=graphene.List(
            graphene.NonNull(graphene.String), description="Only cases with these statuses."
        ),
        description="Their cases, newest first.",
    )
    feedback = graphene.Field(
        FeedbackConnection,
        required=True,
        first=graphene.Int(default_value=10, description=_FIRST),
        after=graphene.String(description=_AFTER),
        kinds=graphene.List(graphene.NonNull(graphene.String), description="csat, nps, …"),
        description="What they told us, newest first.",
    )
    timeline = graphene.Field(
        TimelineEventConnection,
        required=True,
        first=graphene.Int(default_value=20, description=_FIRST),
        after=graphene.String(description=_AFTER),
        kinds=graphene.List(
            graphene.NonNull(graphene.String),
            description="Only these: ORDER, DELIVERY, RETURN, INTERACTION, FEEDBACK.",
        ),
        description="Orders, deliveries, returns, contacts and feedback merged, newest first.",
    )
    stats = graphene.Field(CustomerStats, required=True, description="Figures over all time.")
    insights = graphene.Field(
        Insights,
        required=True,
        description="Signals and next best actions (docs/insights.md), in the same round trip.",
    )


class IdentityInput(graphene.InputObjectType):
    """Any one identifier, spelled as the agent has it: ctxapi normalizes it like the loader."""

    email = graphene.String(description="An email address.")
    phone = graphene.String(description="A phone number, with or without country code.")
    region = graphene.String(description="Region for a phone number without country code.")
    handle = graphene.String(description="A social handle as network:handle, e.g. x:@ann.")
    chat = graphene.String(description="A chat id as app:id.")
    messaging = graphene.String(description="A messaging id as app:id, e.g. whatsapp:+34…")
    external_id = graphene.String(description="An id in another system as system:id.")


class SearchHit(graphene.ObjectType):
    """A customer found by search, with the full-text score."""

    score = graphene.Float(required=True, description="Relevance; higher is better.")
    customer = graphene.Field(Customer, required=True, description="The customer found.")


_INPUT_KINDS = {
    "email": "email",
    "phone": "phone",
    "handle": "social",
    "chat": "chat",
    "messaging": "messaging",
    "external_id": "external",
}

BY_ID: LiteralString = "MATCH (root:Customer {id: $key})"
BY_IDENTITY: LiteralString = (
    "MATCH (:Identity {kind: $kind, value: $key})-[:IDENTIFIES]->(root:Customer)"
)
ORDER_BY_NUMBER: LiteralString = "MATCH (root:Order {number: $key})"
SEARCH: LiteralString = (
    "CALL db.index.fulltext.queryNodes('customer_search', $key) YIELD node, score"
    " WITH CASE WHEN node:Customer THEN [node]"
    " ELSE [(node)-[:IDENTIFIES]->(c:Customer) | c] END AS found, score"
    " UNWIND found AS root WITH root, max(score) AS score"
    " ORDER BY score DESC, root.id LIMIT $limit"
)
_LUCENE_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~*?:\\/&|])')


def run(info: GraphQLResolveInfo, type_name: str, seek: str, **params: Any) -> list[Any]:
    """Compile the field, run it in one round trip, shape every row it returns."""
    compiled = compile_field(info, type_name, seek)
    rows = info.context["db"].read(compiled.text, compiled.params | params)
    return [shape(row["result"], compiled.shape) for row in rows]


def lucene_query(text: str) -> str:
    """Every word of ``text`` as an escaped prefix term, all required."""
    words = [_LUCENE_SPECIAL.sub(r"\\\1", word.lower()) for word in text.split()]
    if not words:
        raise ClientError("`query` needs at least one word")
    return " AND ".join(word + "*" for word in words)


class CustomerQueries(graphene.ObjectType):
    """Entry points that find a customer, or an order."""

    customer = graphene.Field(
        Customer,
        id=graphene.ID(required=True, description="The customer's external id."),
        description="A customer by id; null when there is none.",
    )
    customer_by = graphene.Field(
        Customer,
        identity=graphene.Argument(IdentityInput, required=True, description="One identifier."),
        description="The customer behind any identifier; null when nobody has it. An"
        " identifier shared by several customers is a BAD_USER_INPUT error naming them.",
    )
    order = graphene.Field(
        Order,
        number=graphene.String(required=True, description="The order number."),
        description="An order by its number; null when there is none.",
    )
    search_customers = graphene.List(
        graphene.NonNull(SearchHit),
        required=True,
        query=graphene.String(required=True, description="Words of a name, email or phone."),
        first=graphene.Int(default_value=10, description="How many (1 to 100)."),
        description="Customers whose name, email or phone matches, best first.",
    )

    @staticmethod
    def resolve_customer(_root: Any, info: GraphQLResolveInfo, id: str) -> Any:
        found = run(info, "Customer", BY_ID, key=id)
        return found[0] if found else None

    @staticmethod
    def resolve_customer_by(_root: Any, info: GraphQLResolveInfo, identity: Any) -> Any:
        given = {k: v for k, v in identity.items() if v is not None and k in _INPUT_KINDS}
        if len(given) != 1:
            raise ClientError(
                "give exactly one of " + ", ".join(_to_camel(k) for k in _INPUT_KINDS)
            )
        [(field, value)] = given.items()
        kind = _INPUT_KINDS[field]
        region = identity.get("region") or info.context["settings"].phone_region
        try:
            normalized = normalize(kind, value, region=region)
        except IdentityError as error:
            raise ClientError(f"{_to_camel(field)}: {error}") from None
        found = run(info, "Customer", BY_IDENTITY, key=normalized, kind=kind)
        if len(found) > 1:
            raise ClientError(
                f"{kind} {normalized} identifies {len(found)} customers; ask who is speaking"
                " and query customer(id:) instead"
            )
        return found[0] if found else None

    @staticmethod
    def resolve_order(_root: Any, info: GraphQLResolveInfo, number: str) -> Any:
        found = run(info, "Order", ORDER_BY_NUMBER, key=number)
        return found[0] if found else None

    @staticmethod
    def resolve_search_customers(
        _root: Any, info: GraphQLResolveInfo, query: str, first: int
    ) -> list[Any]:
        if not 1 <= first <= 100:
            raise ClientError("`first` must be between 1 and 100")
        return run(info, "SearchHit", SEARCH, key=lucene_query(query), limit=first)


def _to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
