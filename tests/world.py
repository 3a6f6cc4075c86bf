"""Small hand-built graphs for scenario tests: records written as seed files, on the fixed
clock 2026-11-23T12:00:00Z, loaded into the test run's Neo4j by ``ctxapi seed load``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from ctxapi.config import Settings
from ctxapi.db import Database
from tests.conftest import clear_graph
from tests.seeding import seed_load, write_lines


def day(offset: float, hour: int = 10) -> str:
    """``offset`` days before the clock (negative: after), at ``hour`` UTC."""
    at = datetime(2026, 11, 23, hour, tzinfo=UTC) - timedelta(days=offset)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


class World:
    """Records for the scenarios, written as seed files; one brand ``b`` to start with."""

    #: The direction of a contact that does not say.
    direction = "inbound"

    def __init__(self) -> None:
        self.records: dict[str, list[dict[str, Any]]] = {}
        self.add("brands", id="b", name="Brand")

    def add(self, file: str, /, **record: Any) -> None:
        self.records.setdefault(file, []).append(record)

    def customer(self, cid: str, tier: str = "standard", brand: str = "b") -> str:
        self.add("customers", id=cid, brand=brand, name=cid.title(), tier=tier)
        return cid

    def contact(self, cid: str, iid: str, days: float, **extra: Any) -> str:
        """An email of ``cid`` ``days`` ago (``extra`` sets any other field)."""
        extra.setdefault("channel", "email")
        extra.setdefault("direction", self.direction)
        extra.setdefault("summary", iid)
        self.add("interactions", id=iid, customer=cid, occurredAt=day(days), **extra)
        return iid

    def write(self, folder: Path) -> Path:
        for kind, rows in self.records.items():
            write_lines(folder, kind + ".jsonl", *(orjson.dumps(row) for row in rows))
        return folder


def load(
    world: World, db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Database:
    """An empty graph with only ``world`` in it, loaded without a reject."""
    clear_graph(db)
    folder = world.write(tmp_path_factory.mktemp("world"))
    outcome = seed_load(settings, tmp_path_factory.mktemp("rejects"), folder)
    assert outcome.exit_code == 0, outcome.output
    assert not outcome.rejects, outcome.rejects
    return db
