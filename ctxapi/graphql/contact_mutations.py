"""Write-back from agent tools: what happened on a contact, and a proactive item done.

Each mutation writes through the loader's write path (``ctxapi.store.contacts``): the same
validation, identity normalization and Cypher, so a contact recorded here and one loaded from
a file are the same graph. The payload reads back the interaction and the customer as they are
after the write (read-your-writes: the read carries the write's bookmark).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, LiteralString

import graphene
from graphene.utils.str_converters import to_camel_case
from neo4j import ManagedTransaction

from ctxapi.access.brands import in_brands
from ctxapi.access.keys import Scope
from ctxapi.graphql import enums
from ctxapi.graphql.compiler import resolve_written
from ctxapi.graphql.context import Context
from ctxapi.graphql.customer import Customer, IdentityInput
from ctxapi.graphql.feedback import Feedback
from ctxapi.graphql.fields import Written, written
from ctxapi.graphql.interaction import Interaction
from ctxapi.graphql.lookup import IdentityInputError, identity_key
from ctxapi.graphql.mutation import Payload, idempotency_key, mutation
from ctxapi.graphql.scalars import DateTime
from ctxapi.model import ABOUT_TYPES, RATES_TYPES
from ctxapi.store import contacts
from ctxapi.store.events import Event
from ctxapi.store.graph import BY_NAME
from ctxapi.store.ledger import Done, Work
from ctxapi.store.locking import owner_of
from ctxapi.store.problems import Problem, ProblemCode, Refused

#: The customer a mutation wrote for, read back through the key's brands.
WRITTEN_CUSTOMER = Written(
    "MATCH (root:Customer {id: $key}) WHERE " + in_brands("root"),
    lambda ids, _: {"key": ids["id"]},
)
WRITTEN_INTERACTION = Written(
    "MATCH (root:Interaction {id: $key}) WHERE EXISTS {"
    " MATCH (cu:Customer)-[:HAD]->(root) WHERE " + in_brands("cu") + " }",
    lambda ids, _: {"key": ids["id"]},
)
#: Record fields → input fields, for the paths of userErrors.
_NAMES = {"customer": "customerId", "case": "caseId", "agent": "agentId"}
_LABEL_FIELDS = {"Case": "caseId", "Agent": "agentId", "Customer": "customerId"}
_LINKED: LiteralString = (
    "RETURN EXISTS { (:Identity {kind: $kind, value: $value})-[:IDENTIFIES]->"
    "(:Customer {id: $customer}) } AS linked"
)


class ReferenceInput(graphene.InputObjectType):
    """A record a contact was about: its type and id."""

    type = graphene.Field(enums.ReferenceType, required=True, description="What it is.")
    id = graphene.ID(required=True, description="Its external id.")


class RecordInteractionInput(graphene.InputObjectType):
    """A contact that happened: on which channel, with whom, about what."""

    idempotency_key = idempotency_key()
    customer_id = graphene.ID(
        description="The customer; or leave it out and give the identity the contact came"
        " through, which must then name one customer."
    )
    identity = graphene.Field(
        IdentityInput,
        description="The identifier the contact came through, spelled as the agent has it."
        " Normalized like the loader's; linked to the customer (source `interaction`) when it"
        " was not yet theirs.",
    )
    channel = graphene.Field(enums.Channel, required=True, description="Its channel.")
    direction = graphene.Field(enums.Direction, required=True, description="Who started it.")
    occurred_at = graphene.Field(DateTime, description="When it happened; default: now.")
    summary = graphene.String(required=True, description="What the agent logged.")
    topic = graphene.String(description="Topic, e.g. where_is_my_order.")
    status = graphene.Field(
        enums.InteractionStatus, description="Where it stands; default RESOLVED."
    )
    sentiment = graphene.Float(description="From -1 (angry) to 1 (delighted).")
    self_service = graphene.Boolean(description="Handled by a bot or IVR; default false.")
    responded_at = graphene.Field(DateTime, description="First response at.")
    duration_seconds = graphene.Int(description="Length of a call or chat.")
    agent_id = graphene.ID(description="The agent who handled it.")
    case_id = graphene.ID(description="The customer's case it is part of.")
    about = graphene.List(
        graphene.NonNull(ReferenceInput),
        description="The customer's orders, parcels or returns (or products) it was about.",
    )


class RecordInteractionPayload(Payload):
    """The contact recorded, and the customer after it."""

    interaction = written(
        Interaction, WRITTEN_INTERACTION, resolve_written, description="The contact recorded."
    )
    customer = written(
        Customer, WRITTEN_CUSTOMER, resolve_written, description="The customer, after the write."
    )


def identity_of(data: dict[str, Any], phone_region: str) -> tuple[str, str] | None:
    """The input's ``identity`` normalized as (kind, value); None when there is none."""
    given = data.get("identity")
    if given is None:
        return None
    try:
        return identity_key(given, phone_region)
    except IdentityInputError as error:
        path = ("input", "identity", *([error.field] if error.field else []))
        raise Refused([Problem(path, str(error), ProblemCode.INVALID)]) from None


