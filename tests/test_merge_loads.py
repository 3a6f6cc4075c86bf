"""Loads after and during merges: a source system's records keep naming the customer merged
away; they apply to the survivor, whether the merge was long ago or commits mid-load."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask

from ctxapi import create_app
from ctxapi.access.keys import Scope
from ctxapi.config import Settings
from ctxapi.db import Database
from tests.api import data
from tests.seeding import seed_load, write_lines
from tests.test_identity_lifecycle import NOW, add_pair
from tests.world import World, day, load
from tests.writing import client_with

MERGE = """
mutation($input: MergeCustomersInput!) {
  mergeCustomers(input: $input) { merge { id } userErrors { code message } } }
"""


@pytest.fixture
def world(db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Database:
    w = World()
    w.add("products", id="P-1", name="Tent")
    add_pair(w, 0)
    return load(w, db, settings, tmp_path_factory)


@pytest.fixture
def app(settings: Settings, world: Database, tmp_path: Path) -> Flask:
    return create_app(replace(settings, clock=NOW, audit_log=str(tmp_path / "audit.jsonl")))


def merge_m0_into_s0(app: Flask, world: Database) -> None:
    steward = client_with(app, world, [Scope.CONTEXT_READ, Scope.IDENTITIES_MANAGE], ["b"])
    fields = {"idempotencyKey": uuid.uuid4().hex, "survivorId": "S0", "mergedId": "M0",
              "reason": "same person"}  # fmt: skip
    assert data(steward, MERGE, input=fields)["mergeCustomers"]["userErrors"] == []


def contacts_of_m0(first: int, count: int, identity: bool = True) -> list[bytes]:
    """Contacts of M0 (through M0's email, which a merge moves to the survivor)."""
    via = {"identity": {"kind": "email", "value": "m0@example.com"}} if identity else {}
    return [
        orjson.dumps({"id": f"I-LATE-{n}", "customer": "M0", "channel": "chat",
                      "direction": "inbound", "occurredAt": day(1), "summary": f"late {n}"}
                     | via)
        for n in range(first, first + count)
    ]  # fmt: skip


def owners(db: Database, label: str, prefix: str) -> dict[str, int]:
    """How many ``label`` records whose id starts with ``prefix`` each customer has."""
    rows = db.read(
        "MATCH (c:Customer)-[:HAD|PLACED|OPENED|GAVE]->(x) WHERE $label IN labels(x)"
        " AND x.id STARTS WITH $prefix RETURN c.id AS customer, count(x) AS n",
        {"label": label, "prefix": prefix},
    )
    return {row["customer"]: row["n"] for row in rows}


def merged_is_empty(db: Database) -> bool:
    rows = db.read(
        "MATCH (m:Customer {id: 'M0'})-[r]-() WHERE NOT type(r) IN ['OF_BRAND', 'MERGED_INTO']"
        " RETURN count(r) AS n"
    )
    return int(rows[0]["n"]) == 0


def test_records_of_a_customer_merged_away_load_onto_the_survivor(
    app: Flask, world: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    merge_m0_into_s0(app, world)
    folder = tmp_path / "export"
    write_lines(folder, "interactions.jsonl", *contacts_of_m0(0, 3))
    write_lines(folder, "identities.jsonl", orjson.dumps(
        {"customer": "M0", "kind": "email", "value": "m0.new@example.com"}))  # fmt: skip
    write_lines(folder, "orders.jsonl", orjson.dumps(
        {"id": "O-M0", "customer": "M0", "number": "N-M0", "placedAt": day(10),
         "status": "delivered", "total": "10.00", "currency": "EUR",
         "items": [{"product": "P-1", "quantity": 1, "unitPrice": "10.00"}]}))  # fmt: skip
    # when
    outcome = seed_load(settings, tmp_path, folder)
    again = seed_load(settings, tmp_path, folder, summary_json=tmp_path / "again.json")
    # then
    assert outcome.exit_code == 0, outcome.output
    assert outcome.rejects == []
    assert owners(world, "Interaction", "I-LATE-") == {"S0": 3}
    assert owners(world, "Order", "O-M0") == {"S0": 1}
    assert world.read("MATCH (o:Order {id: 'O-M0'}) RETURN o.status AS s")[0]["s"] == "delivered"
    reader = client_with(app, world, [Scope.CONTEXT_READ, Scope.PII_READ], ["b"])
    found = data(reader, '{ customerBy(identity: {email: "m0.new@example.com"}) { id } }')
    assert found["customerBy"] == {"id": "S0"}
    assert merged_is_empty(world)
    assert again.exit_code == 0
    total = orjson.loads((tmp_path / "again.json").read_bytes())["total"]
    assert (total["unchanged"], total["created"], total["updated"]) == (5, 0, 0)


@pytest.mark.parametrize(("delay", "identity"), [(0.0, True), (0.0, False), (0.3, False)])
def test_a_load_racing_a_merge_loses_nothing_and_leaves_nothing_on_the_merged_away(
    app: Flask, world: Database, settings: Settings, tmp_path: Path, delay: float, identity: bool
) -> None:
    # given: 400 contacts of M0, loaded 20 to a batch (a batch that commits after the merge
    # found M0 merged, or waited for the merge's lock and then wrote to M0)
    folder = tmp_path / "export"
    write_lines(folder, "interactions.jsonl", *contacts_of_m0(0, 400, identity))
    outcome: list[Any] = []
    loading = threading.Thread(
        target=lambda: outcome.append(seed_load(settings, tmp_path, folder, batch_size=20))
    )
    # when: the merge commits while the load runs
    loading.start()
    time.sleep(delay)
    merge_m0_into_s0(app, world)
    loading.join(timeout=300)
    # then
    [loaded] = outcome
    assert loaded.exit_code == 0, loaded.output
    assert loaded.rejects == []
    assert owners(world, "Interaction", "I-LATE-") == {"S0": 400}
    assert merged_is_empty(world)
