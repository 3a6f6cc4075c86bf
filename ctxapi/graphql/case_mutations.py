"""Write-back on a customer's file: a case's status, priority and owner; a note."""

from __future__ import annotations

import uuid
from typing import Any, LiteralString

import graphene
from neo4j import ManagedTransaction

from ctxapi.access.brands import in_brands
from ctxapi.access.keys import Scope
from ctxapi.graphql import enums
from ctxapi.graphql.compiler import resolve_written
from ctxapi.graphql.contact_mutations import WRITTEN_CUSTOMER
from ctxapi.graphql.context import Context
from ctxapi.graphql.customer import Customer
from ctxapi.graphql.fields import Written, written
from ctxapi.graphql.interaction import Case
from ctxapi.graphql.mutation import Payload, idempotency_key, mutation
from ctxapi.graphql.note import Note
from ctxapi.store import cases, contacts
from ctxapi.store.events import Event
from ctxapi.store.ledger import Done, Work
from ctxapi.store.locking import owner_of
from ctxapi.store.problems import Problem, ProblemCode, Refused, refused

WRITTEN_CASE = Written(
    "MATCH (root:Case {id: $key}) WHERE EXISTS {"
    " MATCH (cu:Customer)-[:OPENED]->(root) WHERE " + in_brands("cu") + " }",
    lambda ids, _: {"key": ids["id"]},
)
WRITTEN_NOTE = Written(
    "MATCH (root:Note {id: $key}) WHERE EXISTS {"
    " MATCH (cu:Customer)-[:HAS_NOTE]->(root) WHERE " + in_brands("cu") + " }",
    lambda ids, _: {"key": ids["id"]},
)
_CASE_OF_BRANDS: LiteralString = (
    cases.CASE_OWNER + " WHERE " + in_brands("c") + " RETURN c.id AS customer"
)
MAX_NOTE = 10_000


class UpdateCaseInput(graphene.InputObjectType):
    """What changes on a case; what is left out stays."""

    idempotency_key = idempotency_key()
    case_id = graphene.ID(required=True, description="The case.")
    status = graphene.Field(
        enums.CaseStatus,
        description="Its new status. Resolving or closing sets resolvedAt (now); reopening"
        " clears it.",
    )
    priority = graphene.Field(enums.Priority, description="Its new priority.")
    owner_id = graphene.ID(description="The agent who now owns it; an empty string: nobody.")


class UpdateCasePayload(Payload):
    """The case after the update."""

    case = written(Case, WRITTEN_CASE, resolve_written, description="The case, updated.")
    customer = written(Customer, WRITTEN_CUSTOMER, resolve_written, description="Whose case it is.")


class AddNoteInput(graphene.InputObjectType):
    """A note on a customer's file."""

    idempotency_key = idempotency_key()
    customer_id = graphene.ID(required=True, description="Whose file.")
    text = graphene.String(
        required=True, description=f"What it says (1 to {MAX_NOTE:,} characters)."
    )
    agent_id = graphene.ID(description="Who wrote it.")
    case_id = graphene.ID(description="The customer's case it is on.")


class AddNotePayload(Payload):
    """The note written."""

    note = written(Note, WRITTEN_NOTE, resolve_written, description="The note.")
    customer = written(Customer, WRITTEN_CUSTOMER, resolve_written, description="Whose file.")


def update_case(data: dict[str, Any], context: Context) -> Work:
    brands, at = context.access.brands, context.settings.now()
    changes = {name: data[name] for name in ("status", "priority") if name in data}
    owner = data.get("owner_id")
    if not changes and owner is None:
        message = "nothing to change: give status, priority or ownerId"
        raise Refused([Problem(("input",), message, ProblemCode.REQUIRED)])

    def work(tx: ManagedTransaction) -> Done:
        def whose() -> str | None:
            found = tx.run(_CASE_OF_BRANDS, id=data["case_id"], __brands=brands).single()
            return None if found is None else str(found["customer"])

        missing = f"case {data['case_id']!r} does not exist"
        customer = owner_of(tx, brands, whose, "caseId", missing)  # locked, not merged away
        if owner:
            contacts.check_references(
                tx, customer, [("Agent", owner)], {"Agent": "ownerId"}, brands
            )
        row = tx.run(
            cases.UPDATE_CASE, customer=customer, id=data["case_id"], set=changes, owner=owner,
            at=at,
        ).single(strict=True)  # fmt: skip
        ids = {"case": {"id": data["case_id"]}, "customer": {"id": row["customer"]}}
        return Done(ids, Event.CASE_UPDATED, [row["customer"]])

    return work


def add_note(data: dict[str, Any], context: Context) -> Work:
    brands, at = context.access.brands, context.settings.now()
    text = data["text"].strip()
    if not 1 <= len(text) <= MAX_NOTE:
        raise refused("text", f"a note is 1 to {MAX_NOTE:,} characters", ProblemCode.INVALID)

    def work(tx: ManagedTransaction) -> Done:
        customer = contacts.customer_of(tx, brands, data["customer_id"], None)
        refs = [
            (label, data[field])
            for label, field in (("Agent", "agent_id"), ("Case", "case_id"))
            if field in data
        ]
        contacts.check_references(
            tx, customer, refs, {"Agent": "agentId", "Case": "caseId"}, brands
        )
        note = "ctx-" + uuid.uuid4().hex
        tx.run(cases.WRITE_NOTE, customer=customer, id=note, text=text, at=at,
               agent=data.get("agent_id"), case=data.get("case_id")).consume()  # fmt: skip
        return Done(
            {"note": {"id": note}, "customer": {"id": customer}}, Event.NOTE_ADDED, [customer]
        )

    return work


class CaseMutations(graphene.ObjectType):
    """Write-back on a customer's file."""

    update_case = mutation(
        UpdateCasePayload,
        UpdateCaseInput,
        update_case,
        scope=Scope.INTERACTIONS_WRITE,
        description="Change a case's status, priority or owner; what is left out stays.",
    )
    add_note = mutation(
        AddNotePayload,
        AddNoteInput,
        add_note,
        scope=Scope.INTERACTIONS_WRITE,
        description="Write a note on a customer's file, maybe on one of their cases.",
    )
