"""How each record type is written to the graph: its key, its references and its Cypher.

Every write query takes ``$rows`` (one map per record: its key, ``hash`` of its content,
``props``, timestamps ``t`` as ISO-8601 text, and references) and returns how many rows were
``created``, ``updated`` or ``unchanged``. A record whose hash equals the stored
``sourceHash`` is not written again, so a second load of the same files changes nothing.
Queries are static text; values travel only as parameters. A write replaces all of a
node's properties (``SET n = row.props``), so a field that disappeared from the source
disappears from the graph too.

Timestamps travel as text and become DateTime in Cypher (``datetime(row.t.x)``): the Python
driver spends about 100 µs converting each native datetime, Neo4j a fraction of that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

import orjson

from ctxapi.seeding import records as r

#: Labels a reference may point at, each with its existence check (labels are allow-listed
#: here, never taken from input).
REFERENCED_LABELS: tuple[LiteralString, ...] = (
    "Brand", "Agent", "Product", "Customer", "Order", "Shipment", "Return", "Case", "Interaction",
)  # fmt: skip
MISSING_IDS: dict[str, LiteralString] = {
    label: "UNWIND $ids AS id OPTIONAL MATCH (n:"
    + label
    + " {id: id}) WITH id, n WHERE n IS NULL RETURN collect(id) AS missing"
    for label in REFERENCED_LABELS
}
# An interaction's identity must be one of its own customer's identities.
MISSING_IDENTITIES: LiteralString = (
    "UNWIND $keys AS key "
    "OPTIONAL MATCH (n:Identity {kind: key[0], value: key[1]})-[:IDENTIFIES]->"
    "(:Customer {id: key[2]}) "
    "WITH key, n WHERE n IS NULL RETURN collect(key) AS missing"
)

# The first and last lines of every node write: compare the content hash, skip what is equal.
_OUTCOME: LiteralString = """
WITH row, CASE WHEN old IS NULL THEN 'created'
               WHEN old.sourceHash = row.hash THEN 'unchanged'
               ELSE 'updated' END AS outcome
"""
_COUNT: LiteralString = "RETURN outcome, count(*) AS n"

WRITE_BRANDS: LiteralString = (
    "UNWIND $rows AS row OPTIONAL MATCH (old:Brand {id: row.id})"
    + _OUTCOME
    + """
CALL (row, outcome) {
  WITH row WHERE outcome <> 'unchanged'
  MERGE (n:Brand {id: row.id}) SET n = row.props, n.id = row.id, n.sourceHash = row.hash
}
"""
    + _COUNT
)

WRITE_AGENTS: LiteralString = (
    "UNWIND $rows AS row OPTIONAL MATCH (old:Agent {id: row.id})"
    + _OUTCOME
    + """
CALL (row, outcome) {
  WITH row WHERE outcome <> 'unchanged'
  MERGE (n:Agent {id: row.id}) SET n = row.props, n.id = row.id, n.sourceHash = row.hash
}
"""
    + _COUNT
)

WRITE_PRODUCTS: LiteralString = (
    "UNWIND $rows AS row OPTIONAL MATCH (old:Product {id: row.id})"
    + _OUTCOME
    + """
CALL (row, outcome) {
  WITH row WHERE outcome <> 'unchanged'
  MERGE (n:Product {id: row.id}) SET n = row.props, n.id = row.id, n.sourceHash = row.hash
}
"""
    + _COUNT
)

WRITE_CUSTOMERS: LiteralString = (
    "UNWIND $rows AS row OPTIONAL MATCH (old:Customer {id: row.id})"
    + _OUTCOME
    + """
CALL (row, outcome) {
  WITH row WHERE outcome <> 'unchanged'
  MERGE (c:Customer {id: row.id})
  SET c = row.props, c.id = row.id, c.sourceHash = row.hash,
      c.createdAt = datetime(row.t.createdAt)
  WITH c, row
  MATCH (b:Brand {id: row.brand})
  CALL (c, b) { MATCH (c)-[old:OF_BRAND]->(other) WHERE other <> b DELETE old }
  MERGE (c)-[:OF_BRAND]->(b)
}
"""
    + _COUNT
)

WRITE_ADDRESSES: LiteralString = (
    "UNWIND $rows AS row OPTIONAL MATCH (old:Address {id: row.id})"
    + _OUTCOME
    + """
