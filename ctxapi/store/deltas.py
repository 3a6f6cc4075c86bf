"""The write queries of patches and deletes (``ctxapi.store.ops``: what the records are).

A **patch** sets the properties it gives (``SET n += row.props``) and moves the relationships
of the references it gives. Its hash (``patch:`` + the digest of the patch) becomes the node's
``sourceHash``: the same patch again is ``unchanged``, and no upsert has that hash, so a later
full upsert is always written. A **delete** removes the record with what belongs to it
(``DELETES``); brands, agents and products still referenced are refused (``IN_USE``), and so
is a patch of what is not there (``refusals``, in the same transaction). Deleting what is not
there is ``unchanged``. Every query is static text from reviewed fragments (some are
graph.py's); values travel only as parameters. Upserts keep ``RecordType.write``.
"""

from __future__ import annotations

from typing import Any, LiteralString

from neo4j import ManagedTransaction

from ctxapi.store import records as r
from ctxapi.store.graph import MISSING_IDENTITIES, RecordType, _queue_tier, _typed_target
from ctxapi.store.ops import Op

#: The amounts of a type: (input field, its row key: a property in minor units, or items).
AMOUNTS: dict[str, tuple[tuple[str, str], ...]] = {
    "products": (("price", "priceMinor"),),
    "orders": (("total", "totalMinor"), ("items", "items")),
    "returns": (("refundAmount", "refundMinor"),),
}


# -- checks in the write transaction, before writing -----------------------------------------
def _targets(label: LiteralString) -> LiteralString:
    return (
        "UNWIND $ids AS id OPTIONAL MATCH (n:" + label + " {id: id}) "
        "RETURN id, n IS NOT NULL AS found, n.currency AS currency"
    )


LABELS: dict[str, LiteralString] = {
    "brands": "Brand", "agents": "Agent", "products": "Product", "customers": "Customer",
    "addresses": "Address", "orders": "Order", "shipments": "Shipment", "returns": "Return",
    "cases": "Case", "interactions": "Interaction", "feedback": "Feedback",
}  # fmt: skip
PATCH_TARGETS = {name: _targets(label) for name, label in LABELS.items()}

#: What refuses the delete of a record others point at: (name of the referrers, Cypher count).
USES: dict[str, tuple[tuple[str, LiteralString], ...]] = {
    "brands": (("customers", "COUNT { (n)<-[:OF_BRAND]-() }"),),
    "agents": (("interactions", "COUNT { (n)<-[:HANDLED_BY]-() }"),),
    "products": (
        ("order lines", "COUNT { (n)<-[:CONTAINS]-() }"),
        ("interactions", "COUNT { (n)<-[:ABOUT]-() }"),
        ("feedback", "COUNT { (n)<-[:RATES]-() }"),
    ),
}
IN_USE: dict[str, LiteralString] = {
    name: "UNWIND $ids AS id MATCH (n:"
    + LABELS[name]
    + " {id: id}) WITH id, ["
    + ", ".join(count for _, count in uses)
    + "] AS uses WHERE any(u IN uses WHERE u > 0) RETURN id, uses"
    for name, uses in USES.items()
}


def refusals(
    tx: ManagedTransaction, record_type: RecordType, rows: list[tuple[Op, dict[str, Any]]]
) -> dict[int, dict[str, list[str]]]:
    """The errors of the rows that cannot be written as asked, by their index in ``rows``:
    a patch of a record that is not there, a patch that changes the currency of stored
    amounts without giving them all, a delete of a brand, agent or product still in use."""
    name = record_type.name
    patches = {n: row for n, (op, row) in enumerate(rows) if op is Op.PATCH}
    deletes = {n: row for n, (op, row) in enumerate(rows) if op is Op.DELETE}
    errors: dict[int, dict[str, list[str]]] = {}
    if patches and name == "identities":
        keys = [[row["kind"], row["value"], row["customer"]] for row in patches.values()]
        missing = {tuple(k) for k in tx.run(MISSING_IDENTITIES, keys=keys).single(strict=True)[0]}
        for n, row in patches.items():
            if (row["kind"], row["value"], row["customer"]) in missing:
                what = f"no identity {row['kind']} {row['value']!r} of customer {row['customer']!r}"
                errors[n] = {"_record": [f"{what} to patch; send it as an upsert"]}
    elif patches:
        ids = list({row["id"] for row in patches.values()})
        stored = {rec["id"]: rec for rec in tx.run(PATCH_TARGETS[name], ids=ids)}
        for n, row in patches.items():
            if not stored[row["id"]]["found"]:
                errors[n] = {"_record": [f"no {name} {row['id']!r} to patch; send it as an upsert"]}
            elif problem := _currency_changes(name, row, stored[row["id"]]["currency"]):
                errors[n] = {"currency": [problem]}
    if deletes and name in IN_USE:
        ids = list({row["id"] for row in deletes.values()})
        used = {rec["id"]: rec["uses"] for rec in tx.run(IN_USE[name], ids=ids)}
        for n, row in deletes.items():
            if row["id"] in used:
                counts = zip(USES[name], used[row["id"]], strict=True)
                uses = ", ".join(f"{what}: {count:,}" for (what, _), count in counts if count)
                reason = (
                    f"{name} {row['id']!r} is still in use ({uses}): delete or change those first"
                )
                errors[n] = {"_record": [reason]}
    return errors


