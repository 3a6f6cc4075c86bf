"""Linking an identifier to a customer, and unlinking it, the loader's way.

A link is written with the loader's ``identities`` schema and Cypher (``WRITE_IDENTITIES``):
normalized, with its ``source``, ``confidence`` and ``linkedAt`` on ``IDENTIFIES``, so a link
made here and one loaded from a file are the same graph. Linking an identifier another
customer has makes it shared; it never merges the two. Unlinking removes one link; the
Identity node goes with its last link (and the contacts that came through it lose their
``VIA``: nobody has that identifier any more).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, LiteralString

from neo4j import ManagedTransaction

from ctxapi.store import contacts
from ctxapi.store.problems import ProblemCode, refused

_UNLINK: LiteralString = """
MATCH (i:Identity {kind: $kind, value: $value})-[l:IDENTIFIES]->(c:Customer {id: $customer})
CALL (i, c) { MATCH (c)-[:HAD]->(:Interaction)-[v:VIA]->(i) DELETE v }
DELETE l
WITH i
CALL (i) { WITH i WHERE NOT EXISTS { (i)-[:IDENTIFIES]->() } DETACH DELETE i }
RETURN count(*) AS unlinked
"""


def link(
    tx: ManagedTransaction,
    brands: Sequence[str] | None,
    customer: str,
    identity: tuple[str, str],
    provenance: dict[str, Any],
    *,
    phone_region: str,
) -> str:
    """Link ``identity`` (kind, normalized value) to ``customer`` with ``provenance``
    (``source``, ``confidence``, ``linkedAt``); an existing link of the pair is rewritten."""
    cid = contacts.customer_of(tx, brands, customer, None)
    kind, value = identity
    record = {"customer": cid, "kind": kind, "value": value, **provenance}
    checked = contacts.validated("identities", record, {}, phone_region=phone_region)
    contacts.write(tx, "identities", checked)
    return cid


def unlink(
    tx: ManagedTransaction,
    brands: Sequence[str] | None,
    customer: str,
    identity: tuple[str, str],
) -> str:
    """Remove the link of ``identity`` to ``customer``; Refused (NOT_FOUND) when they have
    no such link."""
    cid = contacts.customer_of(tx, brands, customer, None)
    kind, value = identity
    found = tx.run(_UNLINK, kind=kind, value=value, customer=cid).single(strict=True)
    if not found["unlinked"]:
        message = f"customer {cid!r} has no such {kind} linked"
        raise refused("identity", message, ProblemCode.NOT_FOUND)
    return cid
