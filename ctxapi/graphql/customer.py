"""The customer and the one-query context around them; the entry points that find them."""

from __future__ import annotations

from typing import LiteralString

import graphene

from ctxapi.access.brands import in_brands, of_brands
from ctxapi.access.masking import Pii
from ctxapi.graphql import enums, fields
from ctxapi.graphql.compiler import resolve_entry
from ctxapi.graphql.feedback import Feedback
from ctxapi.graphql.fields import Entry, entry, many, value
from ctxapi.graphql.insights import Insights
from ctxapi.graphql.interaction import Case, Interaction
from ctxapi.graphql.lookup import by_identity, search
from ctxapi.graphql.order import Order
from ctxapi.graphql.scalars import DateTime, Money, connection
from ctxapi.model import OPEN_CASES


class Brand(graphene.ObjectType):
    """A brand of the retailer."""

    id = value(graphene.ID, "{v}.id", required=True, description="External id.")
    name = value(graphene.String, "{v}.name", required=True, description="Brand name.")


class Identity(graphene.ObjectType):
    """An identifier of the customer on one channel, and where the link came from."""

    kind = value(enums.IdentityKind, "{v}.kind", required=True, description="Its kind.")
    value = value(
        graphene.String,
        "{v}.value",
        pii=Pii.IDENTIFIER,
        required=True,
        description="Normalized value, e.g. +14155550100; masked (+1 ••• ••• 0100) without"
        " the pii:read scope.",
    )
    source = fields.value(graphene.String, "{v}_l.source", description="The system that linked it.")
    confidence = fields.value(
        graphene.Float, "{v}_l.confidence", description="How sure that system was, 0 to 1."
    )
    linked_at = fields.value(DateTime, "toString({v}_l.linkedAt)", description="Linked at.")
    shared_with = fields.value(
        graphene.Int,
        "COUNT { ({v})-[:IDENTIFIES]->({v}who:Customer) WHERE " + in_brands("{v}who") + " } - 1",
        required=True,
        description="How many OTHER customers it also identifies (a family landline): when"
        " above 0, confirm who is speaking before acting.",
    )


class Address(graphene.ObjectType):
    """A postal address of the customer."""

    id = value(graphene.ID, "{v}.id", required=True, description="External id.")
    kind = value(enums.AddressKind, "{v}.kind", required=True, description="What it is for.")
    line1 = value(
        graphene.String,
        "{v}.line1",
        pii=Pii.STREET,
        required=True,
        description="First line; ••• without the pii:read scope.",
    )
    line2 = value(
        graphene.String,
        "{v}.line2",
        pii=Pii.STREET,
        description="Second line; ••• without the pii:read scope.",
    )
    city = value(graphene.String, "{v}.city", required=True, description="City.")
    postal_code = value(
        graphene.String,
        "{v}.postalCode",
        pii=Pii.POSTAL_CODE,
        description="Postal code; its first two characters without the pii:read scope.",
    )
    region = value(graphene.String, "{v}.region", description="Region or state.")
    country = value(
        graphene.String, "{v}.country", required=True, description="ISO 3166 country code."
    )


# No aggregate functions here: inside a map projection Neo4j 5.26 takes them for the outer
# RETURN's, so sums use reduce() over a COLLECT and extremes use ORDER BY … LIMIT 1.
_COUNTED: LiteralString = "({v})-[:PLACED]->(o:Order) WHERE o.status IN $__counted"