def _currency_changes(name: str, row: dict[str, Any], stored: str | None) -> str | None:
    """Why a patch may not change the currency of the stored amounts, if it may not: it must
    give every amount of the record anew (in the new currency)."""
    currency = row["props"].get("currency")
    if currency is None or stored is None or currency == stored:
        return None
    given = set(row["props"]) | {key for key, value in row.items() if value is not None}
    amounts = AMOUNTS.get(name, ())
    if all(key in given for _, key in amounts):
        return None
    fields = " and ".join(field for field, _ in amounts)
    return f"the stored amounts are in {stored}: a patch that changes currency gives {fields} too"


# -- the write queries -----------------------------------------------------------------------
def _patch(
    label: LiteralString, times: LiteralString = "", links: LiteralString = ""
) -> LiteralString:
    """A patch of a node that exists (``refusals`` rejected the others in the same transaction):
    the given properties (``times``: the given timestamps), then ``links`` from ``n``."""
    return (
        "UNWIND $rows AS row MATCH (n:" + label + " {id: row.id})\n"
        "WITH row, n, CASE WHEN n.sourceHash = row.hash THEN 'unchanged' ELSE 'updated' END"
        " AS outcome\n"
        "CALL (row, n, outcome) {\n"
        "  WITH row, n WHERE outcome <> 'unchanged'\n"
        "  SET n += row.props, n.sourceHash = row.hash"
        + times
        + "\n"
        + ("  WITH n, row" + links if links else "")
        + "}\n"
        "WITH outcome RETURN outcome, count(*) AS n"
    )


def _kept(*names: LiteralString) -> LiteralString:
    """``SET`` a timestamp the patch gives; keep the stored one otherwise."""
    return "".join(
        ", n." + x + " = coalesce(datetime(row.t." + x + "), n." + x + ")" for x in names
    )


def _move(
    ref: LiteralString, label: LiteralString, old: LiteralString, new: LiteralString
) -> LiteralString:
    """When the patch gives ``ref``: drop ``old`` (the pattern of the current link from
    ``n``), link ``new`` from ``n`` to the ``label`` node ``m`` it names."""
    return (
        "\n  CALL (n, row) {\n    WITH n, row WHERE row." + ref + " IS NOT NULL\n"
        "    MATCH (m:" + label + " {id: row." + ref + "})\n"
        "    CALL (n) { MATCH " + old + " DELETE old }\n    MERGE " + new + "\n  }"
    )


def _tier(label: LiteralString, path: LiteralString) -> LiteralString:
    """Keep ``n``'s queue tier (``graph._queue_tier``) from the customer ``c`` on ``path``."""
    return "\n  CALL (n) { MATCH " + path + " " + _queue_tier(label, "n", "c.tier") + " }"


_CUSTOMER_ITEMS: LiteralString = (
    "\n  CALL (n) { MATCH (n)-[:PLACED]->(:Order)-[:SHIPPED_AS]->(s:Shipment) "
    + _queue_tier("Shipment", "s", "n.tier")
    + " }\n  CALL (n) { MATCH (n)-[:PLACED]->(:Order)<-[:RETURNS]-(r:Return) "
    + _queue_tier("Return", "r", "n.tier")
    + " }\n  CALL (n) { MATCH (n)-[:OPENED]->(k:Case) "
    + _queue_tier("Case", "k", "n.tier")
    + " }"
)
_ORDER_ITEMS: LiteralString = (
    "\n  CALL (n) { MATCH (n)<-[:PLACED]-(c:Customer)"
    "\n    CALL (n, c) { MATCH (n)-[:SHIPPED_AS]->(s:Shipment) "
    + _queue_tier("Shipment", "s", "c.tier")
    + " }\n    CALL (n, c) { MATCH (n)<-[:RETURNS]-(r:Return) "
    + _queue_tier("Return", "r", "c.tier")
    + " }\n  }"
)


