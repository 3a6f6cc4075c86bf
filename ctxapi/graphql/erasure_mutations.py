"""Erasure (GDPR Art. 17): ``eraseCustomer``, the API side of ``ctxapi.store.erasure``.

The payload is the erasure's receipt: counts and ids, never personal data, and never the new
ids of what was kept (they would link it back). Erasing an erased customer again with a new
idempotency key is NOT_FOUND, as for a customer that never was: to every read and write, an
erased customer does not exist.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import graphene
from neo4j import ManagedTransaction

from ctxapi.access.keys import Scope
from ctxapi.graphql.context import Context
from ctxapi.graphql.errors import ClientError, ErrorCode
from ctxapi.graphql.mutation import Payload, idempotency_key, mutation
from ctxapi.graphql.scalars import DateTime
from ctxapi.store.erasure import Erasure as ErasureRequest
from ctxapi.store.erasure import checked_reason, erase, zulu
from ctxapi.store.ledger import Done, Work
from ctxapi.store.tombstones import PepperError, Tombstones

log = logging.getLogger(__name__)


def _counted(what: str) -> graphene.Int:
    return graphene.Int(required=True, description=what)


class ErasureCounts(graphene.ObjectType):
    """How many of each kind of record an erasure removed, or kept de-identified."""

    identities = _counted(
        "Identifiers. Removed: those only this customer had (deleted). Kept: those shared with"
        " other customers (a family landline), which stay theirs and are no longer this"
        " customer's."
    )
    addresses = _counted("Postal addresses (always removed).")
    notes = _counted("Notes (always removed).")
    orders = _counted("Orders with their lines.")
    shipments = _counted("Parcels of those orders.")
    returns = _counted("Returns of those orders.")
    cases = _counted("Cases.")
    interactions = _counted("Contacts.")
    feedback = _counted("Feedback answers and reviews.")


class Erasure(graphene.ObjectType):
    """The receipt of an erasure: what went and what stayed, as counts (no personal data)."""

    id = graphene.ID(required=True, description="The erasure's id (erasure-…).")
    customer_id = graphene.ID(required=True, description="The customer erased.")
    at = graphene.Field(DateTime, required=True, description="When.")
    reason = graphene.String(required=True, description="Why, as given.")
    kept_aggregates = graphene.Boolean(
        required=True,
        description="True when orders, contacts and feedback were kept, de-identified, for"
        " aggregates (CTXAPI_ERASURE_KEEP_AGGREGATES); false when they were deleted.",
    )
    removed = graphene.Field(ErasureCounts, required=True, description="What was deleted.")
    kept = graphene.Field(
        ErasureCounts,
        required=True,
        description="What stays: records de-identified (no free text, new ids, no link to"
        " the customer) and identifiers other customers share.",
    )
    tombstones = graphene.Int(
        required=True,
        description="Hashed keys recorded so that a later load does not bring the customer"
        " back: their id, their own identifiers, their orders' ids.",
    )
    writes_scrubbed = graphene.Int(
        required=True,
        description="Earlier API writes for the customer whose request digest was cleared"
        " (their audit facts stay).",
    )
    merged_away = graphene.Int(
        required=True,
        description="Customers merged into this one before (mergeCustomers): the same person,"
        " erased with them (their empty records removed, their ids tombstoned).",
    )
    merges = graphene.Int(
        required=True,
        description="Merge records removed: their provenance held this person's data.",
    )


class EraseCustomerInput(graphene.InputObjectType):
    """Whom to erase and why."""

    idempotency_key = idempotency_key()
    customer_id = graphene.ID(required=True, description="The customer to erase.")
    reason = graphene.String(
        required=True,
        description="Why: a ticket or request reference, 1 to 500 characters. It is kept with"
        " the erasure's record: write no personal data in it.",
    )


class EraseCustomerPayload(Payload):
    """The erasure's receipt."""

    erasure = graphene.Field(Erasure, description="What was erased; null on userErrors.")


def erase_customer(data: dict[str, Any], context: Context) -> Work:
    settings = context.settings
    erasure = ErasureRequest(
        customer=data["customer_id"],
        reason=checked_reason(data.get("reason"), ("input", "reason")),
        at=zulu(datetime.fromisoformat(settings.now())),
        keep_aggregates=settings.erasure_keep_aggregates,
    )
    tombstones = Tombstones(settings.pepper())
    erasing = erase(erasure, context.access.brands, tombstones, field="customerId")

    def work(tx: ManagedTransaction) -> Done:
        try:
            return erasing(tx)
        except PepperError as error:  # the server's set-up, not the caller's mistake: loud
            log.error("request %s: eraseCustomer: %s", context.request_id, error)
            message = "erasure is not set up right on this server (its erasure pepper; the"
            message += f" server log says more, request {context.request_id}): nothing was erased"
            raise ClientError(message, ErrorCode.INTERNAL) from None

    return work


class ErasureMutations(graphene.ObjectType):
    """The right to be forgotten."""

    erase_customer = mutation(
        EraseCustomerPayload,
        EraseCustomerInput,
        erase_customer,
        scope=Scope.CUSTOMERS_ERASE,
        description="Erase a customer (GDPR Art. 17): their name, identifiers, addresses and"
        " every free text go; their orders, contacts and feedback are deleted, or kept"
        " de-identified for aggregates when the server is set so; a tombstone of hashed keys"
        " keeps a later load from bringing them back. Irreversible. An erased customer is"
        " NOT_FOUND to every later request.",
    )
