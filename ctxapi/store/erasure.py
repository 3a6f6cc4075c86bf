"""Erasure (GDPR Art. 17): a customer's personal data removed in one write transaction.

``erase`` is the work both ``eraseCustomer`` and ``ctxapi erase`` run through the ledger
(``ctxapi.store.ledger``): in one transaction with its ``Write`` record, or not at all.

Removed: the customer (name, locale, every property), their identity links (an identifier
no other customer has is deleted; one shared, a family landline, stays for the others),
addresses, notes, and every free text: interaction summaries and topics, case subjects,
return reasons, feedback comments, order numbers and tracking numbers. The ledger's ``Write``
records that name the customer lose their ``requestHash`` (a digest of an input that held
personal data); their audit facts (who, what, when, which customer ids) stay.

A customer merged into this one (``mergeCustomers``) is the same person: its empty record
goes (its id gets a tombstone too), and so does every ``Merge`` either took part in (the
provenance holds the merged customer's properties). A customer merged away is not erased on
its own (CONFLICT, naming the survivor to erase).

Kept when ``keep_aggregates`` (``CTXAPI_ERASURE_KEEP_AGGREGATES``, on by default): orders with
their lines, parcels and returns, cases, contacts and feedback, stripped of the free text
above, under new random ids, hanging from an ``(:ErasedCustomer {id, tier})`` of the same
brand that nothing links back to the customer (the receipt names no new id). Off: they are
deleted too. Either way a ``(:Tombstone)`` per hashed key (``ctxapi.store.tombstones``) keeps
the loader from writing the customer again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, LiteralString

from neo4j import ManagedTransaction

from ctxapi.store.events import Event
from ctxapi.store.ledger import Done, Work
from ctxapi.store.locking import live
from ctxapi.store.problems import Problem, ProblemCode, Refused
from ctxapi.store.tombstones import Tombstones

#: What an erasure counts, removed or kept, in the receipt's order.
COUNTED = (
    "identities", "addresses", "notes", "orders", "shipments", "returns", "cases",
    "interactions", "feedback",
)  # fmt: skip
EVENT = Event.CUSTOMER_ERASED

#: The customers merged into this one (mergeCustomers), directly or through others: the same
#: person, whose empty records and merge provenance go with them.
_MERGED_AWAY: LiteralString = (
    "MATCH (x:Merged)-[:MERGED_INTO*1..]->(:Customer {id: $id})"
    " RETURN collect(DISTINCT x.id) AS ids"
)
# A Merge holds the merged customer's properties and links to what moved: provenance of a
# person who is erased goes, as do the empty records merged away.
_MERGES: LiteralString = """
UNWIND $ids AS who
CALL (who) {
  MATCH (g:Merge {survivor: who}) RETURN g
  UNION MATCH (g:Merge {merged: who}) RETURN g
}
WITH DISTINCT g DETACH DELETE g RETURN count(*) AS n
"""
_AWAY_GONE: LiteralString = "UNWIND $ids AS id MATCH (x:Customer {id: id}) DETACH DELETE x"
_FACTS: LiteralString = """
MATCH (c:Customer {id: $id})
RETURN COLLECT { MATCH (i:Identity)-[:IDENTIFIES]->(c)
                 RETURN {kind: i.kind, value: i.value,
                         shared: EXISTS { (i)-[:IDENTIFIES]->(o:Customer) WHERE o <> c }} }
         AS identities,
       COLLECT { MATCH (c)-[:PLACED]->(o:Order) RETURN o.id } AS orders,
       COUNT { (c)-[:LIVES_AT]->(:Address) } AS addresses,
       COUNT { (c)-[:PLACED]->(:Order)-[:SHIPPED_AS]->(:Shipment) } AS shipments,
       COUNT { (c)-[:PLACED]->(:Order)<-[:RETURNS]-(:Return) } AS returns,
       COUNT { (c)-[:OPENED]->(:Case) } AS cases,
       COUNT { (c)-[:HAD]->(:Interaction) } AS interactions,
       COUNT { (c)-[:GAVE]->(:Feedback) } AS feedback,
       COLLECT { MATCH (c)-[:OF_BRAND]->(b:Brand) RETURN b.id } AS brands
