"""The identity lifecycle: link and unlink identifiers, merge two customers, undo a merge.

Links are written through the loader's write path (``ctxapi.store.identities``); merges
through ``ctxapi.store.merging``, which records each one as a ``(:Merge)`` node that
``unmergeCustomers`` undoes exactly. Nothing merges on its own: a shared identifier is shown
as shared (``customersBy``), and only ``mergeCustomers`` merges. All need the scope
``identities:manage``.
"""

from __future__ import annotations

from typing import Any

import graphene
from neo4j import ManagedTransaction

from ctxapi.access.brands import in_brands
from ctxapi.access.keys import Scope
from ctxapi.graphql.compiler import resolve_written
from ctxapi.graphql.contact_mutations import WRITTEN_CUSTOMER, identity_of
from ctxapi.graphql.context import Context
from ctxapi.graphql.customer import Customer, IdentityInput
from ctxapi.graphql.fields import Written, written
from ctxapi.graphql.identities import Merge
from ctxapi.graphql.mutation import Payload, idempotency_key, mutation
from ctxapi.store import identities, merging
from ctxapi.store.events import Event
from ctxapi.store.ledger import Done, Work
from ctxapi.store.problems import ProblemCode, refused

#: The longest ``source`` of a link and ``reason`` of a merge.
MAX_SOURCE = 100
MAX_REASON = 500

WRITTEN_MERGE = Written(
    "MATCH (root:Merge {id: $key}) WHERE EXISTS {"
    " MATCH (mc:Customer {id: root.survivor}) WHERE " + in_brands("mc") + " }",
    lambda ids, _: {"key": ids["id"]},
)


def _identity() -> graphene.Field:
    return graphene.Field(
        IdentityInput,
        required=True,
        description="The identifier, spelled as the agent has it; normalized like the loader's.",
    )


class LinkIdentityInput(graphene.InputObjectType):
    """An identifier to link to a customer, and where the link comes from."""

    idempotency_key = idempotency_key()
    customer_id = graphene.ID(required=True, description="The customer.")
    identity = _identity()
    source = graphene.String(
        default_value="agent",
        description=f"Who or what vouches for the link, 1 to {MAX_SOURCE} characters;"
        " default `agent`.",
    )
    confidence = graphene.Float(
        default_value=1.0, description="How sure the source is, 0 to 1; default 1."
    )


class UnlinkIdentityInput(graphene.InputObjectType):
    """An identifier to take off a customer."""

    idempotency_key = idempotency_key()
    customer_id = graphene.ID(required=True, description="The customer.")
    identity = _identity()


class MergeCustomersInput(graphene.InputObjectType):
    """Two records of one person: the one to keep and the one to merge into it."""

    idempotency_key = idempotency_key()
    survivor_id = graphene.ID(required=True, description="The customer that stays.")
    merged_id = graphene.ID(
        required=True,
        description="The customer merged away: everything of theirs moves to the survivor.",
    )
    reason = graphene.String(
        required=True, description=f"Why, for whoever reads the merge later; 1 to {MAX_REASON}."
    )


class UnmergeCustomersInput(graphene.InputObjectType):
    """A merge to undo."""

    idempotency_key = idempotency_key()
    merge_id = graphene.ID(required=True, description="The merge's id (Merge.id).")


class LinkIdentityPayload(Payload):
    """The customer with the identifier linked."""

    customer = written(
        Customer, WRITTEN_CUSTOMER, resolve_written, description="The customer, after the write."
    )


class UnlinkIdentityPayload(Payload):
    """The customer without the identifier."""

    customer = written(
        Customer, WRITTEN_CUSTOMER, resolve_written, description="The customer, after the write."
    )


class MergeCustomersPayload(Payload):
    """The merge and both customers after it."""

    merge = written(Merge, WRITTEN_MERGE, resolve_written, description="The merge recorded.")
    survivor = written(
        Customer, WRITTEN_CUSTOMER, resolve_written, description="The survivor, holding all."
    )
    merged = written(
        Customer,
        WRITTEN_CUSTOMER,
        resolve_written,
        description="The customer merged away: nothing left but its own fields and mergedInto.",
    )


class UnmergeCustomersPayload(Payload):
    """The merge undone and both customers as they are again."""

    merge = written(Merge, WRITTEN_MERGE, resolve_written, description="The merge, undone.")
    survivor = written(
        Customer, WRITTEN_CUSTOMER, resolve_written, description="The survivor, after it."
    )
    merged = written(
        Customer, WRITTEN_CUSTOMER, resolve_written, description="The customer restored."
    )