CALL (row, outcome) {
  WITH row WHERE outcome <> 'unchanged'
  MERGE (a:Address {id: row.id}) SET a = row.props, a.id = row.id, a.sourceHash = row.hash
  WITH a, row
  MATCH (c:Customer {id: row.customer})
  CALL (a) { MATCH (a)<-[old:LIVES_AT]-() DELETE old }
  MERGE (c)-[l:LIVES_AT]->(a) SET l.kind = row.props.kind
}
"""
    + _COUNT
)

# An identity link is a relationship: its hash lives on IDENTIFIES, the node is shared.
WRITE_IDENTITIES: LiteralString = """
UNWIND $rows AS row
MATCH (c:Customer {id: row.customer})
MERGE (i:Identity {kind: row.kind, value: row.value})
WITH row, c, i
OPTIONAL MATCH (i)-[old:IDENTIFIES]->(c)
WITH row, c, i, CASE WHEN old IS NULL THEN 'created'
                     WHEN old.sourceHash = row.hash THEN 'unchanged'
                     ELSE 'updated' END AS outcome
CALL (row, c, i, outcome) {
  WITH row, c, i WHERE outcome <> 'unchanged'
  MERGE (i)-[l:IDENTIFIES]->(c)
  SET l = row.props, l.sourceHash = row.hash, l.linkedAt = datetime(row.t.linkedAt)
}
RETURN outcome, count(*) AS n
"""

WRITE_ORDERS: LiteralString = (
    "UNWIND $rows AS row OPTIONAL MATCH (old:Order {id: row.id})"
    + _OUTCOME
    + """
CALL (row, outcome) {
  WITH row WHERE outcome <> 'unchanged'
  MERGE (o:Order {id: row.id})
  SET o = row.props, o.id = row.id, o.sourceHash = row.hash,
      o.placedAt = datetime(row.t.placedAt)
  WITH o, row
  MATCH (c:Customer {id: row.customer})
  CALL (o) { MATCH (o)<-[old:PLACED]-() DELETE old }
  CALL (o) { MATCH (o)-[old:CONTAINS]->() DELETE old }
  MERGE (c)-[:PLACED]->(o)
  WITH o, row
  CALL (o, row) {
    UNWIND row.items AS item
    MATCH (p:Product {id: item.product})
    CREATE (o)-[:CONTAINS {line: item.line, quantity: item.quantity,
                           unitPriceMinor: item.unitPriceMinor}]->(p)
  }
}
"""
    + _COUNT
)

WRITE_SHIPMENTS: LiteralString = (
    "UNWIND $rows AS row OPTIONAL MATCH (old:Shipment {id: row.id})"
    + _OUTCOME
    + """
CALL (row, outcome) {
  WITH row WHERE outcome <> 'unchanged'
  MERGE (s:Shipment {id: row.id})
  SET s = row.props, s.id = row.id, s.sourceHash = row.hash,
      s.shippedAt = datetime(row.t.shippedAt), s.promisedAt = datetime(row.t.promisedAt),
      s.deliveredAt = datetime(row.t.deliveredAt)
  WITH s, row
  MATCH (o:Order {id: row.order})
  CALL (s) { MATCH (s)<-[old:SHIPPED_AS]-() DELETE old }
  MERGE (o)-[:SHIPPED_AS]->(s)
}
"""
    + _COUNT
)

WRITE_RETURNS: LiteralString = (
    "UNWIND $rows AS row OPTIONAL MATCH (old:Return {id: row.id})"
    + _OUTCOME
    + """
CALL (row, outcome) {
  WITH row WHERE outcome <> 'unchanged'
  MERGE (x:Return {id: row.id})
  SET x = row.props, x.id = row.id, x.sourceHash = row.hash,
      x.requestedAt = datetime(row.t.requestedAt), x.receivedAt = datetime(row.t.receivedAt),
      x.refundedAt = datetime(row.t.refundedAt)
  WITH x, row
  MATCH (o:Order {id: row.order})
  CALL (x) { MATCH (x)-[old:RETURNS]->() DELETE old }
  MERGE (x)-[:RETURNS]->(o)
}
"""
    + _COUNT
)

WRITE_CASES: LiteralString = (
    "UNWIND $rows AS row OPTIONAL MATCH (old:Case {id: row.id})"
    + _OUTCOME
    + """
CALL (row, outcome) {
  WITH row WHERE outcome <> 'unchanged'
  MERGE (k:Case {id: row.id})
  SET k = row.props, k.id = row.id, k.sourceHash = row.hash,
      k.openedAt = datetime(row.t.openedAt), k.resolvedAt = datetime(row.t.resolvedAt)
  WITH k, row
  MATCH (c:Customer {id: row.customer})
  CALL (k) { MATCH (k)<-[old:OPENED]-() DELETE old }
  MERGE (c)-[:OPENED]->(k)
}
"""
    + _COUNT
)

WRITE_INTERACTIONS: LiteralString = (
    "UNWIND $rows AS row OPTIONAL MATCH (old:Interaction {id: row.id})"
    + _OUTCOME
    + """
