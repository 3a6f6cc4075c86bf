"""Merging two customers into one, with its provenance, and undoing it exactly.

A merge moves every relationship of the merged customer (identity links, addresses, orders,
cases, contacts, feedback, and whatever else a customer gets linked to: the types are found
in the graph, not listed here) to the survivor, and records a ``(:Merge)`` node: who, when,
why, the merged customer's own properties, and, as one ``MOVED`` relationship per link moved
(to the record at its other end, with the link's type, direction and properties), exactly
what moved. The merged customer stays as a tombstone: labelled ``Merged``, with
``MERGED_INTO`` to the survivor and nothing else but its brand. An unmerge moves back exactly
what the merge recorded and the survivor still has; what came to the survivor after the
merge stays with the survivor.

Only the links that make a customer (``OF_BRAND``) or record merges (``MERGED_INTO``,
``MOVED``) stay where they are. A link the survivor already has (the same type to the same
record: a landline both shared) is not doubled: the survivor keeps its own, and the merged
customer's is recorded (``movedDuplicate``) and comes back on unmerge.

Queries are static text; relationship types travel as values from the graph itself
(``$(type(r))``), never from input. Both customers are write-locked first, in id order
(``ctxapi.store.locking``), so merges, unmerges and writes to either customer serialize.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, LiteralString

import orjson
from neo4j import ManagedTransaction

from ctxapi.access.brands import in_brands
from ctxapi.store.graph import QUEUE_TIERS
from ctxapi.store.locking import lock
from ctxapi.store.problems import ProblemCode, refused

#: Links that never move: the customer's brand and the records of merges.
FIXED_TYPES = ["OF_BRAND", "MERGED_INTO", "MOVED"]
#: Properties a MOVED relationship adds to the moved link's own.
_MOVED_KEYS: LiteralString = "n.movedType, n.movedOut, n.movedDuplicate"

_PROPERTIES: LiteralString = "MATCH (c:Customer {id: $id}) RETURN properties(c) AS props"
_CREATE: LiteralString = """
MATCH (m:Customer {id: $merged}), (s:Customer {id: $survivor})
CREATE (g:Merge {id: $id, survivor: $survivor, merged: $merged, reason: $reason,
                 keyId: $keyId, keyName: $keyName, requestId: $requestId, at: datetime($at),
                 mergedProperties: $props})
SET m:Merged
CREATE (m)-[:MERGED_INTO {merge: $id, at: datetime($at)}]->(s)
"""
# One query per direction: a relationship's direction cannot be a value.
_MOVE_OUT: LiteralString = """
MATCH (g:Merge {id: $id}), (m:Customer {id: $merged}), (s:Customer {id: $survivor})
MATCH (m)-[r]->(t) WHERE NOT type(r) IN $fixed AND t <> s AND t <> m
WITH g, s, r, t, EXISTS { MATCH (s)-[q]->(t) WHERE type(q) = type(r) } AS duplicate
CREATE (g)-[mv:MOVED]->(t)
SET mv = properties(r), mv.movedType = type(r), mv.movedOut = true, mv.movedDuplicate = duplicate
WITH s, r, t, duplicate
CALL (s, r, t, duplicate) {
  WITH * WHERE NOT duplicate CREATE (s)-[n:$(type(r))]->(t) SET n = properties(r)
}
DELETE r
RETURN count(*) AS n
"""
_MOVE_IN: LiteralString = """
MATCH (g:Merge {id: $id}), (m:Customer {id: $merged}), (s:Customer {id: $survivor})
MATCH (m)<-[r]-(t) WHERE NOT type(r) IN $fixed AND t <> s AND t <> m
WITH g, s, r, t, EXISTS { MATCH (s)<-[q]-(t) WHERE type(q) = type(r) } AS duplicate
CREATE (g)-[mv:MOVED]->(t)
SET mv = properties(r), mv.movedType = type(r), mv.movedOut = false, mv.movedDuplicate = duplicate
WITH s, r, t, duplicate
CALL (s, r, t, duplicate) {
  WITH * WHERE NOT duplicate CREATE (s)<-[n:$(type(r))]-(t) SET n = properties(r)
}
DELETE r
RETURN count(*) AS n
"""
_REFRESH: LiteralString = (
    "UNWIND $ids AS id MATCH (n:Customer {id: id})" + QUEUE_TIERS + "RETURN count(n) AS n"
)

_FIND: LiteralString = (
    "MATCH (g:Merge {id: $id}) WHERE EXISTS { MATCH (c:Customer {id: g.survivor}) WHERE "
    + in_brands("c")
    + " } RETURN g.survivor AS survivor, g.merged AS merged"
)
_STATE: LiteralString = "MATCH (g:Merge {id: $id}) RETURN g.undoneAt IS NOT NULL AS undone"
# Back only what the survivor still has (or, for a link it had itself, what the merged had).
_BACK_OUT: LiteralString = (
    """
