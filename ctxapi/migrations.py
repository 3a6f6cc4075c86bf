"""Graph schema migrations: ``schema/migrations/NNNN_name.cypher``, applied once, in order.

Each file holds idempotent statements separated by ``;``. What ran is recorded in the graph
as ``(:Migration {id, checksum, appliedAt})``; editing a file that already ran is an error,
so every database that says it is at migration N has exactly the same schema.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import LiteralString

from neo4j import ManagedTransaction

from ctxapi.config import PROJECT_ROOT
from ctxapi.db import Database

MIGRATIONS_DIR = PROJECT_ROOT / "schema" / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.cypher$")
_BATCHED = re.compile(r"\bIN\s+TRANSACTIONS\b", re.IGNORECASE)


class MigrationError(RuntimeError):
    """A migration file is malformed, or one that already ran has been edited."""


@dataclass(frozen=True)
class Migration:
    """One migration file: its id (file stem), checksum and statements."""

    id: str
    checksum: str
    statements: tuple[str, ...]

    @classmethod
    def from_file(cls, path: Path) -> Migration:
        text = path.read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if not line.strip().startswith("//")]
        statements = tuple(s.strip() for s in "\n".join(lines).split(";") if s.strip())
        if not statements:
            raise MigrationError(f"{path.name} holds no statement")
        return cls(path.stem, hashlib.sha256(text.encode()).hexdigest(), statements)


def discover(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations in ``folder``, in order; badly named files are an error, not skipped."""
    found = []
    for path in sorted(folder.glob("*.cypher")):
        if not _NAME.match(path.name):
            raise MigrationError(f"{path.name}: migration files are named NNNN_snake_case.cypher")
        found.append(Migration.from_file(path))
    return found


_RECORD_CONSTRAINT: LiteralString = (
    "CREATE CONSTRAINT migration_id IF NOT EXISTS FOR (m:Migration) REQUIRE m.id IS UNIQUE"
)
_APPLIED: LiteralString = "MATCH (m:Migration) RETURN m.id AS id, m.checksum AS checksum"
_RECORD: LiteralString = (
    "MERGE (m:Migration {id: $id}) ON CREATE SET m.checksum = $checksum, m.appliedAt = datetime()"
)
_AWAIT_INDEXES: LiteralString = "CALL db.awaitIndexes(300)"


def _run(statement: LiteralString, **parameters: object) -> Callable[[ManagedTransaction], None]:
    def work(tx: ManagedTransaction) -> None:
        tx.run(statement, parameters).consume()

    return work


def apply(db: Database, folder: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the migrations that have not run yet; return their ids (empty when up to date)."""
    migrations = discover(folder)
    db.write(_run(_RECORD_CONSTRAINT))
    applied = {record["id"]: record["checksum"] for record in db.read(_APPLIED)}
    ran = []
    for migration in migrations:
        if migration.id in applied:
            if applied[migration.id] != migration.checksum:
                raise MigrationError(
                    f"{migration.id} was edited after it ran; add a new migration instead"
                )
            continue
        for statement in migration.statements:
            # Migration files are reviewed, static Cypher: the one place text comes from a file.
            if _BATCHED.search(statement):
                db.run_batched(statement)  # a backfill over the whole graph, in batches
            else:
                db.write(_run(statement))
        db.write(_run(_RECORD, id=migration.id, checksum=migration.checksum))
        ran.append(migration.id)
    db.write(_run(_AWAIT_INDEXES))
    return ran