class CustomerStats(graphene.ObjectType):
    """Figures over the customer's whole history (abandoned and cancelled orders excluded)."""

    order_count = value(
        graphene.Int, "COUNT { " + _COUNTED + " }", required=True, description="Orders placed."
    )
    lifetime_value = value(
        Money,
        "[reduce(total = 0, x IN COLLECT { MATCH " + _COUNTED + " RETURN o.totalMinor }"
        " | total + x)"
        " - reduce(total = 0, x IN COLLECT { MATCH ({v})-[:PLACED]->(:Order)<-[:RETURNS]-"
        "(r:Return) WHERE r.status = 'refunded' RETURN r.refundMinor } | total + x),"
        " COLLECT { MATCH ({v})-[:PLACED]->(o:Order) RETURN o.currency LIMIT 1 }[0]]",
        description="Order totals less refunds paid.",
    )
    average_order_value = value(
        Money,
        "CASE WHEN COUNT { " + _COUNTED + " } = 0"
        " THEN null ELSE [toInteger(round(toFloat(reduce(total = 0, x IN COLLECT {"
        " MATCH " + _COUNTED + " RETURN o.totalMinor }"
        " | total + x)) / COUNT { " + _COUNTED + " })),"
        " COLLECT { MATCH ({v})-[:PLACED]->(o:Order) RETURN o.currency LIMIT 1 }[0]] END",
        description="Mean order total.",
    )
    first_order_at = value(
        DateTime,
        "toString(COLLECT { MATCH " + _COUNTED + " WITH o ORDER BY o.placedAt LIMIT 1"
        " RETURN o.placedAt }[0])",
        description="First order placed at.",
    )
    last_order_at = value(
        DateTime,
        "toString(COLLECT { MATCH " + _COUNTED + " WITH o ORDER BY o.placedAt DESC LIMIT 1"
        " RETURN o.placedAt }[0])",
        description="Latest order placed at.",
    )
    last_contact_at = value(
        DateTime,
        "toString(COLLECT { MATCH ({v})-[:HAD]->(i:Interaction)"
        " WITH i ORDER BY i.occurredAt DESC LIMIT 1 RETURN i.occurredAt }[0])",
        description="Latest interaction at.",
    )
    open_cases = value(
        graphene.Int,
        "COUNT { ({v})-[:OPENED]->(k:Case) WHERE k.status IN " + OPEN_CASES + " }",
        required=True,
        description="Cases open or pending.",
    )


class TimelineEvent(graphene.ObjectType):
    """One thing that happened, for the merged history."""

    kind = value(enums.TimelineKind, "{v}.kind", required=True, description="What happened.")
    at = value(DateTime, "toString({v}.at)", required=True, description="When.")
    id = value(
        graphene.ID,
        "{v}.id",
        required=True,
        description="Id of the order, shipment, return, … behind it.",
    )
    summary = value(
        graphene.String, "{v}.summary", required=True, description="One line for the agent."
    )


OrderConnection = connection(Order, "order")
InteractionConnection = connection(Interaction, "interaction")
FeedbackConnection = connection(Feedback, "feedback answer")
TimelineEventConnection = connection(TimelineEvent, "timeline event")

_FIRST = "How many to return (0 to 100)."
_AFTER = "Cursor (endCursor of the previous page) to continue after."

_TIMELINE: LiteralString = (
    "CALL ({v}) {"
    " MATCH ({v})-[:PLACED]->(o:Order)"
    " RETURN 'ORDER' AS kind, o.placedAt AS at, o.id AS id,"
    " 'Order ' + o.number + ' ' + o.status AS summary"
    " UNION MATCH ({v})-[:PLACED]->(:Order)-[:SHIPPED_AS]->(s:Shipment)"
    " WHERE s.deliveredAt IS NOT NULL"
    " RETURN 'DELIVERY' AS kind, s.deliveredAt AS at, s.id AS id,"
    " s.carrier + ' delivered' + CASE s.condition WHEN 'damaged' THEN ' (damaged)'"
    " ELSE '' END AS summary"
    " UNION MATCH ({v})-[:PLACED]->(:Order)<-[:RETURNS]-(r:Return)"
    " RETURN 'RETURN' AS kind, r.requestedAt AS at, r.id AS id,"
    " 'Return ' + r.status + ': ' + r.reason AS summary"
    " UNION MATCH ({v})-[:HAD]->(i:Interaction)"
    " RETURN 'INTERACTION' AS kind, i.occurredAt AS at, i.id AS id,"
    " i.channel + ': ' + i.summary AS summary"
    " UNION MATCH ({v})-[:GAVE]->(f:Feedback)"
    " RETURN 'FEEDBACK' AS kind, f.submittedAt AS at, f.id AS id,"
    " toUpper(f.kind) + ' ' + toString(f.score) AS summary"
    " } WITH kind, at, id, summary, {kind: kind, at: at, id: id, summary: summary} AS {c}"
)


