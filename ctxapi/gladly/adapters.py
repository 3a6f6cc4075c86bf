"""Gladly adapters in Neo4j: made once with their credentials shown once, found by user name.

An adapter belongs to one brand: every lookup it answers sees only that brand's customers.
Its Basic-auth user name is its id; its password (``gpw_`` + 40 random letters and digits) is
kept only as its SHA-256, as API keys are (ctxapi.access.keys: a fast hash suffices for a
secret this long and random). The signing secret is kept as it is: checking an HMAC needs it,
so Neo4j's credentials guard it as they guard the graph itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from neo4j import ManagedTransaction

from ctxapi.access.keys import fingerprint, new_secret
from ctxapi.db import Database

PASSWORD_PREFIX = "gpw_"  # noqa: S105 (a prefix that names what follows, not a password)
#: What a password's hash is compared with when no adapter has the user name: the check
#: costs the same whether the name is known or not.
_NOBODY = hashlib.sha256(b"no adapter").hexdigest()


class AdapterError(ValueError):
    """A command that cannot be done (an unknown brand, an unknown adapter)."""


@dataclass(frozen=True)
class Adapter:
    """A stored adapter (never its password)."""

    id: str
    brand: str
    name: str
    created_at: datetime
    #: The shared signing secret; None only for an adapter made without one (none today).
    signing_secret: str | None = None

    def __repr__(self) -> str:  # the secret stays out of logs and tracebacks
        return f"Adapter(id={self.id!r}, brand={self.brand!r}, name={self.name!r})"


@dataclass(frozen=True)
class Credentials:
    """What ``ctxapi gladly add`` prints once: the Basic-auth pair and the signing secret."""

    username: str
    password: str
    signing_secret: str


_CREATE: LiteralString = """
MATCH (b:Brand {id: $brand})
CREATE (a:GladlyAdapter {id: $id, brand: $brand, name: $name, passwordHash: $passwordHash,
  signingSecret: $signingSecret, createdAt: datetime()})
RETURN a
"""
_LIST: LiteralString = "MATCH (a:GladlyAdapter) RETURN a ORDER BY a.createdAt, a.id"
_REMOVE: LiteralString = """
MATCH (a:GladlyAdapter {id: $id})
WITH a, properties(a) AS kept
DELETE a
RETURN kept AS a
"""
_FIND: LiteralString = "MATCH (a:GladlyAdapter {id: $id}) RETURN a"


class AdapterStore:
    """The adapters in Neo4j: add, list, remove, and check a request's credentials."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, brand: str, name: str = "") -> tuple[Credentials, Adapter]:
        """A new adapter for ``brand``: its credentials (shown once) and what is stored."""
        if not brand.strip():
            raise AdapterError("give the brand the adapter answers for: --brand BRAND")
        identifier = "gla_" + secrets.token_hex(8)
        password = new_secret(PASSWORD_PREFIX)
        signing_secret = secrets.token_hex(32)
        params = {
            "id": identifier,
            "brand": brand,
            "name": name or f"gladly-{brand}",
            "passwordHash": fingerprint(password),
            "signingSecret": signing_secret,
        }
        created = self.db.write(_records(_CREATE, params))
        if not created:
            raise AdapterError(f"no brand {brand!r} in the graph")
        return Credentials(identifier, password, signing_secret), _adapter(created[0]["a"])

    def list(self) -> list[Adapter]:
        return [_adapter(record["a"]) for record in self.db.read(_LIST)]

    def remove(self, identifier: str) -> Adapter:
        """Delete the adapter: its credentials stop working at once, in every instance."""
        found = self.db.write(_records(_REMOVE, {"id": identifier}))
        if not found:
            raise AdapterError(f"no Gladly adapter {identifier!r}")
        return _adapter(found[0]["a"])

    def authenticate(self, username: str, password: str) -> Adapter | None:
        """The adapter these Basic-auth credentials name, or None; the comparison takes the
        same time whether the user name is known or not, and whatever the password."""
        rows = self.db.read(_FIND, {"id": username}) if username.startswith("gla_") else []
        stored = rows[0]["a"]["passwordHash"] if rows else _NOBODY
        matches = hmac.compare_digest(fingerprint(password), stored)
        return _adapter(rows[0]["a"]) if rows and matches else None


def _records(query: LiteralString, params: dict[str, Any]) -> Any:
    def work(tx: ManagedTransaction) -> list[Any]:
        return list(tx.run(query, params))

    return work


def _adapter(node: Any) -> Adapter:
    created = node["createdAt"]
    return Adapter(
        id=node["id"],
        brand=node["brand"],
        name=node["name"],
        created_at=created.to_native() if hasattr(created, "to_native") else created,
        signing_secret=node.get("signingSecret"),
    )