MATCH (g:Merge {id: $id})-[mv:MOVED {movedOut: true}]->(t)
MATCH (m:Customer {id: g.merged}), (s:Customer {id: g.survivor})
OPTIONAL MATCH (s)-[r]->(t) WHERE type(r) = mv.movedType
WITH m, mv, t, r WHERE mv.movedDuplicate OR r IS NOT NULL
CREATE (m)-[n:$(mv.movedType)]->(t) SET n = properties(mv) REMOVE """
    + _MOVED_KEYS
    + """
WITH r, mv WHERE NOT mv.movedDuplicate
DELETE r
RETURN count(*) AS n
"""
)
_BACK_IN: LiteralString = (
    """
MATCH (g:Merge {id: $id})-[mv:MOVED {movedOut: false}]->(t)
MATCH (m:Customer {id: g.merged}), (s:Customer {id: g.survivor})
OPTIONAL MATCH (s)<-[r]-(t) WHERE type(r) = mv.movedType
WITH m, mv, t, r WHERE mv.movedDuplicate OR r IS NOT NULL
CREATE (m)<-[n:$(mv.movedType)]-(t) SET n = properties(mv) REMOVE """
    + _MOVED_KEYS
    + """
WITH r, mv WHERE NOT mv.movedDuplicate
DELETE r
RETURN count(*) AS n
"""
)
_UNDONE: LiteralString = """
MATCH (g:Merge {id: $id}), (m:Customer {id: g.merged})-[into:MERGED_INTO {merge: $id}]->()
DELETE into
REMOVE m:Merged
SET g.undoneAt = datetime($at), g.undoneByKeyId = $keyId, g.undoneByKeyName = $keyName,
    g.undoneRequestId = $requestId