CALL (row, outcome) {
  WITH row WHERE outcome <> 'unchanged'
  MERGE (i:Interaction {id: row.id})
  SET i = row.props, i.id = row.id, i.sourceHash = row.hash,
      i.occurredAt = datetime(row.t.occurredAt), i.respondedAt = datetime(row.t.respondedAt)
  WITH i, row
  MATCH (c:Customer {id: row.customer})
  CALL (i) { MATCH (i)-[old:VIA|PART_OF|HANDLED_BY|ABOUT]->() DELETE old }
  CALL (i) { MATCH (i)<-[old:HAD]-() DELETE old }
  MERGE (c)-[:HAD]->(i)
  WITH i, row
  CALL (i, row) {
    MATCH (v:Identity {kind: row.identity[0], value: row.identity[1]})
    MERGE (i)-[:VIA]->(v)
  }
  CALL (i, row) { MATCH (k:Case {id: row.case}) MERGE (i)-[:PART_OF]->(k) }
  CALL (i, row) { MATCH (a:Agent {id: row.agent}) MERGE (i)-[:HANDLED_BY]->(a) }
  CALL (i, row) {
    UNWIND row.about AS ref
    CALL (i, ref) {
      MATCH (t:Order {id: ref.id}) WHERE ref.type = 'order' RETURN t
      UNION
      MATCH (t:Shipment {id: ref.id}) WHERE ref.type = 'shipment' RETURN t
      UNION
      MATCH (t:Return {id: ref.id}) WHERE ref.type = 'return' RETURN t
      UNION
      MATCH (t:Product {id: ref.id}) WHERE ref.type = 'product' RETURN t
    }
    MERGE (i)-[:ABOUT]->(t)
  }
}
"""
    + _COUNT
)

WRITE_FEEDBACK: LiteralString = (
    "UNWIND $rows AS row OPTIONAL MATCH (old:Feedback {id: row.id})"
    + _OUTCOME
    + """
CALL (row, outcome) {
  WITH row WHERE outcome <> 'unchanged'
  MERGE (f:Feedback {id: row.id})
  SET f = row.props, f.id = row.id, f.sourceHash = row.hash,
      f.submittedAt = datetime(row.t.submittedAt)
  WITH f, row
  MATCH (c:Customer {id: row.customer})
  CALL (f) { MATCH (f)-[old:RATES]->() DELETE old }
  CALL (f) { MATCH (f)<-[old:GAVE]-() DELETE old }
  MERGE (c)-[:GAVE]->(f)
  WITH f, row
  CALL (f, row) {
    WITH row.rates AS ref WHERE ref IS NOT NULL
    CALL (ref) {
      MATCH (t:Interaction {id: ref.id}) WHERE ref.type = 'interaction' RETURN t
      UNION
      MATCH (t:Case {id: ref.id}) WHERE ref.type = 'case' RETURN t
      UNION
      MATCH (t:Order {id: ref.id}) WHERE ref.type = 'order' RETURN t
      UNION
      MATCH (t:Product {id: ref.id}) WHERE ref.type = 'product' RETURN t
    }
    MERGE (f)-[:RATES]->(t)
  }
}
"""
    + _COUNT
)


Reference = tuple[str, Any]  # (label, id), or ("Identity", (kind, value, customer id))


@dataclass(frozen=True)
class RecordType:
    """One input record type: where it comes from, how it validates and how it is written."""

    name: str
    schema: type[r.RecordSchema]
    write: LiteralString
    to_row: Callable[[dict[str, Any]], dict[str, Any]]
    references: Callable[[dict[str, Any]], list[Reference]]
    key: Callable[[dict[str, Any]], Any] = lambda record: record["id"]
    csv: bool = False


def content_hash(record: dict[str, Any]) -> str:
    """A stable digest of a validated record, to tell an update from a repeat."""
    canonical = orjson.dumps(record, option=orjson.OPT_SORT_KEYS, default=_jsonable)
    return hashlib.blake2b(canonical, digest_size=12).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _props(record: dict[str, Any], *omit: str) -> dict[str, Any]:
    """The record's own properties but timestamps: everything but its id and references."""
    skip = {"id", *omit}
    return {k: v for k, v in record.items() if k not in skip and not isinstance(v, datetime)}


def _times(record: dict[str, Any]) -> dict[str, str]:
    """The record's timestamps as ISO-8601 text, for ``datetime()`` in Cypher."""
    return {k: v.isoformat() for k, v in record.items() if isinstance(v, datetime)}


