"""Write locks on customers, taken first by every write that must not race a merge.

A merge moves everything of one customer to another; a write to the customer merged away
that slipped in beside it would be lost (written to a customer no read shows). So every
write for a customer locks that customer before it looks at it (``lock``): a merge locks
both its customers first, in the order of their ids (two merges of one pair, or a merge and
an unmerge, cannot deadlock on each other), and a write that comes after a merge finds the
customer merged (``Locked.merged_into``) and is refused. The lock is Neo4j's own: setting a
property takes the node's write lock until the transaction ends (the property is removed in
the same statement, so nothing is left behind).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import LiteralString

from neo4j import ManagedTransaction

from ctxapi.access.brands import in_brands
from ctxapi.store.problems import ProblemCode, refused

_LOCK: LiteralString = (
    "MATCH (c:Customer {id: $id}) WHERE " + in_brands("c") + " SET c._lock = true REMOVE c._lock"
    " RETURN COLLECT { MATCH (c)-[:MERGED_INTO]->(s:Customer) RETURN s.id }[0] AS mergedInto,"
    " COLLECT { MATCH (c)-[:OF_BRAND]->(b:Brand) RETURN b.id }[0] AS brand"
)


@dataclass(frozen=True)
class Locked:
    """A customer locked for this transaction: its brand, and whom it was merged into."""

    id: str
    brand: str | None
    merged_into: str | None


def lock(
    tx: ManagedTransaction, brands: Sequence[str] | None, ids: Iterable[str]
) -> dict[str, Locked]:
    """Write-lock the customers ``ids`` of the key's brands, in id order, and read their state
    after the lock (what committed before it). A customer not there (or of another brand) is
    left out of the answer."""
    found: dict[str, Locked] = {}
    for cid in sorted(set(ids)):
        row = tx.run(_LOCK, id=cid, __brands=brands).single()
        if row is not None:
            found[cid] = Locked(cid, row["brand"], row["mergedInto"])
    return found


_LOCK_ALL: LiteralString = (
    "UNWIND $ids AS id MATCH (c:Customer {id: id}) SET c._lock = true REMOVE c._lock"
    " RETURN collect(id) AS found, collect(CASE WHEN c:Merged THEN id END) AS merged"
)


def lock_all(tx: ManagedTransaction, ids: Iterable[str]) -> tuple[set[str], set[str]]:
    """Write-lock the customers ``ids`` that exist, in id order (a loader's batch): (those that
    exist, those of them merged into another)."""
    row = tx.run(_LOCK_ALL, ids=sorted(set(ids))).single(strict=True)
    return set(row["found"]), set(row["merged"])


def live(tx: ManagedTransaction, brands: Sequence[str] | None, cid: str, field: str) -> str:
    """Lock the customer ``cid`` for a write to it; Refused when there is none (NOT_FOUND) or
    it was merged into another (CONFLICT, naming the survivor)."""
    locked = lock(tx, brands, [cid]).get(cid)
    if locked is None:
        message = f"customer {cid!r} does not exist"
        raise refused(field, message, ProblemCode.NOT_FOUND)
    if locked.merged_into is not None:
        message = f"customer {cid!r} was merged into {locked.merged_into!r}: write to that customer"
        raise refused(field, message, ProblemCode.CONFLICT)
    return cid


def owner_of(
    tx: ManagedTransaction,
    brands: Sequence[str] | None,
    find: Callable[[], str | None],
    field: str,
    missing: str,
) -> str:
    """The customer ``find`` says owns a record (a case, a parcel …), locked. A merge that
    committed while the lock was awaited moved the record to the survivor: asked again, it
    answers the survivor. Refused when ``find`` finds nothing (NOT_FOUND: ``missing``)."""
    last = ""
    for _attempt in range(3):
        owner = find()
        if owner is None:
            raise refused(field, missing, ProblemCode.NOT_FOUND)
        locked = lock(tx, brands, [owner]).get(owner)
        if locked is not None and locked.merged_into is None:
            return owner
        last = owner
    return live(tx, brands, last, field)  # merged again and again: refused, naming where
