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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

import orjson

from ctxapi.model import ReferenceType, may_fall_due
from ctxapi.store import records as r

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


def _node_write(
    label: LiteralString, times: LiteralString = "", links: LiteralString = ""
) -> LiteralString:
    """The write query of a node type, from fixed fragments (``label`` is one of ours).

    Compares each row's content hash with the stored ``sourceHash``; writes only what is new or
    changed: properties (``times`` sets the timestamps), then ``links`` rebuild relationships
    from the node ``n``. Returns the count per outcome.
    """
    return (
        "UNWIND $rows AS row OPTIONAL MATCH (old:" + label + " {id: row.id})\n"
        "WITH row, CASE WHEN old IS NULL THEN 'created'\n"
        "               WHEN old.sourceHash = row.hash THEN 'unchanged'\n"
        "               ELSE 'updated' END AS outcome\n"
        "CALL (row, outcome) {\n"
        "  WITH row WHERE outcome <> 'unchanged'\n"
        "  MERGE (n:" + label + " {id: row.id})\n"
        "  SET n = row.props, n.id = row.id, n.sourceHash = row.hash"
        + times
        + "\n"
        + ("  WITH n, row" + links if links else "")
        + "}\n"
        "RETURN outcome, count(*) AS n"
    )


def _typed_target(types: Mapping[ReferenceType, LiteralString]) -> LiteralString:
    """``t``: the node a ``{type, id}`` reference names, one UNION branch per allowed type
    (the same allow-list the record schema validates ``type`` against)."""
    branches = [
        "MATCH (t:" + label + " {id: ref.id}) WHERE ref.type = '" + kind + "' RETURN t"
        for kind, label in types.items()
    ]
    # Labels and type names come from the allow-lists in ctxapi.model, never from input.
    return "\n      " + "\n      UNION\n      ".join(branches) + "\n    "


def _queue_tier(label: LiteralString, item: LiteralString, tier: LiteralString) -> LiteralString:
    """``SET`` the queue tier of ``item`` (a ``label`` node) to ``tier`` while it may fall due."""
    # While an item may still fall due it carries its customer's tier, so the proactive
    # queue's indexes (migration 0003) hold only those; settled, it loses the copy.
    condition = may_fall_due(label, item)
    return "SET " + item + ".queueTier = CASE WHEN " + condition + " THEN " + tier + " END"


WRITE_BRANDS = _node_write("Brand")
WRITE_AGENTS = _node_write("Agent")
WRITE_PRODUCTS = _node_write("Product")

#: The customer ``n``'s tier copied onto their items that may fall due (also after a merge).
QUEUE_TIERS: LiteralString = (
    """
  CALL (n) { MATCH (n)-[:PLACED]->(:Order)-[:SHIPPED_AS]->(s:Shipment) """
    + _queue_tier("Shipment", "s", "n.tier")
    + """ }
  CALL (n) { MATCH (n)-[:PLACED]->(:Order)<-[:RETURNS]-(r:Return) """
    + _queue_tier("Return", "r", "n.tier")
    + """ }
  CALL (n) { MATCH (n)-[:OPENED]->(k:Case) """
    + _queue_tier("Case", "k", "n.tier")
    + """ }
"""
)

WRITE_CUSTOMERS = _node_write(
    "Customer",
    ", n.createdAt = datetime(row.t.createdAt)",
    """
  MATCH (b:Brand {id: row.brand})
  CALL (n, b) { MATCH (n)-[old:OF_BRAND]->(other) WHERE other <> b DELETE old }
  MERGE (n)-[:OF_BRAND]->(b)
  WITH n"""
    + QUEUE_TIERS,
)