def _from_customer(rel: LiteralString) -> LiteralString:
    return _move("customer", "Customer", "(n)<-[old:" + rel + "]-()", "(m)-[:" + rel + "]->(n)")


def _replace(ref: LiteralString, rel: LiteralString, body: LiteralString) -> LiteralString:
    """When the patch gives ``ref``: drop ``n``'s ``rel`` links, then ``body`` makes the new."""
    return (
        "\n  CALL (n, row) {\n    WITH n, row WHERE row." + ref + " IS NOT NULL\n"
        "    CALL (n) { MATCH (n)-[old:" + rel + "]->() DELETE old }" + body + "\n  }"
    )


PATCHES: dict[str, LiteralString] = {
    "brands": _patch("Brand"),
    "agents": _patch("Agent"),
    "products": _patch("Product"),
    "customers": _patch(
        "Customer",
        _kept("createdAt"),
        _move("brand", "Brand", "(n)-[old:OF_BRAND]->()", "(n)-[:OF_BRAND]->(m)") + _CUSTOMER_ITEMS,
    ),
    "addresses": _patch(
        "Address",
        links=_from_customer("LIVES_AT")
        + "\n  CALL (n) { MATCH (n)<-[l:LIVES_AT]-() SET l.kind = n.kind }",
    ),
    "orders": _patch(
        "Order",
        _kept("placedAt"),
        _from_customer("PLACED")
        + _replace(
            "items",
            "CONTAINS",
            """
    UNWIND row.items AS item
    MATCH (p:Product {id: item.product})
    CREATE (n)-[:CONTAINS {line: item.line, quantity: item.quantity,
                           unitPriceMinor: item.unitPriceMinor}]->(p)""",
        )
        + _ORDER_ITEMS,
    ),
    "shipments": _patch(
        "Shipment",
        _kept("shippedAt", "promisedAt", "deliveredAt"),
        _move("order", "Order", "(n)<-[old:SHIPPED_AS]-()", "(m)-[:SHIPPED_AS]->(n)")
        + _tier("Shipment", "(n)<-[:SHIPPED_AS]-(:Order)<-[:PLACED]-(c:Customer)"),
    ),
    "returns": _patch(
        "Return",
        _kept("requestedAt", "receivedAt", "refundedAt"),
        _move("order", "Order", "(n)-[old:RETURNS]->()", "(n)-[:RETURNS]->(m)")
        + _tier("Return", "(n)-[:RETURNS]->(:Order)<-[:PLACED]-(c:Customer)"),
    ),
    "cases": _patch(
        "Case",
        _kept("openedAt", "resolvedAt"),
        _from_customer("OPENED") + _tier("Case", "(n)<-[:OPENED]-(c:Customer)"),
    ),
    "interactions": _patch(
        "Interaction",
        _kept("occurredAt", "respondedAt"),
        _from_customer("HAD")
        # moved to another customer, it keeps its identity only if that one's too
        + """
  CALL (n) { MATCH (n)-[v:VIA]->(i), (n)<-[:HAD]-(c) WHERE NOT EXISTS { (i)-[:IDENTIFIES]->(c) }
    DELETE v }"""
        + _replace(
            "identity",
            "VIA",
            """
    MATCH (v:Identity {kind: row.identity[0], value: row.identity[1]})
    MERGE (n)-[:VIA]->(v)""",
        )
        + _move("case", "Case", "(n)-[old:PART_OF]->()", "(n)-[:PART_OF]->(m)")
        + _move("agent", "Agent", "(n)-[old:HANDLED_BY]->()", "(n)-[:HANDLED_BY]->(m)")
        + _replace(
            "about",
            "ABOUT",
            "\n    UNWIND row.about AS ref\n    CALL (ref) {"
            + _typed_target(r.ABOUT_TYPES)
            + "}\n    MERGE (n)-[:ABOUT]->(t)",
        ),
    ),
    "feedback": _patch(
        "Feedback",
        _kept("submittedAt"),
        _from_customer("GAVE")
        + _replace(
            "rates",
            "RATES",
            "\n    WITH n, row.rates AS ref\n    CALL (ref) {"
            + _typed_target(r.RATES_TYPES)
            + "}\n    MERGE (n)-[:RATES]->(t)",
        ),
    ),
}
PATCH_IDENTITIES: LiteralString = """
UNWIND $rows AS row
MATCH (:Identity {kind: row.kind, value: row.value})-[l:IDENTIFIES]->(:Customer {id: row.customer})
WITH row, l, CASE WHEN l.sourceHash = row.hash THEN 'unchanged' ELSE 'updated' END AS outcome
CALL (row, l, outcome) {
  WITH row, l WHERE outcome <> 'unchanged'
  SET l += row.props, l.sourceHash = row.hash,
      l.linkedAt = coalesce(datetime(row.t.linkedAt), l.linkedAt)
}
RETURN outcome, count(*) AS n
"""
PATCHES["identities"] = PATCH_IDENTITIES


