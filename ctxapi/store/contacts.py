"""Writes of what happened on a contact: an interaction, a note, feedback, a case's update.

Each function validates a record with the loader's schema (``ctxapi.store.records``), checks
its references the loader's way (``ctxapi.store.references``) and more strictly — a case, an
order, a parcel or a return named must be the customer's own — and writes it with the
loader's Cypher (``ctxapi.store.graph``), so a record written by the API and one loaded from a
file are the same graph. Problems are raised as ``Refused`` inside the transaction, which
rolls it back: nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, LiteralString

from marshmallow import ValidationError
from neo4j import ManagedTransaction

from ctxapi.access.brands import in_brands, of_brands, owns
from ctxapi.store.graph import BY_NAME, Reference
from ctxapi.store.locking import live
from ctxapi.store.problems import Problem, ProblemCode, Refused, from_validation, refused
from ctxapi.store.references import describe, missing_references

_BY_IDENTITY: LiteralString = (
    "MATCH (:Identity {kind: $kind, value: $value})-[:IDENTIFIES]->(c:Customer)"
    " WHERE " + in_brands("c") + " RETURN c.id AS id ORDER BY id LIMIT 11"
)
#: Labels of records a customer owns (a product is everyone's; an agent is the brand's).
_OWNED_LABELS: tuple[LiteralString, ...] = ("Case", "Order", "Shipment", "Return", "Interaction")
_NOT_OWNED: LiteralString = (
    "MATCH (c:Customer {id: $customer}) UNWIND $refs AS ref CALL (ref) {"
    + " UNION ".join(
        " MATCH (t:" + label + " {id: ref.id}) WHERE ref.label = '" + label + "' RETURN t"
        for label in _OWNED_LABELS
    )
    + " } WITH ref, t WHERE NOT "
    + owns("c", "t")
    + " RETURN ref.label AS label, ref.id AS id, "
    # whose it is may be said only to a key that sees that customer's brand
    + of_brands("(t)<-[:PLACED|OPENED|HAD|GAVE]-(:Customer)", "vb1")
    + " OR "
    + of_brands("(t)<-[:SHIPPED_AS]-(:Order)<-[:PLACED]-(:Customer)", "vb2")
    + " OR "
    + of_brands("(t)-[:RETURNS]->(:Order)<-[:PLACED]-(:Customer)", "vb3")
    + " AS visible"
)


def validated(
    record_type: str,
    data: Mapping[str, Any],
    names: Mapping[str, str],
    *,
    phone_region: str,
    partial: bool = False,
) -> dict[str, Any]:
    """``data`` checked by the record type's schema; problems (field paths in the input's
    names, ``names`` mapping the record's to the input's) raised as Refused."""
    schema = BY_NAME[record_type].schema(partial=partial)
    schema.phone_region = phone_region  # type: ignore[attr-defined]
    try:
        return schema.load_record(dict(data))
    except ValidationError as error:
        messages = (
            error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        )
        raise Refused(from_validation(messages, ("input",), names)) from None


def customer_of(
    tx: ManagedTransaction,
    brands: Sequence[str] | None,
    customer: str | None,
    identity: tuple[str, str] | None,
    *,
    field: str = "customerId",
) -> str:
    """The customer a write is for: by id, else by an identity (which must name one customer
    of the key's brands); Refused when there is none, or several, or it was merged into
    another. The customer is write-locked (``ctxapi.store.locking``): a merge waits for this
    write, or this write sees the merge."""
    if customer is not None:
        return live(tx, brands, customer, field)
    if identity is None:
        message = f"name the customer: give {field} or identity"
        raise refused(field, message, ProblemCode.REQUIRED)
    kind, value = identity
    found = [r["id"] for r in tx.run(_BY_IDENTITY, kind=kind, value=value, __brands=brands)]
    if not found:
        message = f"no customer has this {kind}; give {field}"
        raise refused("identity", message, ProblemCode.NOT_FOUND)
    if len(found) > 1:
        listed = ", ".join(found[:10]) + (" …" if len(found) > 10 else "")
        message = f"this {kind} identifies {len(found)} customers ({listed}); ask who is speaking"
        message += f" and give {field}"
        raise refused("identity", message, ProblemCode.AMBIGUOUS_IDENTITY)
    return live(tx, brands, str(found[0]), "identity")


def check_references(
    tx: ManagedTransaction,
    customer: str,
    references: list[Reference],
    fields: Mapping[str, str],
    brands: Sequence[str] | None,
) -> None:
    """Every reference exists, and every record named is the customer's own; ``fields`` maps
    a referenced label to the input field that named it. Another customer's record is
    NOT_THE_CUSTOMERS, or NOT_FOUND when that customer is of a brand the key does not see (as
    if it did not exist: a key learns nothing of another brand's records)."""
    problems = [
        Problem(("input", fields.get(ref[0], ref[0].lower())), describe(ref), ProblemCode.NOT_FOUND)
        for ref in sorted(missing_references(tx, references), key=str)
        if ref[0] != "Identity"
    ]
    if problems:
        raise Refused(problems)
    owned = [{"label": label, "id": value} for label, value in references if label in _OWNED_LABELS]
    if owned:
        for row in tx.run(_NOT_OWNED, customer=customer, refs=owned, __brands=brands):
            field = fields.get(row["label"], row["label"].lower())
            what = f"{row['label'].lower()} {row['id']!r}"
            if row["visible"]:
                message = f"{what} is not customer {customer!r}'s"
                problems.append(Problem(("input", field), message, ProblemCode.NOT_THE_CUSTOMERS))
            else:
                message = f"{what} does not exist"
                problems.append(Problem(("input", field), message, ProblemCode.NOT_FOUND))
    if problems:
        raise Refused(problems)


def write(tx: ManagedTransaction, record_type: str, record: dict[str, Any]) -> None:
    """Write one validated record with the loader's query for its type."""
    kind = BY_NAME[record_type]
    tx.run(kind.write, rows=[kind.to_row(record)]).consume()