"""
# The notes agents wrote (addNote) on the customer, or on one of their records:
# every one goes.
_NOTES: LiteralString = """
MATCH (c:Customer {id: $id})
CALL (c) {
  MATCH (c)--(n:Note) RETURN n
  UNION MATCH (c)-[:PLACED|OPENED|HAD|GAVE]->()--(n:Note) RETURN n
}
WITH DISTINCT n DETACH DELETE n RETURN count(*) AS n
"""
_PRIVATE: LiteralString = """
MATCH (c:Customer {id: $id})
CALL (c) { MATCH (c)-[:LIVES_AT]->(a:Address) DETACH DELETE a }
CALL (c) { MATCH (c)-[:HAD]->(:Interaction)-[v:VIA]->() DELETE v }
CALL (c) {
  MATCH (i:Identity)-[l:IDENTIFIES]->(c) DELETE l
  WITH i WHERE NOT EXISTS { (i)-[:IDENTIFIES]->() } DETACH DELETE i
}
"""
# Kept records: a new id, their free text and source digests removed, no queue tier (there
# is nobody to contact), moved to an anonymous customer of the same brand.
_KEEP: LiteralString = """
MATCH (c:Customer {id: $id})-[:OF_BRAND]->(b:Brand)
CREATE (e:ErasedCustomer {id: 'erased-' + randomUUID(), tier: c.tier})-[:OF_BRAND]->(b)
WITH c, e
CALL (c, e) {
  MATCH (c)-[:PLACED]->(o:Order)
  SET o.id = 'erased-' + randomUUID() REMOVE o.number, o.sourceHash
  CREATE (e)-[:PLACED]->(o)
  WITH o
  CALL (o) {
    MATCH (o)-[:SHIPPED_AS]->(s:Shipment)
    SET s.id = 'erased-' + randomUUID() REMOVE s.trackingNumber, s.sourceHash, s.queueTier
  }
  CALL (o) {
    MATCH (o)<-[:RETURNS]-(r:Return)
    SET r.id = 'erased-' + randomUUID() REMOVE r.reason, r.sourceHash, r.queueTier
  }
}
CALL (c, e) {
  MATCH (c)-[:OPENED]->(k:Case)
  SET k.id = 'erased-' + randomUUID() REMOVE k.subject, k.sourceHash, k.queueTier
  CREATE (e)-[:OPENED]->(k)
}
CALL (c, e) {
  MATCH (c)-[:HAD]->(i:Interaction)
  SET i.id = 'erased-' + randomUUID() REMOVE i.summary, i.topic, i.sourceHash
  CREATE (e)-[:HAD]->(i)
}
CALL (c, e) {
  MATCH (c)-[:GAVE]->(f:Feedback)
  SET f.id = 'erased-' + randomUUID() REMOVE f.comment, f.sourceHash
  CREATE (e)-[:GAVE]->(f)
}
"""
_DROP: LiteralString = """
MATCH (c:Customer {id: $id})
CALL (c) {
  MATCH (c)-[:PLACED]->(o:Order)
  CALL (o) { MATCH (o)-[:SHIPPED_AS]->(s:Shipment) DETACH DELETE s }
  CALL (o) { MATCH (o)<-[:RETURNS]-(r:Return) DETACH DELETE r }
  DETACH DELETE o
}
CALL (c) { MATCH (c)-[:OPENED|HAD|GAVE]->(x) WHERE x:Case OR x:Interaction OR x:Feedback
           DETACH DELETE x }
