"""Tombstones: what stays of an erased customer so that a later load does not bring them back.

A ``(:Tombstone {key, kind, erasure, at})`` holds a keyed hash, never a value: HMAC-SHA256,
keyed by the erasure pepper (``CTXAPI_ERASURE_PEPPER``), of the erased customer's id, of each
identifier (kind, normalized value) only they had, and of each of their orders' ids (so that
the order's parcels and returns are recognised too). The loader hashes the keys of every
record the same way and suppresses a record whose key has a tombstone
(``suppressed``: neither written nor rejected).

The pepper lives outside Neo4j, so a copy of the graph does not let anyone test a guessed
email or phone number against the tombstones. It must never change: Neo4j keeps a check of
it (``(:TombstonePepper)``, an HMAC of a fixed text) and every erasure and every load compares
the pepper it has with that check. A missing or different pepper stops them with
``PepperError`` rather than silently suppressing nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, LiteralString

from neo4j import ManagedTransaction

#: Record type → how to find the tombstone keys of one of its rows (``store.graph`` rows).
Keys = list[tuple[str, ...]]

_CHECK_TEXT = b"ctxapi tombstone pepper check v1"
_PEPPER: LiteralString = "MATCH (p:TombstonePepper {id: 'pepper'}) RETURN p.check AS check"
_ANY: LiteralString = (
    "RETURN EXISTS { MATCH (:TombstonePepper) } OR EXISTS { MATCH (:Tombstone) } AS any"
)
_RECORD_PEPPER: LiteralString = (
    "MERGE (p:TombstonePepper {id: 'pepper'}) ON CREATE SET p.check = $check"
    " RETURN p.check AS check"
)
_FIND: LiteralString = (
    "UNWIND $keys AS key MATCH (t:Tombstone {key: key})"
    " RETURN t.key AS key, toString(date(t.at)) AS day"
)
_BURY: LiteralString = (
    "UNWIND $stones AS stone MERGE (t:Tombstone {key: stone.key})"
    " ON CREATE SET t.kind = stone.kind, t.erasure = $erasure, t.at = datetime($at)"
)


class PepperError(RuntimeError):
    """The erasure pepper is missing, or not the one the graph's tombstones were made with."""


def _missing() -> PepperError:
    return PepperError(
        "the graph holds tombstones of erased customers, but CTXAPI_ERASURE_PEPPER is not set:"
        " without the pepper they were made with, erased customers would come back; set it"
    )


def _changed() -> PepperError:
    return PepperError(
        "CTXAPI_ERASURE_PEPPER is not the pepper this graph's tombstones were made with (it must"
        " never change): set the original one; with another, erased customers would come back"
    )


def keys_of(record_type: str, row: Mapping[str, Any]) -> Keys:
    """The tombstone keys (before hashing) a loader row of ``record_type`` is checked by (a
    patch's row may lack its references: it is checked by those it has)."""
    if record_type == "customers":
        return [("customer", row["id"])]
    if record_type in ("shipments", "returns"):
        return [("order", row["order"])] if row.get("order") else []
    if record_type not in ("addresses", "identities", "orders", "cases", "interactions",
                           "feedback"):  # fmt: skip
        return []
    keys: Keys = [("customer", row["customer"])] if row.get("customer") else []
    if record_type == "identities":
        keys.append(("identity", row["kind"], row["value"]))
    elif record_type == "interactions" and row.get("identity"):
        keys.append(("identity", *row["identity"]))
    elif record_type == "orders":
        keys.append(("order", row["id"]))
    return keys


@dataclass
class Tombstones:
    """Hashing with the pepper, and the checks of it against the graph."""

    pepper: str | None
    _checked: bool = field(default=False, repr=False)

    def key(self, *parts: str) -> str:
        """The tombstone key of ``parts`` (a kind, then its values): hex HMAC-SHA256."""
        if not self.pepper:
            raise _missing()
        message = "\x1f".join(parts).encode()
        return hmac.new(self.pepper.encode(), message, hashlib.sha256).hexdigest()

    def _check(self) -> str:
        return self.key("check", _CHECK_TEXT.decode())

    def verify(self, tx: ManagedTransaction, *, record: bool = False) -> bool:
        """Does the graph hold tombstones (True), and is the pepper theirs? PepperError when
        it is missing or another. ``record``: the first erasure keeps the check of it."""
        if self.pepper is None or self.pepper == "":
            if record:
                raise PepperError(
                    "erasing needs CTXAPI_ERASURE_PEPPER (at least 32 random characters, kept"
                    " secret and never changed): it keys the tombstones that keep erased"
                    " customers from coming back"
                )
            if tx.run(_ANY).single(strict=True)["any"]:
                raise _missing()
            return False
        if record:
            stored = tx.run(_RECORD_PEPPER, check=self._check()).single(strict=True)["check"]
        else:
            found = tx.run(_PEPPER).single()
            stored = None if found is None else found["check"]
            if stored is None:
                if tx.run(_ANY).single(strict=True)["any"]:
                    raise _missing()  # tombstones without a check: made by hand
                return False
        if not hmac.compare_digest(stored, self._check()):
            raise _changed()
        self._checked = True
        return True

    def suppressed(
        self, tx: ManagedTransaction, record_type: str, rows: Sequence[Mapping[str, Any]]
    ) -> dict[int, str]:
        """The rows (by index) of erased customers, each with why: ``erased on <day>``."""
        if not self._checked and not self.verify(tx):
            return {}  # no tombstones yet (checked again by the next batch)
        keyed: dict[str, list[int]] = {}
        for index, row in enumerate(rows):
            for parts in keys_of(record_type, row):
                keyed.setdefault(self.key(*parts), []).append(index)
        if not keyed:
            return {}
        found: dict[int, str] = {}
        for record in tx.run(_FIND, keys=list(keyed)):
            for index in keyed[record["key"]]:
                found.setdefault(index, f"erased on {record['day']}")
        return found

    def erased_on(self, tx: ManagedTransaction, *parts: str) -> str | None:
        """The day ``parts`` (``"customer", id`` …) were erased, or None."""
        if not self.verify(tx):
            return None
        found = tx.run(_FIND, keys=[self.key(*parts)]).single()
        return None if found is None else str(found["day"])

    def bury(
        self,
        tx: ManagedTransaction,
        stones: Iterable[tuple[str, ...]],
        *,
        erasure: str,
        at: str,
    ) -> int:
        """Record a tombstone per key (MERGE: one already there stays as it was); how many."""
        self.verify(tx, record=True)
        rows = [{"key": self.key(*parts), "kind": parts[0]} for parts in stones]
        tx.run(_BURY, stones=rows, erasure=erasure, at=at).consume()
        return len(rows)