def _plain(*references: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def to_row(record: dict[str, Any]) -> dict[str, Any]:
        row = {"id": record["id"], "hash": content_hash(record)}
        row.update({name: record[name] for name in references})
        row["props"] = _props(record, *references)
        row["t"] = _times(record)
        return row

    return to_row


def _refs(**labels: str) -> Callable[[dict[str, Any]], list[Reference]]:
    def references(record: dict[str, Any]) -> list[Reference]:
        return [(label, record[f]) for f, label in labels.items() if record.get(f) is not None]

    return references


def _identity_row(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "customer": record["customer"],
        "kind": record["kind"],
        "value": record["value"],
        "hash": content_hash(record),
        "t": _times(record),
        "props": _props(record, "customer", "kind", "value"),
    }


def _order_row(record: dict[str, Any]) -> dict[str, Any]:
    items = [{**item, "line": n} for n, item in enumerate(record["items"], start=1)]
    return {
        "id": record["id"],
        "customer": record["customer"],
        "hash": content_hash(record),
        "items": items,
        "t": _times(record),
        "props": _props(record, "customer", "items"),
    }


def _order_refs(record: dict[str, Any]) -> list[Reference]:
    return [("Customer", record["customer"])] + [
        ("Product", item["product"]) for item in record["items"]
    ]


def _interaction_row(record: dict[str, Any]) -> dict[str, Any]:
    identity = record.get("identity")
    return {
        "id": record["id"],
        "customer": record["customer"],
        "hash": content_hash(record),
        "identity": [identity["kind"], identity["value"]] if identity else None,
        "case": record.get("case"),
        "agent": record.get("agent"),
        "about": record["about"],
        "t": _times(record),
        "props": _props(record, "customer", "identity", "case", "agent", "about"),
    }


def _interaction_refs(record: dict[str, Any]) -> list[Reference]:
    refs = _refs(customer="Customer", case="Case", agent="Agent")(record)
    identity = record.get("identity")
    if identity is not None:
        refs.append(("Identity", (identity["kind"], identity["value"], record["customer"])))
    refs += [(r.ABOUT_TYPES[ref["type"]], ref["id"]) for ref in record["about"]]
    return refs


def _feedback_row(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "customer": record["customer"],
        "hash": content_hash(record),
        "rates": record.get("rates"),
        "t": _times(record),
        "props": _props(record, "customer", "rates"),
    }


def _feedback_refs(record: dict[str, Any]) -> list[Reference]:
    refs = _refs(customer="Customer")(record)
    rates = record.get("rates")
    if rates is not None:
        refs.append((r.RATES_TYPES[rates["type"]], rates["id"]))
    return refs


#: Every record type, in the order a load writes them (referenced types first).
RECORD_TYPES: tuple[RecordType, ...] = (
    RecordType("brands", r.BrandRecord, WRITE_BRANDS, _plain(), _refs(), csv=True),
    RecordType("agents", r.AgentRecord, WRITE_AGENTS, _plain(), _refs(), csv=True),
    RecordType("products", r.ProductRecord, WRITE_PRODUCTS, _plain(), _refs(), csv=True),
    RecordType(
        "customers",
        r.CustomerRecord,
        WRITE_CUSTOMERS,
        _plain("brand"),
        _refs(brand="Brand"),
        csv=True,
    ),
    RecordType(
        "addresses",
        r.AddressRecord,
        WRITE_ADDRESSES,
        _plain("customer"),
        _refs(customer="Customer"),
        csv=True,
    ),
    RecordType(
        "identities",
        r.IdentityRecord,
        WRITE_IDENTITIES,
        _identity_row,
        _refs(customer="Customer"),
        key=lambda record: (record["kind"], record["value"], record["customer"]),
        csv=True,
    ),
    RecordType("orders", r.OrderRecord, WRITE_ORDERS, _order_row, _order_refs),
    RecordType(
        "shipments",
        r.ShipmentRecord,
        WRITE_SHIPMENTS,
        _plain("order"),
        _refs(order="Order"),
        csv=True,
    ),
    RecordType(
        "returns", r.ReturnRecord, WRITE_RETURNS, _plain("order"), _refs(order="Order"), csv=True
    ),
    RecordType(
        "cases",
        r.CaseRecord,
        WRITE_CASES,
        _plain("customer"),
        _refs(customer="Customer"),
        csv=True,
    ),
    RecordType(
        "interactions", r.InteractionRecord, WRITE_INTERACTIONS, _interaction_row, _interaction_refs
    ),
    RecordType("feedback", r.FeedbackRecord, WRITE_FEEDBACK, _feedback_row, _feedback_refs),
)
BY_NAME = {record_type.name: record_type for record_type in RECORD_TYPES}
