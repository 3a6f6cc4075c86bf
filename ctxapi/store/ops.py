"""Delta records: an ``op`` per record, ``upsert`` (the default), ``patch`` or ``delete``, and
what each validates and sends to its write query (``ctxapi.store.deltas`` holds the queries).

An upsert is today's record (``RecordSchema.load_record``, ``RecordType.to_row``). A patch is
the key and the fields that change, validated by the same schema (``partial``: no defaults;
the cross-field checks hold on what is given, and ``TOGETHER`` says which fields a patch gives
together). A delete is the key alone: a known field beside it is ignored, an unknown one is an
error as always.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from marshmallow import Schema, ValidationError

from ctxapi.store import records as r
from ctxapi.store.fastschema import Check
from ctxapi.store.graph import RecordType, Reference, _props, _times, content_hash


class Op(StrEnum):
    """What a record does to the graph."""

    UPSERT = "upsert"
    PATCH = "patch"
    DELETE = "delete"


OPS = ", ".join(Op)

#: The fields that name a record (the rest of a delete is ignored, see ``validate``).
KEYS: dict[str, tuple[str, ...]] = {"identities": ("customer", "kind", "value")}

#: The fields of a type that become relationships (or, for identities, the key), not properties.
LINKS: dict[str, tuple[str, ...]] = {
    "customers": ("brand",),
    "addresses": ("customer",),
    "identities": ("customer", "kind", "value"),
    "orders": ("customer", "items"),
    "shipments": ("order",),
    "returns": ("order",),
    "cases": ("customer",),
    "interactions": ("customer", "identity", "case", "agent", "about"),
    "feedback": ("customer", "rates"),
}

#: In a patch, a field that needs others beside it, since the check or the meaning of one
#: reads the other: (field, the fields it needs). An amount needs its currency already
#: (records.py); a changed currency needs every amount, checked against the stored one
#: (``_currency_changes``).
TOGETHER: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "feedback": (("score", ("kind",)), ("kind", ("score",))),
    "interactions": (("identity", ("customer",)),),  # checked against that customer
}


def key_of(record_type: RecordType) -> tuple[str, ...]:
    return KEYS.get(record_type.name, ("id",))


def split_op(data: dict[str, Any]) -> tuple[Op, dict[str, Any]]:
    """The record's op (absent or empty: upsert) and the record without it."""
    rest = dict(data)
    given = rest.pop("op", "")
    if given == "":
        return Op.UPSERT, rest
    if isinstance(given, str) and given in set(Op):
        return Op(given), rest
    raise ValidationError({"op": [f"one of {OPS}"]})


def validate(
    record_type: RecordType,
    schema: r.RecordSchema,
    data: dict[str, Any],
    fast: Check | None = None,
) -> tuple[Op, dict[str, Any]]:
    """``(op, record)``: the record validated for its op; raise ValidationError if it fails.
    ``fast``: the schema's fast path (``fastschema.compile_schema``), tried first on upserts."""
    if "op" not in data and fast is not None:
        record = fast({k: v for k, v in data.items() if v != ""})
        if record is not None:
            return Op.UPSERT, record
    op, data = split_op(data)
    if op is Op.UPSERT:
        return op, schema.load_record(data)
    given = {k: v for k, v in data.items() if v != ""}
    key = key_of(record_type)
    partial = tuple(name for name in schema.fields if name not in key)
    if op is Op.DELETE:
        unknown = {name: ["Unknown field."] for name in given if name not in schema.fields}
        if unknown:  # a typo is an error; a known field beside the key is ignored
            raise ValidationError(unknown)
        wanted = set(key) | ({"region"} if record_type.name == "identities" else set())
        record = _load(schema, {k: v for k, v in given.items() if k in wanted}, partial)
        return op, {name: record[name] for name in key}
    needs = {
        need: [f"required in a patch that gives {field}"]
        for field, needed in TOGETHER.get(record_type.name, ())
        if field in given
        for need in needed
        if need not in given
    }
    record = _load(schema, given, partial)
    if needs:
        raise ValidationError(needs)
    return op, record


def _load(schema: Schema, data: dict[str, Any], partial: tuple[str, ...]) -> dict[str, Any]:
    return schema.load(data, partial=partial)  # type: ignore[no-any-return]


def to_row(record_type: RecordType, op: Op, record: dict[str, Any]) -> dict[str, Any]:
    """The query parameters of one record for its op."""
    if op is Op.UPSERT:
        return record_type.to_row(record)
    if op is Op.DELETE:
        return dict(record)
    links = LINKS.get(record_type.name, ())
    row: dict[str, Any] = {name: record.get(name) for name in (*key_of(record_type), *links)}
    row |= {"hash": "patch:" + content_hash(record), "props": _props(record, *links)}
    row["t"] = _times(record)
    if row.get("items") is not None:
        row["items"] = [{**item, "line": n} for n, item in enumerate(row["items"], start=1)]
    if row.get("identity") is not None and record_type.name == "interactions":
        row["identity"] = [row["identity"]["kind"], row["identity"]["value"]]
    return row


def references(record_type: RecordType, op: Op, record: dict[str, Any]) -> list[Reference]:
    """What must exist for the record to be written (a delete needs nothing)."""
    return [] if op is Op.DELETE else record_type.references(record)