def plan_interaction(
    data: dict[str, Any],
    context: Context,
    *,
    event: Event,
    customer: Callable[[ManagedTransaction], str] | None = None,
) -> Work:
    """The work of recording one contact (also ``markContacted``'s, whose ``customer`` finds
    the customer of the item)."""
    region = context.settings.phone_region
    identity = identity_of(data, region)
    brands = context.access.brands
    record: dict[str, Any] = {
        "channel": data["channel"],
        "direction": data["direction"],
        "occurredAt": data.get("occurred_at") or context.settings.now(),
        "summary": data["summary"],
        "about": [{"type": ref["type"], "id": ref["id"]} for ref in data.get("about", [])],
    }
    for name in (
        "topic",
        "status",
        "sentiment",
        "self_service",
        "responded_at",
        "duration_seconds",
    ):
        if name in data:
            record[to_camel_case(name)] = data[name]
    for name, field in (("agent", "agent_id"), ("case", "case_id")):
        if field in data:
            record[name] = data[field]
    if identity is not None:
        record["identity"] = {"kind": identity[0], "value": identity[1]}

    def work(tx: ManagedTransaction) -> Done:
        if customer is not None:
            whose = customer(tx)
        else:
            whose = contacts.customer_of(tx, brands, data.get("customer_id"), identity)
        checked = contacts.validated(
            "interactions",
            {**record, "id": "ctx-" + uuid.uuid4().hex, "customer": whose},
            _NAMES,
            phone_region=region,
        )
        if identity is not None:
            _link(tx, whose, identity, checked["occurredAt"].isoformat(), region)
        kind = BY_NAME["interactions"]
        fields = _LABEL_FIELDS | dict.fromkeys(ABOUT_TYPES.values(), "about")
        contacts.check_references(tx, whose, kind.references(checked), fields, brands)
        contacts.write(tx, "interactions", checked)
        ids = {"interaction": {"id": checked["id"]}, "customer": {"id": whose}}
        return Done(ids, event, [whose])

    return work


def _link(
    tx: ManagedTransaction, customer: str, identity: tuple[str, str], at: str, region: str
) -> None:
    """Link the identity a contact came through to its customer, when it is not yet theirs."""
    kind, value = identity
    if tx.run(_LINKED, kind=kind, value=value, customer=customer).single(strict=True)["linked"]:
        return
    link = {"customer": customer, "kind": kind, "value": value, "source": "interaction"}
    checked = contacts.validated("identities", link | {"linkedAt": at}, {}, phone_region=region)
    contacts.write(tx, "identities", checked)


def record_interaction(data: dict[str, Any], context: Context) -> Work:
    return plan_interaction(data, context, event=Event.INTERACTION_RECORDED)


WRITTEN_FEEDBACK = Written(
    "MATCH (root:Feedback {id: $key}) WHERE EXISTS {"
    " MATCH (cu:Customer)-[:GAVE]->(root) WHERE " + in_brands("cu") + " }",
    lambda ids, _: {"key": ids["id"]},
)
#: The customer of a proactive item (a parcel, a return, a case, an order), of the key's brands.
_ITEM_CUSTOMER: LiteralString = (
    "CALL () {"
    " MATCH (c:Customer)-[:PLACED]->(:Order)-[:SHIPPED_AS]->(:Shipment {id: $id})"
    " WHERE $type = 'shipment' RETURN c"
    " UNION MATCH (c:Customer)-[:PLACED]->(:Order)<-[:RETURNS]-(:Return {id: $id})"
    " WHERE $type = 'return' RETURN c"
    " UNION MATCH (c:Customer)-[:OPENED]->(:Case {id: $id}) WHERE $type = 'case' RETURN c"
    " UNION MATCH (c:Customer)-[:PLACED]->(:Order {id: $id}) WHERE $type = 'order' RETURN c"
    " } WITH c WHERE " + in_brands("c") + " RETURN c.id AS id"
)
_ITEM_TYPES = ("shipment", "return", "case", "order")


