"""New records are CREATEd by the loader: the same graph as the upsert query makes of them."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, LiteralString

import pytest
from neo4j import ManagedTransaction

from ctxapi.cli import DEMO_DIR
from ctxapi.db import Database
from ctxapi.seeding.generate import Generator
from ctxapi.seeding.load import Loader, Rejects, discover
from ctxapi.seeding.reading import parse_records
from ctxapi.store import ops
from tests.conftest import clear_graph

_NODES = (
    "MATCH (n) WHERE NOT n:Migration AND NOT n:ApiKey"
    " RETURN labels(n) AS labels, properties(n) AS props"
)
_LINKS = (
    "MATCH (a)-[r]->(b) WHERE NOT a:Migration AND NOT a:ApiKey"
    " RETURN type(r) AS type, properties(r) AS props,"
    " labels(a) AS a, coalesce(a.id, a.kind + ':' + a.value) AS from,"
    " labels(b) AS b, coalesce(b.id, b.kind + ':' + b.value) AS to"
)


def _graph(db: Database) -> tuple[list[str], list[str]]:
    """Every node and relationship with its labels or type and properties, as sorted text."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return sorted((key, plain(item)) for key, item in value.items())
        return repr(value)

    def text(rows: list[Any]) -> list[str]:
        return sorted(repr(plain(dict(row))) for row in rows)

    return text(db.read(_NODES)), text(db.read(_LINKS))


def _merged(db: Database, folders: list[Path]) -> None:
    """The files written type by type with each type's upsert query (``RecordType.write``)."""
    for record_type, path in discover(folders):
        schema = record_type.schema()
        rows = [
            ops.to_row(record_type, *ops.validate(record_type, schema, data))
            for _, data, errors, _ in parse_records(path)
            if data is not None and errors is None
        ]
        db.write(functools.partial(_write, record_type.write, rows))


def _write(query: LiteralString, rows: list[dict[str, Any]], tx: ManagedTransaction) -> None:
    tx.run(query, rows=rows).consume()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated")
    Generator(40, seed=3).run(folder)
    return folder


@pytest.mark.parametrize("which", ["demo", "generated"])
def test_a_first_load_makes_the_graph_the_upsert_queries_make(
    db: Database, tmp_path: Path, generated: Path, which: str
) -> None:
    # given
    folders = [DEMO_DIR] if which == "demo" else [generated]
    clear_graph(db)
    _merged(db, folders)
    merged = _graph(db)
    clear_graph(db)
    # when: the loader creates what is new
    summary = Loader(db, rejects=Rejects(tmp_path / "rejects.jsonl")).load(discover(folders))
    # then
    assert summary.total.rejected == 0
    assert summary.total.created == summary.total.read
    created = _graph(db)
    assert created[0] == merged[0]
    assert created[1] == merged[1]
    assert len(created[1]) > len(created[0]) > 200