class Customer(graphene.ObjectType):
    """A customer and everything an agent needs to know about them."""

    id = value(graphene.ID, "{v}.id", required=True, description="External id.")
    name = value(graphene.String, "{v}.name", required=True, description="Full name.")
    tier = value(enums.Tier, "{v}.tier", required=True, description="Loyalty tier.")
    locale = value(graphene.String, "{v}.locale", description="Preferred locale, e.g. de-DE.")
    created_at = value(DateTime, "toString({v}.createdAt)", description="Customer since.")
    brand = many(
        Brand,
        "MATCH ({v})-[:OF_BRAND]->({c}:Brand)",
        description="The brand they are a customer of.",
    )
    identities = many(
        graphene.List(graphene.NonNull(Identity)),
        "MATCH ({c}:Identity)-[{c}_l:IDENTIFIES]->({v})",
        order=("{c}_l.confidence", "{c}.value"),
        binds=("l",),
        required=True,
        description="Every identifier linked to them, most confident first.",
    )
    addresses = many(
        graphene.List(graphene.NonNull(Address)),
        "MATCH ({v})-[{c}_l:LIVES_AT]->({c}:Address)",
        order=("{c}.id", "{c}.id"),
        binds=("l",),
        ascending=True,
        required=True,
        description="Their postal addresses.",
    )
    orders = many(
        OrderConnection,
        "MATCH ({v})-[:PLACED]->({c}:Order)",
        order=("{c}.placedAt", "{c}.id"),
        filters={"status": "{c}.status = {p}"},
        required=True,
        first=graphene.Int(default_value=10, description=_FIRST),
        after=graphene.String(description=_AFTER),
        status=graphene.Argument(enums.OrderStatus, description="Only orders with this status."),
        description="Their orders, newest first.",
    )
    interactions = many(
        InteractionConnection,
        "MATCH ({v})-[:HAD]->({c}:Interaction)",
        order=("{c}.occurredAt", "{c}.id"),
        filters={"channels": "{c}.channel IN {p}", "since": "{c}.occurredAt >= datetime({p})"},
        required=True,
        first=graphene.Int(default_value=10, description=_FIRST),
        after=graphene.String(description=_AFTER),
        channels=graphene.List(graphene.NonNull(enums.Channel), description="Only these."),
        since=graphene.Argument(DateTime, description="Only contacts at or after this."),
        description="Their contacts on every channel, newest first.",
    )
    notes = many(
        graphene.List(graphene.NonNull("ctxapi.graphql.note.Note")),
        "MATCH ({v})-[:HAS_NOTE]->({c}:Note)",
        order=("{c}.writtenAt", "{c}.id"),
        required=True,
        description="Notes agents wrote on their file (addNote), newest first.",
    )
    cases = many(
        graphene.List(graphene.NonNull(Case)),
        "MATCH ({v})-[:OPENED]->({c}:Case)",
        order=("{c}.openedAt", "{c}.id"),
        filters={"status": "{c}.status IN {p}"},
        required=True,
        status=graphene.List(
            graphene.NonNull(enums.CaseStatus), description="Only cases with these statuses."
        ),
        description="Their cases, newest first.",
    )
    feedback = many(
        FeedbackConnection,
        "MATCH ({v})-[:GAVE]->({c}:Feedback)",
        order=("{c}.submittedAt", "{c}.id"),
        filters={"kinds": "{c}.kind IN {p}"},
        required=True,
        first=graphene.Int(default_value=10, description=_FIRST),
        after=graphene.String(description=_AFTER),
        kinds=graphene.List(graphene.NonNull(enums.FeedbackKind), description="Only these."),
        description="What they told us, newest first.",
    )
    timeline = many(
        TimelineEventConnection,
        _TIMELINE,
        order=("{c}.at", "{c}.id"),
        filters={"kinds": "{c}.kind IN {p}"},
        required=True,
        first=graphene.Int(default_value=20, description=_FIRST),
        after=graphene.String(description=_AFTER),
        kinds=graphene.List(graphene.NonNull(enums.TimelineKind), description="Only these."),
        description="Orders, deliveries, returns, contacts and feedback merged, newest first.",
    )
    stats = many(
        CustomerStats, "WITH {v} AS {c}", required=True, description="Figures over all time."
    )
    insights = many(
        Insights,
        "WITH {v} AS {c}",
        required=True,
        description="Signals and next best actions (docs/insights.md), in the same round trip.",
    )
    merged_into = many(
        lambda: Customer,
        "MATCH ({v})-[:MERGED_INTO]->({c}:Customer) WHERE " + in_brands("{c}"),
        description="The customer this one was merged into (mergeCustomers), who now holds"
        " everything that was theirs; null unless this customer was merged away.",
    )
    merges = many(
        graphene.List(graphene.NonNull("ctxapi.graphql.identities.Merge")),
        "MATCH ({c}:Merge) WHERE {c}.survivor = {v}.id OR {c}.merged = {v}.id",
        order=("{c}.at", "{c}.id"),
        required=True,
        description="The merges this customer took part in, as survivor or merged away, newest"
        " first, undone ones too (undoneAt): a merge's id is what unmergeCustomers takes.",
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

    score = value(
        graphene.Float, "rootScore", required=True, description="Relevance; higher is better."
    )
    customer = many(Customer, "WITH {v} AS {c}", required=True, description="The customer found.")


BY_ID = Entry(
    "MATCH (root:Customer {id: $key}) WHERE " + in_brands("root"),
    lambda arguments, _: {"key": arguments["id"]},
)
BY_IDENTITY = Entry(
    "MATCH (:Identity {kind: $kind, value: $key})-[:IDENTIFIES]->(root:Customer)"
    " WHERE " + in_brands("root") + " WITH root ORDER BY root.id LIMIT 11",
    by_identity,
    ambiguous=lambda params, ids: (
        f"this {params['kind']} identifies "
        + (
            f"{len(ids)} customers ({', '.join(ids)})"
            if len(ids) <= 10
            else f"more than 10 customers ({', '.join(ids[:10])} …)"
        )
        + "; ask who is speaking and query customer(id:) instead (customersBy lists them)"
    ),
)
ORDER_BY_NUMBER = Entry(
    "MATCH (root:Order {number: $key}) WHERE " + of_brands("(root)<-[:PLACED]-()", "rootbrand"),
    lambda arguments, _: {"key": arguments["number"]},
)
#: A pasted identifier or order number is found exactly (and first) besides the words.
EXACT_SCORE = 1000.0
SEARCH = Entry(
    "CALL () {"
    " MATCH (:Identity {kind: 'email', value: $email})-[:IDENTIFIES]->(root:Customer)"
    " RETURN root, 1000.0 AS score"
    " UNION MATCH (:Identity {kind: 'phone', value: $phone})-[:IDENTIFIES]->(root:Customer)"
    " RETURN root, 1000.0 AS score"
    " UNION MATCH (:Order {number: $number})<-[:PLACED]-(root:Customer)"
    " RETURN root, 1000.0 AS score"
    " UNION CALL db.index.fulltext.queryNodes('customer_search', $key) YIELD node, score"
    # Words match identifiers' values only for a key that may read them: prefix after prefix
    # would spell out a masked phone number or email.
    " UNWIND CASE WHEN node:Customer THEN [node]"
    " WHEN $__pii THEN [(node)-[:IDENTIFIES]->(c:Customer) | c] ELSE [] END AS root"
    " RETURN root, score"
    # rootScore: a name no fragment under the hit binds (insights bind their own score)
    " } WITH root, max(score) AS rootScore WHERE NOT root:Merged AND " + in_brands("root") + ""
    " WITH root, rootScore ORDER BY rootScore DESC, root.id LIMIT $limit",
    search,
)
if str(EXACT_SCORE) not in SEARCH.seek:
    raise ValueError("EXACT_SCORE is out of step with SEARCH")


class CustomerQueries(graphene.ObjectType):
    """Entry points that find a customer, or an order."""

    customer = entry(
        Customer,
        BY_ID,
        resolve_entry,
        id=graphene.ID(required=True, description="The customer's external id."),
        description="A customer by id; null when there is none.",
    )
    customer_by = entry(
        Customer,
        BY_IDENTITY,
        resolve_entry,
        identity=graphene.Argument(IdentityInput, required=True, description="One identifier."),
        description="The customer behind any identifier; null when nobody has it. An"
        " identifier shared by several customers is a BAD_USER_INPUT error naming their ids"
        " (never the identifier): customersBy lists them.",
    )
    order = entry(
        Order,
        ORDER_BY_NUMBER,
        resolve_entry,
        number=graphene.String(required=True, description="The order number."),
        description="An order by its number; null when there is none.",
    )
    search_customers = entry(
        graphene.List(graphene.NonNull(SearchHit)),
        SEARCH,
        resolve_entry,
        required=True,
        query=graphene.String(
            required=True,
            description="Words of a name, email or phone, or a whole email, phone number (any"
            " spelling) or order number.",
        ),
        first=graphene.Int(default_value=10, description="How many (1 to 100)."),
        description="Customers whose name, email or phone matches, best first; an exact email,"
        " phone number or order number scores 1000 and comes first.",
    )