"""


def merge(
    tx: ManagedTransaction,
    brands: Sequence[str] | None,
    survivor: str,
    merged: str,
    who: dict[str, Any],
) -> str:
    """Merge the customer ``merged`` into ``survivor``; the new Merge's id. ``who`` holds
    ``reason``, ``keyId``, ``keyName``, ``requestId`` and ``at`` (ISO text). Refused: either
    customer missing (NOT_FOUND) or merged away, or their brands differ (CONFLICT)."""
    if survivor == merged:
        raise refused("mergedId", "a customer cannot be merged into itself", ProblemCode.CONFLICT)
    locked = lock(tx, brands, [survivor, merged])
    for cid, field in ((survivor, "survivorId"), (merged, "mergedId")):
        state = locked.get(cid)
        if state is None:
            raise refused(field, f"customer {cid!r} does not exist", ProblemCode.NOT_FOUND)
        if state.merged_into is not None:
            message = f"customer {cid!r} was merged into {state.merged_into!r} already"
            raise refused(field, message, ProblemCode.CONFLICT)
    if locked[survivor].brand != locked[merged].brand:
        message = f"customers {survivor!r} and {merged!r} are of different brands"
        raise refused("mergedId", message, ProblemCode.CONFLICT)
    props = tx.run(_PROPERTIES, id=merged).single(strict=True)["props"]
    merge_id = "mrg-" + uuid.uuid4().hex
    ids = {"id": merge_id, "survivor": survivor, "merged": merged}
    tx.run(_CREATE, ids, props=_json(props), **who).consume()
    for query in (_MOVE_OUT, _MOVE_IN):
        tx.run(query, ids, fixed=FIXED_TYPES).consume()
    tx.run(_REFRESH, ids=[survivor]).consume()
    return merge_id


def unmerge(
    tx: ManagedTransaction, brands: Sequence[str] | None, merge_id: str, who: dict[str, Any]
) -> tuple[str, str]:
    """Undo the merge ``merge_id``: (survivor, merged). Refused: no such merge of the key's
    brands (NOT_FOUND), undone already, or its survivor merged into another since (CONFLICT:
    undo that merge first)."""
    found = tx.run(_FIND, id=merge_id, __brands=brands).single()
    if found is None:
        raise refused("mergeId", f"merge {merge_id!r} does not exist", ProblemCode.NOT_FOUND)
    survivor, merged = found["survivor"], found["merged"]
    locked = lock(tx, None, [survivor, merged])
    gone = [cid for cid in (survivor, merged) if cid not in locked]
    if gone:
        message = f"customer {gone[0]!r} of merge {merge_id!r} no longer exists"
        raise refused("mergeId", message, ProblemCode.CONFLICT)
    if tx.run(_STATE, id=merge_id).single(strict=True)["undone"]:
        message = f"merge {merge_id!r} was undone already"
        raise refused("mergeId", message, ProblemCode.CONFLICT)
    later = locked[survivor].merged_into
    if later is not None:
        message = f"customer {survivor!r} was merged into {later!r} since: undo that merge first"
        raise refused("mergeId", message, ProblemCode.CONFLICT)
    for query in (_BACK_OUT, _BACK_IN):
        tx.run(query, id=merge_id).consume()
    tx.run(_UNDONE, id=merge_id, **who).consume()
    tx.run(_REFRESH, ids=[survivor, merged]).consume()
    return survivor, merged


def _json(props: dict[str, Any]) -> str:
    """A node's properties as JSON text (times as ISO-8601)."""
    return orjson.dumps(props, default=_text, option=orjson.OPT_SORT_KEYS).decode()


def _text(value: Any) -> str:
    if hasattr(value, "iso_format"):
        return str(value.iso_format())
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


# -- the loader and merged customers ----------------------------------------------------------
# A source system does not know about merges made here: its records keep naming the customer
# merged away. They apply to the survivor (the end of the MERGED_INTO chain) instead.
_SURVIVORS: LiteralString = (
    "UNWIND $ids AS id MATCH (:Customer:Merged {id: id})-[:MERGED_INTO*1..]->(s:Customer)"
    " WHERE NOT s:Merged RETURN id, s.id AS survivor"
)


def survivors(tx: ManagedTransaction, ids: Sequence[str]) -> dict[str, str]:
    """Of the customers ``ids``, those merged away, each with its survivor."""
    return {row["id"]: row["survivor"] for row in tx.run(_SURVIVORS, ids=list(ids))}


def redirected(
    row: dict[str, Any], references: list[tuple[str, Any]], moved: dict[str, str]
) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """A loader row and its references with a merged-away customer replaced by its survivor."""
    customer = row.get("customer")
    if customer not in moved:
        return row, references
    survivor = moved[customer]
    refs = [
        (label, survivor if label == "Customer" and value == customer else value)
        if label != "Identity"
        else (label, (*value[:2], survivor) if value[2] == customer else value)
        for label, value in references
    ]
    return row | {"customer": survivor}, refs
