"""Writes an agent makes on a case or a customer's file: a case's status, priority and owner;
a note.

A case's update changes only what it names and keeps what the loader keeps in step: the
resolution time (set when a case is resolved or closed, cleared when it is reopened) and the
proactive queue's copy of the customer's tier (``queueTier``, only while the case may fall
due). The loader's ``sourceHash`` is left as it was: a rerun of the export the case came from
reports it unchanged and does not undo the agent's update; a newer export of the case (another
hash) replaces it, as any update of the source does.

Notes exist only through the API: ``(:Customer)-[:HAS_NOTE]->(:Note)``, with the agent who
wrote it (``WROTE``) and the case it is on (``ON``).
"""

from __future__ import annotations

from typing import LiteralString

from ctxapi.model import OPEN_CASES, may_fall_due

#: The case ``$id`` of customer ``$customer`` (locked by the caller) updated with ``$set``
#: (status, priority: only the keys given) and the owner ``$owner`` (an agent id; "" clears).
UPDATE_CASE: LiteralString = (
    """
MATCH (c:Customer {id: $customer})-[:OPENED]->(k:Case {id: $id})
WITH c, k, k.status AS before
SET k += $set
SET k.resolvedAt = CASE
  WHEN NOT k.status IN """
    + OPEN_CASES
    + """ THEN coalesce(k.resolvedAt, datetime($at))
  ELSE null END
"""
    + "SET k.queueTier = CASE WHEN "
    + may_fall_due("Case", "k")
    + """ THEN c.tier END
WITH c, k, before
CALL (k) {
  WITH k WHERE $owner IS NOT NULL
  OPTIONAL MATCH (k)-[old:ASSIGNED_TO]->(:Agent) DELETE old
}
CALL (k) {
  MATCH (a:Agent {id: $owner}) MERGE (k)-[:ASSIGNED_TO]->(a)
}
RETURN c.id AS customer, before, k.status AS status
"""
)
#: The customer who opened case ``$id``, of the key's brands: the caller adds the brand check.
CASE_OWNER: LiteralString = "MATCH (c:Customer)-[:OPENED]->(k:Case {id: $id})"

WRITE_NOTE: LiteralString = """
MATCH (c:Customer {id: $customer})
CREATE (c)-[:HAS_NOTE]->(n:Note {id: $id, text: $text, writtenAt: datetime($at)})
WITH n
CALL (n) { MATCH (a:Agent {id: $agent}) CREATE (a)-[:WROTE]->(n) }
CALL (n) { MATCH (k:Case {id: $case}) CREATE (n)-[:ON]->(k) }
"""
