"""Graph schema migrations: applied once, in order, recorded in the graph, never edited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ctxapi.db import Database
from ctxapi.migrations import MIGRATIONS_DIR, MigrationError, apply, discover

KEYED_LABELS = {
    "Customer", "Identity", "Address", "Order", "Product", "Shipment", "Return",
    "Interaction", "Case", "Agent", "Feedback", "Brand",
}  # fmt: skip


def test_every_node_type_has_a_unique_key(db: Database) -> None:
    # when
    rows = db.read(
        "SHOW CONSTRAINTS YIELD type, labelsOrTypes WHERE type = 'UNIQUENESS' "
        "RETURN labelsOrTypes[0] AS label"
    )
    # then
    assert {row["label"] for row in rows} >= KEYED_LABELS


def test_what_ran_is_recorded_and_a_second_apply_changes_nothing(db: Database) -> None:
    # when
    ran_again = apply(db)
    # then
    assert ran_again == []
    recorded = db.read("MATCH (m:Migration) RETURN m.id AS id, m.appliedAt AS at ORDER BY id")
    assert [row["id"] for row in recorded] == [m.id for m in discover()]
    assert all(row["at"] is not None for row in recorded)


@pytest.fixture
def scratch_migrations(tmp_path: Path, db: Database) -> Iterator[Path]:
    """A migrations folder of its own; what it creates is removed afterwards."""
    for path in MIGRATIONS_DIR.glob("*.cypher"):
        (tmp_path / path.name).write_text(path.read_text())
    yield tmp_path
    db.write(lambda tx: tx.run("DROP INDEX scratch_index IF EXISTS").consume())
    db.write(lambda tx: tx.run("MATCH (m:Migration {id: '9000_scratch'}) DELETE m").consume())


def test_a_new_migration_runs_once_and_editing_it_afterwards_is_refused(
    db: Database, scratch_migrations: Path
) -> None:
    # given
    migration = scratch_migrations / "9000_scratch.cypher"
    migration.write_text(
        "// a scratch index\nCREATE INDEX scratch_index IF NOT EXISTS FOR (n:Scratch) ON (n.x);\n"
    )
    # when
    first = apply(db, scratch_migrations)
    second = apply(db, scratch_migrations)
    # then
    assert first == ["9000_scratch"]
    assert second == []
    assert db.read("SHOW INDEXES YIELD name WHERE name = 'scratch_index' RETURN name")
    # when the file is edited after it ran
    migration.write_text(migration.read_text() + "// changed\n")
    # then
    with pytest.raises(MigrationError, match="9000_scratch was edited after it ran"):
        apply(db, scratch_migrations)


def test_a_badly_named_migration_is_an_error_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "add-index.cypher").write_text("RETURN 1;")
    with pytest.raises(MigrationError, match=r"add-index\.cypher: migration files are named"):
        discover(tmp_path)
