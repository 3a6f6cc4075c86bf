"""API keys: made once, shown once, kept in Neo4j only as a hash; what a key may do.

A key reads ``ctx_live_`` + 40 random letters and digits (238 bits): the prefix lets secret
scanners and people recognise it. Neo4j keeps the SHA-256 of the whole key, never the key.
A slow password hash is not needed for a secret this long and random, and a fast one keeps
the check under a microsecond: nobody can guess their way to a hash of 238 random bits.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import string
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, LiteralString

from neo4j import ManagedTransaction

from ctxapi.db import Database

PREFIX = "ctx_live_"
_ALPHABET = string.ascii_letters + string.digits
_SECRET_LENGTH = 40


class Scope(StrEnum):
    """What a key may do; a request needs the scope of what it asks for."""

    CONTEXT_READ = "context:read"
    PII_READ = "pii:read"
    INTERACTIONS_WRITE = "interactions:write"
    IDENTITIES_MANAGE = "identities:manage"
    CUSTOMERS_ERASE = "customers:erase"
    ADMIN = "admin"


#: One line per scope: the table of README "Access control" says the same.
SCOPE_MEANINGS: dict[Scope, str] = {
    Scope.CONTEXT_READ: "every query; emails, phones, other identifiers and street addresses"
    " masked (s***@example.com, +1 ••• ••• 0100)",
    Scope.PII_READ: "the same fields unmasked (each such read is audited); with context:read",
    Scope.INTERACTIONS_WRITE: "log interactions, feedback and notes (write-back mutations)",
    Scope.IDENTITIES_MANAGE: "link, unlink and merge identities and customers",
    Scope.CUSTOMERS_ERASE: "erase a customer (right to be forgotten)",
    Scope.ADMIN: "manage keys over the API (today keys are managed with `ctxapi keys`)",
}


@dataclass(frozen=True)
class Access:
    """What one request may do: its key's name, scopes, brands and rate limit."""

    key_id: str
    name: str
    scopes: frozenset[Scope]
    #: The brands whose customers the key sees; None: every brand (``--all-brands``).
    brands: tuple[str, ...] | None
    #: Requests per minute; 0: unlimited.
    rate_limit: int = 0

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes

    @property
    def unmasked(self) -> bool:
        """May this request read PII as it is stored?"""
        return Scope.PII_READ in self.scopes


#: What ctxapi's own commands (explain, the warm-up, the benchmark) compile with.
INTERNAL = Access("-", "internal", frozenset(Scope), None)


@dataclass(frozen=True)
class KeyInfo:
    """A stored key as `ctxapi keys list` shows it (never its secret)."""

    id: str
    name: str
    hint: str
    scopes: tuple[str, ...]
    brands: tuple[str, ...] | None
    rate_limit: int
    created_at: datetime
    revoked_at: datetime | None
    rotated_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class KeyStoreError(ValueError):
    """A key command that cannot be done (a name taken, a key unknown, a brand unknown)."""