def _delete(label: LiteralString, cascade: LiteralString = "") -> LiteralString:
    """Delete each row's ``label`` node ``n`` if it is there, after its ``cascade``."""
    return (
        "UNWIND $rows AS row OPTIONAL MATCH (n:" + label + " {id: row.id})\n"
        "WITH n, CASE WHEN n IS NULL THEN 'unchanged' ELSE 'deleted' END AS outcome\n"
        "CALL (n, outcome) {\n"
        "  WITH n WHERE outcome = 'deleted'" + cascade + "\n"
        "  DETACH DELETE n\n"
        "}\n"
        "WITH outcome RETURN outcome, count(*) AS n"
    )


#: An order goes with its shipments and returns (its lines are its CONTAINS links).
_ORDER_PARTS: LiteralString = """
    CALL (o) { MATCH (o)-[:SHIPPED_AS]->(s:Shipment) DETACH DELETE s }
    CALL (o) { MATCH (o)<-[:RETURNS]-(x:Return) DETACH DELETE x }"""

DELETES: dict[str, LiteralString] = {
    "brands": _delete("Brand"),  # refused while in use (IN_USE), like agents and products
    "agents": _delete("Agent"),
    "products": _delete("Product"),
    "customers": _delete(
        "Customer",
        """
  CALL (n) {
    MATCH (n)<-[:IDENTIFIES]-(i:Identity)
    WHERE NOT EXISTS { (i)-[:IDENTIFIES]->(other) WHERE other <> n }
    DETACH DELETE i
  }
  CALL (n) {
    MATCH (n)-[:PLACED]->(o:Order)"""
        + _ORDER_PARTS
        + """
    DETACH DELETE o
  }
  CALL (n) { MATCH (n)-[:LIVES_AT|OPENED|HAD|GAVE|HAS_NOTE]->(x) DETACH DELETE x }""",
    ),
    "addresses": _delete("Address"),
    "orders": _delete("Order", "\n  WITH n AS o, n" + _ORDER_PARTS),
    "shipments": _delete("Shipment"),
    "returns": _delete("Return"),
    "cases": _delete("Case"),  # its interactions stay, without PART_OF
    "interactions": _delete("Interaction"),
    "feedback": _delete("Feedback"),
    # The link goes; the identity too once it identifies no one; the customer's contacts
    # through it lose VIA (an interaction's identity is always one of its customer's).
    "identities": """
UNWIND $rows AS row
OPTIONAL MATCH (i:Identity {kind: row.kind, value: row.value})-[l:IDENTIFIES]->
               (c:Customer {id: row.customer})
WITH i, l, c, CASE WHEN l IS NULL THEN 'unchanged' ELSE 'deleted' END AS outcome
CALL (i, l, c, outcome) {
  WITH i, l, c WHERE outcome = 'deleted'
  CALL (i, c) { MATCH (c)-[:HAD]->(:Interaction)-[v:VIA]->(i) DELETE v }
  DELETE l
  WITH i WHERE NOT EXISTS { (i)-[:IDENTIFIES]->() }
  DETACH DELETE i
}
WITH outcome RETURN outcome, count(*) AS n
""",
}


def query(record_type: RecordType, op: Op) -> LiteralString:
    """The one write query of a record type for an op."""
    if op is Op.UPSERT:
        return record_type.write
    return (PATCHES if op is Op.PATCH else DELETES)[record_type.name]
