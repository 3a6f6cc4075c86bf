"""The proactive queue over the demo stories, on the demo's day."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ctxapi import create_app
from ctxapi.cli import DEMO_DIR
from ctxapi.config import Settings
from ctxapi.db import Database
from tests.api import data, query
from tests.conftest import clear_graph, keyed
from tests.seeding import seed_load, write_lines


@pytest.fixture(scope="module")
def demo_only(
    db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Database:
    clear_graph(db)
    outcome = seed_load(settings, tmp_path_factory.mktemp("rejects"), DEMO_DIR)
    assert outcome.exit_code == 0, outcome.output
    return db


@pytest.fixture
def agent(demo_only: Database, settings: Settings, api_key: str) -> FlaskClient:
    app: Flask = create_app(replace(settings, clock="2026-11-23T12:00:00+00:00"))
    return keyed(app.test_client(), api_key)


QUEUE = """
query Queue($first: Int!, $after: String, $reasons: [ProactiveReason!]) {
  proactiveQueue(first: $first, after: $after, reasons: $reasons) {
    edges { node { customer { id } reason action priority about { id } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def test_the_proactive_queue_lists_who_to_contact_most_urgent_first(agent: FlaskClient) -> None:
    # when
    page = data(agent, QUEUE, first=10)["proactiveQueue"]
    # then the gold customer's parcel (48 h head start) comes before the VIP's quiet case
    assert [(e["node"]["customer"]["id"], e["node"]["action"], e["node"]["about"]["id"])
            for e in page["edges"]] == [
        ("C-1004", "PROACTIVE_DELIVERY_UPDATE", "SH-1404"),
        ("C-1001", "FOLLOW_UP_OPEN_CASE", "CS-1001"),
        ("C-1005", "CONFIRM_REFUND_TIMING", "RT-1503"),
    ]  # fmt: skip
    priorities = [e["node"]["priority"] for e in page["edges"]]
    assert priorities == sorted(priorities, reverse=True)
    assert page["pageInfo"]["hasNextPage"] is False


def test_the_proactive_queue_pages_and_filters_by_reason(agent: FlaskClient) -> None:
    # when
    first = data(agent, QUEUE, first=2)["proactiveQueue"]
    rest = data(agent, QUEUE, first=2, after=first["pageInfo"]["endCursor"])["proactiveQueue"]
    refunds = data(agent, QUEUE, first=5, reasons=["REFUND_OVERDUE"])["proactiveQueue"]
    # then
    assert first["pageInfo"]["hasNextPage"] is True
    ids = [e["node"]["about"]["id"] for e in first["edges"] + rest["edges"]]
    assert ids == ["SH-1404", "CS-1001", "RT-1503"]
    assert [e["node"]["reason"] for e in refunds["edges"]] == ["REFUND_OVERDUE"]
    body = query(agent, QUEUE, first=5, reasons=["LATE"])
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "LATE" in body["errors"][0]["message"]
    # first: null asks for the default page size, as the SDL's nullable argument says
    default = data(agent, QUEUE.replace("$first: Int!", "$first: Int"), first=None)
    assert len(default["proactiveQueue"]["edges"]) == 3
    body = query(agent, QUEUE, first=101)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_queue_follows_reloads_of_tiers_and_settled_items(
    demo_only: Database, settings: Settings, agent: FlaskClient, tmp_path: Path
) -> None:
    # given Pieter becomes a VIP and Hannah's parcel arrives
    customers = [
        json.loads(line) for line in (DEMO_DIR / "customers.jsonl").read_text().splitlines()
    ]
    pieter = next(c for c in customers if c["id"] == "C-1005") | {"tier": "vip"}
    shipments = [
        json.loads(line) for line in (DEMO_DIR / "shipments.jsonl").read_text().splitlines()
    ]
    parcel = next(s for s in shipments if s["id"] == "SH-1404")
    parcel |= {"status": "delivered", "deliveredAt": "2026-11-22T15:00:00Z", "condition": "ok"}
    folder = tmp_path / "changes"
    write_lines(folder, "customers.jsonl", json.dumps(pieter))
    write_lines(folder, "shipments.jsonl", json.dumps(parcel))
    # when
    outcome = seed_load(settings, tmp_path, folder)
    try:
        page = data(agent, QUEUE, first=10)["proactiveQueue"]
        # then the parcel has left the queue and Pieter's refund is now first
        assert outcome.exit_code == 0, outcome.output
        assert [e["node"]["about"]["id"] for e in page["edges"]] == ["RT-1503", "CS-1001"]
    finally:
        seed_load(settings, tmp_path, DEMO_DIR)  # the demo as it was, for the tests after


def test_an_order_moved_to_another_customer_takes_its_due_items_along(
    demo_only: Database, settings: Settings, agent: FlaskClient, tmp_path: Path
) -> None:
    # given Pieter's order with the unrefunded return is re-assigned to Sofia, a VIP
    orders = [json.loads(line) for line in (DEMO_DIR / "orders.jsonl").read_text().splitlines()]
    moved = next(o for o in orders if o["id"] == "O-1503") | {"customer": "C-1001"}
    write_lines(tmp_path / "changes", "orders.jsonl", json.dumps(moved))
    # when
    outcome = seed_load(settings, tmp_path, tmp_path / "changes")
    try:
        page = data(agent, QUEUE, first=10, reasons=["REFUND_OVERDUE"])["proactiveQueue"]
        # then the refund is Sofia's now, and carries her 72 h head start
        assert outcome.exit_code == 0, outcome.output
        [edge] = page["edges"]
        assert (edge["node"]["customer"]["id"], edge["node"]["about"]["id"]) == (
            "C-1001",
            "RT-1503",
        )
        assert edge["node"]["priority"] == 96 + 72
    finally:
        seed_load(settings, tmp_path, DEMO_DIR)