def new_secret(prefix: str = PREFIX) -> str:
    """A fresh key (or another secret of ``prefix``): the prefix and 40 random letters and
    digits."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(_SECRET_LENGTH))


def fingerprint(key: str) -> str:
    """What Neo4j stores of a key (or a Gladly adapter's password): the hex SHA-256 of it."""
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(text: str) -> bool:
    return (
        text.startswith(PREFIX)
        and len(text) == len(PREFIX) + _SECRET_LENGTH
        and all(c in _ALPHABET for c in text[len(PREFIX) :])
    )


_FIND: LiteralString = """
CALL () {
  MATCH (k:ApiKey {hash: $hash}) RETURN k
  UNION
  MATCH (k:ApiKey {previousHash: $hash}) WHERE k.previousUntil > datetime() RETURN k
}
WITH k WHERE k.revokedAt IS NULL
RETURN k.id AS id, k.name AS name, k.scopes AS scopes, k.brands AS brands,
  k.allBrands AS allBrands, k.rateLimit AS rateLimit
LIMIT 1
"""
_CREATE: LiteralString = """
MERGE (k:ApiKey {name: $name})
ON CREATE SET k.id = $id, k.hash = $hash, k.hint = $hint, k.scopes = $scopes,
  k.brands = $brands, k.allBrands = $allBrands, k.rateLimit = $rateLimit,
  k.createdAt = datetime(), k.created = true
WITH k, k.created AS created REMOVE k.created
RETURN k, created
"""
_UNKNOWN_BRANDS: LiteralString = """
UNWIND $brands AS brand
WITH brand WHERE NOT EXISTS { MATCH (:Brand {id: brand}) }
RETURN collect(brand) AS unknown
"""
_LIST: LiteralString = "MATCH (k:ApiKey) RETURN k ORDER BY k.createdAt, k.name"
_REVOKE: LiteralString = """
MATCH (k:ApiKey) WHERE k.name = $name OR k.id = $name
SET k.revokedAt = coalesce(k.revokedAt, datetime()), k.previousHash = null
RETURN k
"""
_ROTATE: LiteralString = """
MATCH (k:ApiKey) WHERE (k.name = $name OR k.id = $name) AND k.revokedAt IS NULL
SET k.previousHash = CASE WHEN $grace > 0 THEN k.hash END,
  k.previousUntil = CASE WHEN $grace > 0 THEN datetime() + duration({seconds: $grace}) END,
  k.hash = $hash, k.hint = $hint, k.rotatedAt = datetime()
RETURN k
"""


class KeyStore:
    """The API keys in Neo4j: create, list, revoke, rotate, and find one by its secret."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        name: str,
        scopes: list[Scope],
        brands: list[str] | None,
        rate_limit: int = 0,
    ) -> tuple[str, KeyInfo]:
        """A new key named ``name``: its secret (shown once) and what is stored of it."""
        if not name.strip():
            raise KeyStoreError("a key needs a name")
        if name.startswith("key_"):
            raise KeyStoreError("names starting with key_ are kept for key ids")
        if not scopes:
            raise KeyStoreError("a key needs at least one scope")
        if Scope.PII_READ in scopes and Scope.CONTEXT_READ not in scopes:
            scopes = [*scopes, Scope.CONTEXT_READ]  # reading PII is reading context
        if brands is not None:
            if not brands:
                raise KeyStoreError("give --brand at least once, or --all-brands")
            [row] = self.db.read(_UNKNOWN_BRANDS, {"brands": brands})
            if row["unknown"]:
                raise KeyStoreError(f"no brand {', '.join(row['unknown'])} in the graph")
        secret = new_secret()
        params = {
            "name": name,
            "id": "key_" + secrets.token_hex(6),
            "hash": fingerprint(secret),
            "hint": secret[: len(PREFIX) + 4],
            "scopes": sorted(scope.value for scope in scopes),
            "brands": brands or [],
            "allBrands": brands is None,
            "rateLimit": rate_limit,
        }
        [record] = self.db.write(_records(_CREATE, params))
        if not record["created"]:
            raise KeyStoreError(f"a key named {name!r} exists: revoke or rotate it")
        return secret, _info(record["k"])

    def list(self) -> list[KeyInfo]:
        return [_info(record["k"]) for record in self.db.read(_LIST)]

    def revoke(self, name: str) -> KeyInfo:
        """Revoke the key with this name or id (at once in Neo4j; in each instance within
        its key cache's time to live)."""
        found = self.db.write(_records(_REVOKE, {"name": name}))
        if not found:
            raise KeyStoreError(f"no key named {name!r}")
        return _info(found[0]["k"])

    def rotate(self, name: str, grace_seconds: int = 0) -> tuple[str, KeyInfo]:
        """A new secret for the key; the old one works ``grace_seconds`` more (0: no more)."""
        secret = new_secret()
        params = {
            "name": name,
            "hash": fingerprint(secret),
            "hint": secret[: len(PREFIX) + 4],
            "grace": grace_seconds,
        }
        found = self.db.write(_records(_ROTATE, params))
        if not found:
            raise KeyStoreError(f"no active key named {name!r}")
        return secret, _info(found[0]["k"])

    def find(self, key: str, timeout: float | None = None) -> Access | None:
        """The access of an active key, or None (unknown, revoked, or rotated away); waits
        ``timeout`` seconds at most (Database.read)."""
        if not looks_like_key(key):
            return None
        rows = self.db.read(_FIND, {"hash": fingerprint(key)}, timeout=timeout)
        if not rows:
            return None
        row = rows[0]
        known = {scope.value: scope for scope in Scope}
        return Access(
            key_id=row["id"],
            name=row["name"],
            scopes=frozenset(known[s] for s in row["scopes"] if s in known),
            brands=None if row["allBrands"] else tuple(row["brands"]),
            rate_limit=row["rateLimit"] or 0,
        )


def _records(query: LiteralString, params: dict[str, Any]) -> Any:
    def work(tx: ManagedTransaction) -> list[Any]:
        return list(tx.run(query, params))

    return work


def _info(node: Any) -> KeyInfo:
    def moment(name: str) -> datetime | None:
        value = node.get(name)
        return None if value is None else value.to_native()

    created = moment("createdAt")
    assert created is not None
    return KeyInfo(
        id=node["id"],
        name=node["name"],
        hint=node["hint"],
        scopes=tuple(node["scopes"]),
        brands=None if node.get("allBrands") else tuple(node["brands"]),
        rate_limit=node.get("rateLimit") or 0,
        created_at=created,
        revoked_at=moment("revokedAt"),
        rotated_at=moment("rotatedAt"),
    )


DEVELOPMENT_KEY = "local-development"


def development_key(db: Database, home: Path, brand: str = "northwind") -> str:
    """The key of ``make run``: every scope, for the demo brand. Created once; its secret is
    kept in ``.ctxapi/dev-key`` (0600) so that every run prints and pre-fills the same one."""
    store = KeyStore(db)
    path = home / "dev-key"
    if path.exists():
        kept = path.read_text().strip()
        if store.find(kept) is not None:
            return kept
    try:
        secret, _ = store.create(DEVELOPMENT_KEY, list(Scope), [brand])
    except KeyStoreError:  # made by an earlier run whose secret is lost: a new secret
        secret, _ = store.rotate(DEVELOPMENT_KEY)
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret + "\n")
    return secret