class RecordFeedbackInput(graphene.InputObjectType):
    """A survey answer or review a customer gave (a CSAT after a chat …)."""

    idempotency_key = idempotency_key()
    customer_id = graphene.ID(required=True, description="Who gave it.")
    kind = graphene.Field(enums.FeedbackKind, required=True, description="What was asked.")
    score = graphene.Int(required=True, description="csat 1-5, nps 0-10, ces 1-7, review 1-5.")
    comment = graphene.String(description="Free text.")
    submitted_at = graphene.Field(DateTime, description="When; default: now.")
    rates = graphene.Field(
        ReferenceInput,
        description="What it rates: one of the customer's contacts, cases or orders, or a product.",
    )


class RecordFeedbackPayload(Payload):
    """The feedback recorded."""

    feedback = written(Feedback, WRITTEN_FEEDBACK, resolve_written, description="The answer.")
    customer = written(Customer, WRITTEN_CUSTOMER, resolve_written, description="Who gave it.")


def record_feedback(data: dict[str, Any], context: Context) -> Work:
    brands, region = context.access.brands, context.settings.phone_region
    record: dict[str, Any] = {
        "kind": data["kind"],
        "score": data["score"],
        "submittedAt": data.get("submitted_at") or context.settings.now(),
    }
    if "comment" in data:
        record["comment"] = data["comment"]
    if "rates" in data:
        record["rates"] = {"type": data["rates"]["type"], "id": data["rates"]["id"]}

    def work(tx: ManagedTransaction) -> Done:
        customer = contacts.customer_of(tx, brands, data["customer_id"], None)
        checked = contacts.validated(
            "feedback",
            {**record, "id": "ctx-" + uuid.uuid4().hex, "customer": customer},
            _NAMES,
            phone_region=region,
        )
        kind = BY_NAME["feedback"]
        fields = dict.fromkeys(RATES_TYPES.values(), "rates") | {"Customer": "customerId"}
        contacts.check_references(tx, customer, kind.references(checked), fields, brands)
        contacts.write(tx, "feedback", checked)
        ids = {"feedback": {"id": checked["id"]}, "customer": {"id": customer}}
        return Done(ids, Event.FEEDBACK_RECORDED, [customer])

    return work


class MarkContactedInput(graphene.InputObjectType):
    """An update sent to a customer about an item of the proactive queue."""

    idempotency_key = idempotency_key()
    item = graphene.Field(
        ReferenceInput,
        required=True,
        description="The queue item's record (its `about`): a SHIPMENT, RETURN, CASE or ORDER.",
    )
    channel = graphene.Field(enums.Channel, required=True, description="How it was sent.")
    summary = graphene.String(required=True, description="What the customer was told.")
    occurred_at = graphene.Field(DateTime, description="When; default: now.")
    agent_id = graphene.ID(description="Who sent it.")


def mark_contacted(data: dict[str, Any], context: Context) -> Work:
    """An outbound contact about the item: a late parcel leaves the queue until it is due
    again (``delivery_update_days``), a quiet case until ``case_follow_up_days`` more pass."""
    item = data["item"]
    if item["type"] not in _ITEM_TYPES:
        message = "a queue item is a " + ", ".join(t.upper() for t in _ITEM_TYPES)
        raise Refused([Problem(("input", "item", "type"), message, ProblemCode.INVALID)])
    contact = {k: v for k, v in data.items() if k != "item"} | {"direction": "outbound"}
    if item["type"] == "case":
        contact["case_id"] = item["id"]
    else:
        contact["about"] = [item]
    brands = context.access.brands

    def find(tx: ManagedTransaction) -> str:
        def owner() -> str | None:
            found = tx.run(_ITEM_CUSTOMER, id=item["id"], type=item["type"], __brands=brands)
            row = found.single()
            return None if row is None else str(row["id"])

        missing = f"{item['type']} {item['id']!r} does not exist"
        return owner_of(tx, brands, owner, "item", missing)  # locked, not merged away

    return plan_interaction(contact, context, event=Event.QUEUE_ITEM_CONTACTED, customer=find)


class ContactMutations(graphene.ObjectType):
    """Write-back: what happened on a contact."""

    record_interaction = mutation(
        RecordInteractionPayload,
        RecordInteractionInput,
        record_interaction,
        scope=Scope.INTERACTIONS_WRITE,
        description="Record a contact that happened (a call, an email, a chat …) with the"
        " identity it came through, its case and what it was about.",
    )
    record_feedback = mutation(
        RecordFeedbackPayload,
        RecordFeedbackInput,
        record_feedback,
        scope=Scope.INTERACTIONS_WRITE,
        description="Record a survey answer or review a customer gave.",
    )
    mark_contacted = mutation(
        RecordInteractionPayload,
        MarkContactedInput,
        mark_contacted,
        scope=Scope.INTERACTIONS_WRITE,
        description="Say that the customer of a proactive-queue item was sent an update about it"
        " (an outbound contact about the item): it leaves the queue until it is due again.",
    )