"""
_CUSTOMER_GONE: LiteralString = "MATCH (c:Customer {id: $id}) DETACH DELETE c"
_LEDGER: LiteralString = (
    "MATCH (w:Write) WHERE any(c IN w.customers WHERE c IN $ids) AND w.requestHash <> 'erased'"
    " SET w.requestHash = 'erased' RETURN count(w) AS n"
)


@dataclass(frozen=True)
class Erasure:
    """One erasure asked for: whose, why, when, and whether aggregates stay."""

    customer: str
    reason: str
    at: str
    keep_aggregates: bool
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", "erasure-" + uuid.uuid4().hex)


def zulu(moment: datetime) -> str:
    """An instant as ISO-8601 UTC text ending in Z, as the API's DateTime fields read."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def checked_reason(reason: str | None, field: tuple[str, ...]) -> str:
    """The erasure's reason: 1 to 500 characters (a ticket reference; it is kept)."""
    text = (reason or "").strip()
    if not text:
        raise Refused(
            [Problem(field, "say why: a ticket or request reference", ProblemCode.REQUIRED)]
        )
    if len(text) > 500:
        raise Refused([Problem(field, "a reason is at most 500 characters", ProblemCode.INVALID)])
    return text


def erase(
    erasure: Erasure, brands: Sequence[str] | None, tombstones: Tombstones, *, field: str
) -> Work:
    """The work of one erasure; its result is the receipt (counts and ids, no personal data).
    A customer that is not there (or of another brand, or erased before) is NOT_FOUND."""

    def work(tx: ManagedTransaction) -> Done:
        # locked against writes and merges; merged away: CONFLICT, naming whom to erase
        live(tx, brands, erasure.customer, field)
        away = tx.run(_MERGED_AWAY, id=erasure.customer).single(strict=True)["ids"]
        facts = tx.run(_FACTS, id=erasure.customer).single(strict=True)
        identities = facts["identities"]
        shared = sum(1 for identity in identities if identity["shared"])
        counts = {name: facts[name] for name in COUNTED if name not in ("identities", "notes")}
        counts |= {"identities": len(identities) - shared, "orders": len(facts["orders"])}
        stones: list[tuple[str, ...]] = [("customer", erasure.customer)]
        stones += [("customer", other) for other in away]
        stones += [("order", order) for order in facts["orders"]]
        stones += [
            ("identity", identity["kind"], identity["value"])
            for identity in identities
            if not identity["shared"]
        ]
        # First the tombstones: a missing or changed pepper stops the erasure before it writes.
        buried = tombstones.bury(tx, stones, erasure=erasure.id, at=erasure.at)
        notes = tx.run(_NOTES, id=erasure.customer).single(strict=True)["n"]
        tx.run(_PRIVATE, id=erasure.customer).consume()
        aggregates = ("orders", "shipments", "returns", "cases", "interactions", "feedback")
        if any(counts[name] for name in aggregates):  # else no anonymous customer is made
            drop_or_keep = _KEEP if erasure.keep_aggregates else _DROP
            tx.run(drop_or_keep, id=erasure.customer).consume()
        tx.run(_CUSTOMER_GONE, id=erasure.customer).consume()
        merges = tx.run(_MERGES, ids=[erasure.customer, *away]).single(strict=True)["n"]
        tx.run(_AWAY_GONE, ids=away).consume()
        scrubbed = tx.run(_LEDGER, ids=[erasure.customer, *away]).single(strict=True)["n"]
        kept = dict.fromkeys(COUNTED, 0) | {"identities": shared}
        removed = dict.fromkeys(COUNTED, 0) | {
            "identities": counts["identities"],
            "addresses": counts["addresses"],
            "notes": notes,
        }
        for name in aggregates:
            (kept if erasure.keep_aggregates else removed)[name] = counts[name]
        receipt: dict[str, Any] = {
            "id": erasure.id,
            "customerId": erasure.customer,
            "at": erasure.at,
            "reason": erasure.reason,
            "keptAggregates": erasure.keep_aggregates,
            "removed": removed,
            "kept": kept,
            "tombstones": buried,
            "writesScrubbed": scrubbed,
            "merges": merges,
            "mergedAway": len(away),
        }
        return Done({"erasure": receipt}, EVENT, [erasure.customer], facts["brands"])

    return work
