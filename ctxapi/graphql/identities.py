"""Reads of the identity lifecycle: every customer behind an identifier, and merges."""

from __future__ import annotations

import graphene

from ctxapi.access.brands import in_brands
from ctxapi.graphql.compiler import resolve_entry
from ctxapi.graphql.customer import Customer, IdentityInput
from ctxapi.graphql.fields import Entry, entry, many, value
from ctxapi.graphql.lookup import by_identity
from ctxapi.graphql.scalars import DateTime

#: Candidates one identifier may name at most (a shared landline names a household).
MAX_CANDIDATES = 50


class CustomerCandidate(graphene.ObjectType):
    """A customer an identifier names, with that link's provenance."""

    customer = many(
        Customer, "WITH {v}.customer AS {c}", required=True, description="The customer."
    )
    source = value(
        graphene.String, "{v}.link.source", description="The system that linked the identifier."
    )
    confidence = value(
        graphene.Float,
        "{v}.link.confidence",
        description="How sure that system was that the identifier is this customer's, 0 to 1.",
    )
    linked_at = value(DateTime, "toString({v}.link.linkedAt)", description="Linked at.")


class Merge(graphene.ObjectType):
    """One merge of two customers (mergeCustomers): who asked, when, why and what moved."""

    id = value(graphene.ID, "{v}.id", required=True, description="Its id, for unmergeCustomers.")
    reason = value(graphene.String, "{v}.reason", required=True, description="Why, as given.")
    at = value(DateTime, "toString({v}.at)", required=True, description="When it was merged.")
    by = value(
        graphene.String, "{v}.keyName", required=True, description="The API key that merged."
    )
    moved_count = value(
        graphene.Int,
        "COUNT { ({v})-[:MOVED]->() }",
        required=True,
        description="How many links of the merged customer moved (identities, orders, cases,"
        " contacts …), a link the survivor had already included.",
    )
    moved_types = value(
        graphene.List(graphene.NonNull(graphene.String)),
        "COLLECT { MATCH ({v})-[{v}mv:MOVED]->() RETURN DISTINCT {v}mv.movedType AS t ORDER BY t }",
        required=True,
        description="The kinds of link that moved, e.g. IDENTIFIES, PLACED, HAD.",
    )
    undone_at = value(
        DateTime, "toString({v}.undoneAt)", description="When it was undone; null while it holds."
    )
    survivor = many(
        Customer,
        "MATCH ({c}:Customer {id: {v}.survivor}) WHERE " + in_brands("{c}"),
        description="The customer that holds everything now (or held it, once undone).",
    )
    merged = many(
        Customer,
        "MATCH ({c}:Customer {id: {v}.merged}) WHERE " + in_brands("{c}"),
        description="The customer merged away (its mergedInto is the survivor while the merge"
        " holds).",
    )


CUSTOMERS_BY_IDENTITY = Entry(
    "MATCH (:Identity {kind: $kind, value: $key})-[l:IDENTIFIES]->(c:Customer)"
    " WHERE " + in_brands("c") + " WITH c, l ORDER BY coalesce(l.confidence, 0.0) DESC, c.id"
    " LIMIT " + str(MAX_CANDIDATES) + " WITH {customer: c, link: l} AS root",
    by_identity,
)


class IdentityQueries(graphene.ObjectType):
    """Entry points of the identity lifecycle."""

    customers_by = entry(
        graphene.List(graphene.NonNull(CustomerCandidate)),
        CUSTOMERS_BY_IDENTITY,
        resolve_entry,
        required=True,
        identity=graphene.Argument(IdentityInput, required=True, description="One identifier."),
        description="Every customer of the key's brands behind an identifier (a shared family"
        " landline names each), most confident link first (then by id), with each link's"
        f" source and confidence; at most {MAX_CANDIDATES}. Empty when nobody has it.",
    )
