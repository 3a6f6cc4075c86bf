"""`make run` loads the demo stories moved to now: a newcomer in a month sees the same stories."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from ctxapi import create_app
from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.seeding.report import load_files
from ctxapi.seeding.shift import DEMO_NOW, demo_distance
from tests.api import data
from tests.conftest import clear_graph, keyed

DEMO_DIR = Path(__file__).parents[1] / "seed" / "demo"
LATER = "2027-03-15T08:31:20+00:00"  # a newcomer's first `make run`, months later

STORIES = """
query Stories($id: ID!) {
  proactiveQueue(first: 50) {
    edges { node { customer { id } reason action priority about { id } } }
  }
  customer(id: $id) {
    orders(first: 1) { edges { node { number placedAt shipments { late condition } } } }
    insights { churnRisk { level } nextBestActions { kind priority about { id } } }
  }
}
"""


def stories(db: Database, settings: Settings, key: str, now: str) -> dict[str, Any]:
    """What an agent sees at ``now``: the queue, and Sofia's last order and actions."""
    client = keyed(create_app(replace(settings, clock=now, query_timeout=120)).test_client(), key)
    return data(client, STORIES, id="C-1001")


def load_demo(db: Database, settings: Settings, tmp_path: Path, now: str | None) -> None:
    """The demo stories in an empty graph: as written, or moved to read at ``now``."""
    clear_graph(db)
    shift = demo_distance(now) if now else None
    console = Console(file=io.StringIO())
    summary = load_files(console, settings, [DEMO_DIR], rejects=tmp_path / "r.jsonl", shift=shift)
    assert summary.total.rejected == 0


def test_the_demo_moved_to_a_later_day_tells_the_same_stories_on_that_day(
    db: Database, settings: Settings, api_key: str, tmp_path: Path
) -> None:
    # given what an agent sees in the demo as written, on the day it was written for
    load_demo(db, settings, tmp_path, None)
    written = stories(db, settings, api_key, DEMO_NOW.isoformat())
    # when the demo is loaded as `make run` does months later, and read on that day
    load_demo(db, settings, tmp_path, LATER)
    later = stories(db, settings, api_key, LATER)
    # then the queue, its urgency and Sofia's actions are the same stories
    assert later["proactiveQueue"] == written["proactiveQueue"]
    assert later["customer"]["insights"] == written["customer"]["insights"]
    assert written["proactiveQueue"]["edges"], "the demo has a queue to compare"
    # and her last order was placed as long before the later day as before the written one
    order, moved = (
        datetime.fromisoformat(s["customer"]["orders"]["edges"][0]["node"]["placedAt"])
        for s in (written, later)
    )
    assert moved - order == demo_distance(LATER)
    ages = DEMO_NOW - order, datetime.fromisoformat(LATER) - moved
    assert abs(ages[0] - ages[1]) < timedelta(minutes=1)  # moved by whole minutes


@pytest.mark.parametrize(
    ("now", "minutes"),
    [
        ("2026-11-23T12:00:00+00:00", 0),
        ("2026-11-30T05:16:29+00:00", 9676),
        ("2026-11-01T12:00:00Z", -31680),
    ],
)
def test_the_demo_moves_by_whole_minutes_from_its_day(now: str, minutes: int) -> None:
    # given a moment `make run` starts at / when the demo's distance to it is taken
    # then it is the whole minutes between the demo's day and that moment
    assert demo_distance(now).total_seconds() == minutes * 60