def _text(data: dict[str, Any], name: str, field: str, longest: int) -> str:
    """The input's text ``name``, trimmed; Refused when empty or too long."""
    text = str(data.get(name) or "").strip()
    if not text:
        raise refused(field, f"give {field}", ProblemCode.REQUIRED)
    if len(text) > longest:
        message = f"{field} is at most {longest} characters"
        raise refused(field, message, ProblemCode.INVALID)
    return text


def link_identity(data: dict[str, Any], context: Context) -> Work:
    region = context.settings.phone_region
    identity = identity_of(data, region)
    assert identity is not None  # the input requires it
    provenance = {
        "source": _text(data, "source", "source", MAX_SOURCE),
        "confidence": data.get("confidence", 1.0),
        "linkedAt": context.settings.now(),
    }

    def work(tx: ManagedTransaction) -> Done:
        brands = context.access.brands
        cid = identities.link(
            tx, brands, data["customer_id"], identity, provenance, phone_region=region
        )
        return Done({"customer": {"id": cid}}, Event.IDENTITY_LINKED, [cid])

    return work


def unlink_identity(data: dict[str, Any], context: Context) -> Work:
    identity = identity_of(data, context.settings.phone_region)
    assert identity is not None  # the input requires it

    def work(tx: ManagedTransaction) -> Done:
        cid = identities.unlink(tx, context.access.brands, data["customer_id"], identity)
        return Done({"customer": {"id": cid}}, Event.IDENTITY_UNLINKED, [cid])

    return work


def _who(context: Context) -> dict[str, Any]:
    return {
        "keyId": context.access.key_id,
        "keyName": context.access.name,
        "requestId": context.request_id,
        "at": context.settings.now(),
    }


def merge_customers(data: dict[str, Any], context: Context) -> Work:
    survivor, merged = data["survivor_id"], data["merged_id"]
    if survivor == merged:
        message = "a customer cannot be merged into itself"
        raise refused("mergedId", message, ProblemCode.CONFLICT)
    who = _who(context) | {"reason": _text(data, "reason", "reason", MAX_REASON)}

    def work(tx: ManagedTransaction) -> Done:
        merge_id = merging.merge(tx, context.access.brands, survivor, merged, who)
        ids = {"merge": {"id": merge_id}, "survivor": {"id": survivor}, "merged": {"id": merged}}
        return Done(ids, Event.CUSTOMER_MERGED, sorted({survivor, merged}))

    return work


def unmerge_customers(data: dict[str, Any], context: Context) -> Work:
    merge_id = data["merge_id"]
    who = _who(context)

    def work(tx: ManagedTransaction) -> Done:
        survivor, merged = merging.unmerge(tx, context.access.brands, merge_id, who)
        ids = {"merge": {"id": merge_id}, "survivor": {"id": survivor}, "merged": {"id": merged}}
        return Done(ids, Event.CUSTOMER_UNMERGED, sorted({survivor, merged}))

    return work


class IdentityMutations(graphene.ObjectType):
    """The identity lifecycle: identifiers linked and unlinked, customers merged and unmerged."""

    link_identity = mutation(
        LinkIdentityPayload,
        LinkIdentityInput,
        link_identity,
        scope=Scope.IDENTITIES_MANAGE,
        description="Link an identifier to a customer, with its source and confidence (an"
        " existing link of the pair is rewritten). An identifier others have becomes shared:"
        " linking never merges customers.",
    )
    unlink_identity = mutation(
        UnlinkIdentityPayload,
        UnlinkIdentityInput,
        unlink_identity,
        scope=Scope.IDENTITIES_MANAGE,
        description="Take one identifier off a customer; the identifier is forgotten when no"
        " customer is left on it.",
    )
    merge_customers = mutation(
        MergeCustomersPayload,
        MergeCustomersInput,
        merge_customers,
        scope=Scope.IDENTITIES_MANAGE,
        description="Merge two customers of one brand: everything of the merged customer"
        " (identifiers, addresses, orders, cases, contacts, feedback …) moves to the survivor,"
        " and the merge is recorded (who, when, why, what moved) so that unmergeCustomers can"
        " undo it. The merged customer's id stays readable: customer(id:) answers it with"
        " mergedInto, the survivor.",
    )
    unmerge_customers = mutation(
        UnmergeCustomersPayload,
        UnmergeCustomersInput,
        unmerge_customers,
        scope=Scope.IDENTITIES_MANAGE,
        description="Undo a merge: what moved goes back to the merged customer, who is a"
        " customer again; what the survivor got after the merge stays with the survivor.",
    )
