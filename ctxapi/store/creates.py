"""The loader's writes of records known to be new, and how it tells them from the rest.

A node that is not in the graph has no relationships: nothing can point at what does not
exist (references are checked before every write, and a delete takes what belongs to the
record with it). So the upsert of a new record (``RecordType.write``) comes down to ``CREATE``:
no ``MERGE`` lookup, no old links to drop, no tiers to copy onto items it cannot have yet. The
loader asks ``STATES`` which keys of a batch exist (and their ``sourceHash``), counts the
repeats ``unchanged`` without writing them, sends the new ones here and the changed ones to
``RecordType.write`` (identity links all go there). A record created by someone else in
between breaks a uniqueness constraint at commit, and the loader's record-by-record retry then
finds it there. Each query makes the same nodes, properties and relationships as
``RecordType.write`` does for a record that is not there (``tests/test_seed_creates.py``
compares the two graphs), from the same fragments.
"""

from __future__ import annotations

from typing import LiteralString

from ctxapi.store import records as r
from ctxapi.store.deltas import LABELS
from ctxapi.store.graph import _queue_tier, _typed_target

#: Which keys of a batch are in the graph, with the hash of what was written: ``$ids``.
STATES: dict[str, LiteralString] = {
    name: "UNWIND $ids AS id MATCH (n:" + label + " {id: id}) RETURN id, n.sourceHash AS hash"
    for name, label in LABELS.items()
}
# Identity links keep their upsert query: its plan measured faster than a CREATE of the link
# beside the MERGE of the shared identity node (an Eager between them).


def _create(
    label: LiteralString, times: LiteralString = "", links: LiteralString = ""
) -> LiteralString:
    """``CREATE`` a new ``label`` node per row with its properties (``times``: timestamps), then
    ``links`` from it (a unit subquery, as in ``graph._node_write``: a row counts either way)."""
    return (
        "UNWIND $rows AS row CREATE (n:" + label + ")\n"
        "SET n = row.props, n.id = row.id, n.sourceHash = row.hash"
        + times
        + "\n"
        + ("WITH n, row\nCALL (n, row) {" + links + "}\n" if links else "")
        + "RETURN 'created' AS outcome, count(*) AS n"
    )


def _from_customer(rel: LiteralString, rest: LiteralString = "") -> LiteralString:
    """The link from the customer ``c`` (``rel``: its variable and type), then ``rest``."""
    return (
        "\n  MATCH (c:Customer {id: row.customer})\n  CREATE (c)-[" + rel + "]->(n)" + rest + "\n"
    )


def _order_tier(label: LiteralString, link: LiteralString) -> LiteralString:
    """The link to the order ``o``, then the queue tier of its customer (``graph``'s rule)."""
    return (
        "\n  MATCH (o:Order {id: row.order})\n  CREATE " + link + "\n  WITH n, o\n"
        "  CALL (n, o) { MATCH (o)<-[:PLACED]-(c:Customer) "
        + _queue_tier(label, "n", "c.tier")
        + " }\n"
    )


CREATES: dict[str, LiteralString] = {
    "brands": _create("Brand"),
    "agents": _create("Agent"),
    "products": _create("Product"),
    "customers": _create(
        "Customer",
        ", n.createdAt = datetime(row.t.createdAt)",
        "\n  MATCH (b:Brand {id: row.brand})\n  CREATE (n)-[:OF_BRAND]->(b)\n",
    ),
    "addresses": _create(
        "Address", links=_from_customer("l:LIVES_AT", " SET l.kind = row.props.kind")
    ),
    "orders": _create(
        "Order",
        ", n.placedAt = datetime(row.t.placedAt)",
        _from_customer(
            ":PLACED",
            """
  WITH n, row
  CALL (n, row) {
    UNWIND row.items AS item
    MATCH (p:Product {id: item.product})
    CREATE (n)-[:CONTAINS {line: item.line, quantity: item.quantity,
                           unitPriceMinor: item.unitPriceMinor}]->(p)
  }""",
        ),
    ),
    "shipments": _create(
        "Shipment",
        """, n.shippedAt = datetime(row.t.shippedAt), n.promisedAt = datetime(row.t.promisedAt),
    n.deliveredAt = datetime(row.t.deliveredAt)""",
        _order_tier("Shipment", "(o)-[:SHIPPED_AS]->(n)"),
    ),
    "returns": _create(
        "Return",
        """, n.requestedAt = datetime(row.t.requestedAt), n.receivedAt = datetime(row.t.receivedAt),
    n.refundedAt = datetime(row.t.refundedAt)""",
        _order_tier("Return", "(n)-[:RETURNS]->(o)"),
    ),
    "cases": _create(
        "Case",
        ", n.openedAt = datetime(row.t.openedAt), n.resolvedAt = datetime(row.t.resolvedAt)",
        _from_customer(":OPENED", "\n  " + _queue_tier("Case", "n", "c.tier")),
    ),
    "interactions": _create(
        "Interaction",
        ", n.occurredAt = datetime(row.t.occurredAt), n.respondedAt = datetime(row.t.respondedAt)",
        _from_customer(
            ":HAD",
            """
  WITH n, row
  CALL (n, row) {
    MATCH (v:Identity {kind: row.identity[0], value: row.identity[1]})
    CREATE (n)-[:VIA]->(v)
  }
  CALL (n, row) { MATCH (k:Case {id: row.case}) CREATE (n)-[:PART_OF]->(k) }
  CALL (n, row) { MATCH (a:Agent {id: row.agent}) CREATE (n)-[:HANDLED_BY]->(a) }
  CALL (n, row) {
    UNWIND row.about AS ref
    CALL (ref) {"""
            + _typed_target(r.ABOUT_TYPES)
            + """}
    MERGE (n)-[:ABOUT]->(t)
  }""",
        ),
    ),
    "feedback": _create(
        "Feedback",
        ", n.submittedAt = datetime(row.t.submittedAt)",
        _from_customer(
            ":GAVE",
            """
  WITH n, row
  CALL (n, row) {
    WITH row.rates AS ref WHERE ref IS NOT NULL
    CALL (ref) {"""
            + _typed_target(r.RATES_TYPES)
            + """}
    CREATE (n)-[:RATES]->(t)
  }""",
        ),
    ),
}