WRITE_ADDRESSES = _node_write(
    "Address",
    links="""
  MATCH (c:Customer {id: row.customer})
  CALL (n) { MATCH (n)<-[old:LIVES_AT]-() DELETE old }
  MERGE (c)-[l:LIVES_AT]->(n) SET l.kind = row.props.kind
""",
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

WRITE_ORDERS = _node_write(
    "Order",
    ", n.placedAt = datetime(row.t.placedAt)",
    """
  MATCH (c:Customer {id: row.customer})
  CALL (n) { MATCH (n)<-[old:PLACED]-() DELETE old }
  CALL (n) { MATCH (n)-[old:CONTAINS]->() DELETE old }
  MERGE (c)-[:PLACED]->(n)
  WITH n, row, c
  CALL (n, c) { MATCH (n)-[:SHIPPED_AS]->(s:Shipment) """
    + _queue_tier("Shipment", "s", "c.tier")
    + """ }
  CALL (n, c) { MATCH (n)<-[:RETURNS]-(r:Return) """
    + _queue_tier("Return", "r", "c.tier")
    + """ }
  CALL (n, row) {
    UNWIND row.items AS item
    MATCH (p:Product {id: item.product})
    CREATE (n)-[:CONTAINS {line: item.line, quantity: item.quantity,
                           unitPriceMinor: item.unitPriceMinor}]->(p)
  }
""",
)

WRITE_SHIPMENTS = _node_write(
    "Shipment",
    """, n.shippedAt = datetime(row.t.shippedAt), n.promisedAt = datetime(row.t.promisedAt),
      n.deliveredAt = datetime(row.t.deliveredAt)""",
    """
  MATCH (o:Order {id: row.order})
  CALL (n) { MATCH (n)<-[old:SHIPPED_AS]-() DELETE old }
  MERGE (o)-[:SHIPPED_AS]->(n)
  WITH n, o
  CALL (n, o) { MATCH (o)<-[:PLACED]-(c:Customer) """
    + _queue_tier("Shipment", "n", "c.tier")
    + """ }
""",
)

WRITE_RETURNS = _node_write(
    "Return",
    """, n.requestedAt = datetime(row.t.requestedAt), n.receivedAt = datetime(row.t.receivedAt),
      n.refundedAt = datetime(row.t.refundedAt)""",
    """
  MATCH (o:Order {id: row.order})
  CALL (n) { MATCH (n)-[old:RETURNS]->() DELETE old }
  MERGE (n)-[:RETURNS]->(o)
  WITH n, o
  CALL (n, o) { MATCH (o)<-[:PLACED]-(c:Customer) """
    + _queue_tier("Return", "n", "c.tier")
    + """ }
""",
)

WRITE_CASES = _node_write(
    "Case",
    ", n.openedAt = datetime(row.t.openedAt), n.resolvedAt = datetime(row.t.resolvedAt)",
    """
  MATCH (c:Customer {id: row.customer})
  CALL (n) { MATCH (n)<-[old:OPENED]-() DELETE old }
  MERGE (c)-[:OPENED]->(n)
  """
    + _queue_tier("Case", "n", "c.tier")
    + """
""",
)

WRITE_INTERACTIONS = _node_write(
    "Interaction",
    ", n.occurredAt = datetime(row.t.occurredAt), n.respondedAt = datetime(row.t.respondedAt)",
    """
  MATCH (c:Customer {id: row.customer})
  CALL (n) { MATCH (n)-[old:VIA|PART_OF|HANDLED_BY|ABOUT]->() DELETE old }
  CALL (n) { MATCH (n)<-[old:HAD]-() DELETE old }
  MERGE (c)-[:HAD]->(n)
  WITH n, row
  CALL (n, row) {
    MATCH (v:Identity {kind: row.identity[0], value: row.identity[1]})
    MERGE (n)-[:VIA]->(v)
  }
  CALL (n, row) { MATCH (k:Case {id: row.case}) MERGE (n)-[:PART_OF]->(k) }
  CALL (n, row) { MATCH (a:Agent {id: row.agent}) MERGE (n)-[:HANDLED_BY]->(a) }
  CALL (n, row) {
    UNWIND row.about AS ref
    CALL (ref) {"""
    + _typed_target(r.ABOUT_TYPES)
    + """}
    MERGE (n)-[:ABOUT]->(t)
  }
""",
)

WRITE_FEEDBACK = _node_write(
    "Feedback",
    ", n.submittedAt = datetime(row.t.submittedAt)",
    """
  MATCH (c:Customer {id: row.customer})
  CALL (n) { MATCH (n)-[old:RATES]->() DELETE old }
  CALL (n) { MATCH (n)<-[old:GAVE]-() DELETE old }
  MERGE (c)-[:GAVE]->(n)
  WITH n, row
  CALL (n, row) {
    WITH row.rates AS ref WHERE ref IS NOT NULL
    CALL (ref) {"""
    + _typed_target(r.RATES_TYPES)
    + """}
    MERGE (n)-[:RATES]->(t)
  }
""",
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
    # .get: a patch (ctxapi.store.deltas) gives only what changes
    return _refs(customer="Customer")(record) + [
        ("Product", item["product"]) for item in record.get("items", ())
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
    refs += [(r.ABOUT_TYPES[ref["type"]], ref["id"]) for ref in record.get("about", ())]
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
