"""The proactive queue over the demo stories on the demo's day, and over a small hand-built world
where every item's answer is known by hand (what is due, its facts, one line per customer)."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ctxapi import create_app
from ctxapi.access.keys import KeyStore, Scope
from ctxapi.cli import DEMO_DIR
from ctxapi.config import Settings
from ctxapi.db import Database
from tests import world
from tests.api import data, query
from tests.conftest import clear_graph, keyed
from tests.seeding import seed_load, write_lines
from tests.world import day


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


CARD = """
query Card($id: ID!) {
  customer(id: $id) { insights { nextBestActions { kind reason about { id } } } }
}
"""


def test_every_queue_item_is_the_same_action_with_the_same_facts_on_the_card(
    agent: FlaskClient,
) -> None:
    # given the whole queue of the demo's day, with its fact lines
    page = data(agent, QUEUE.replace("action priority", "action detail priority"), first=50)
    items = [e["node"] for e in page["proactiveQueue"]["edges"]]
    assert items
    for item in items:
        # when the agent opens the customer's card
        card = data(agent, CARD, id=item["customer"]["id"])["customer"]["insights"]
        # then the card proposes the queue's action about the same record, in the same words
        same = [
            a for a in card["nextBestActions"]
            if a["kind"] == item["action"] and a["about"][0]["id"] == item["about"]["id"]
        ]  # fmt: skip
        assert [a["reason"] for a in same] == [item["detail"]], item


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


# -- small worlds: what is due, the facts, one item per customer, brands ------------------------
NOW = "2026-11-23T12:00:00+00:00"

ITEMS = """
query Items($first: Int!, $after: String, $reasons: [ProactiveReason!]) {
  proactiveQueue(first: $first, after: $after, reasons: $reasons) {
    edges { node { customer { id } reason detail dueAt priority dueItems about { id } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
CUSTOMERS = ITEMS.replace("proactiveQueue", "proactiveCustomers").replace(
    "query Items", "query Customers"
)


class World(world.World):
    """The scenarios' records: brands b and other; a contact is outbound unless it says."""

    direction = "outbound"

    def __init__(self) -> None:
        super().__init__()
        self.add("brands", id="other", name="Other brand")

    def parcel(self, cid: str, oid: str, promised: float, status: str = "shipped") -> str:
        """An order of ``cid`` and its parcel ``<oid>-S``, promised ``promised`` days ago."""
        self.add("orders", id=oid, customer=cid, number="N-" + oid, placedAt=day(promised + 4),
                 status=status, total="10.00", currency="EUR")  # fmt: skip
        self.add("shipments", id=oid + "-S", order=oid, carrier="DHL", status="delayed",
                 promisedAt=day(promised))  # fmt: skip
        return oid + "-S"

    def refund(self, cid: str, oid: str, received: float) -> str:
        """A delivered order of ``cid`` and its return ``<oid>-R``, received and not refunded."""
        self.add("orders", id=oid, customer=cid, number="N-" + oid, placedAt=day(received + 20),
                 status="delivered", total="10.00", currency="EUR")  # fmt: skip
        self.add("returns", id=oid + "-R", order=oid, reason="too big", status="received",
                 requestedAt=day(received + 5), receivedAt=day(received))  # fmt: skip
        return oid + "-R"

    def case(self, cid: str, opened: float) -> str:
        self.add("cases", id=cid + "-K", customer=cid, subject="Broken zip", status="open",
                 openedAt=day(opened))  # fmt: skip
        return cid + "-K"


def scenarios() -> World:
    w = World()
    # Late parcels of a cancelled order and of an abandoned cart: never queued.
    w.customer("cancelled")
    w.parcel("cancelled", "CN1", 5, status="cancelled")
    w.parcel("cancelled", "CN2", 5, status="abandoned")
    # A late parcel the customer was told about yesterday (about the order): not due again yet.
    w.customer("told1")
    w.parcel("told1", "T1", 5)
    w.contact("told1", "T1-I", 1, about=[{"type": "order", "id": "T1"}])
    # Told three days ago (about the parcel): due again, delivery_update_days (2) later.
    w.customer("told3")
    w.parcel("told3", "T3", 6)
    w.contact("told3", "T3-I", 3, about=[{"type": "shipment", "id": "T3-S"}])
    # Told before the promise only, and asked about it since: nobody has told them it is late.
    w.customer("silent")
    w.parcel("silent", "S1", 1)
    w.contact("silent", "S1-O", 3, about=[{"type": "order", "id": "S1"}])
    w.contact("silent", "S1-I", 0.5, direction="inbound", about=[{"type": "order", "id": "S1"}])
    # A case answered yesterday: not due; one last answered 8 days ago, asked about since.
    w.customer("fresh")
    w.contact("fresh", "FR-I", 1, case=w.case("fresh", 10))
    w.customer("stale")
    w.contact("stale", "ST-I", 8, case=w.case("stale", 13))
    w.contact("stale", "ST-J", 1, direction="inbound", case="stale-K")
    # A case nobody has answered.
    w.customer("quiet")
    w.case("quiet", 12)
    # A refund 8 days overdue.
    w.customer("refund")
    w.refund("refund", "RF1", 13)
    # A gold customer (48 h head start) with two due items: a late parcel, and a refund that
    # is more urgent (the queue reads parcels first).
    w.customer("busy", tier="gold")
    w.parcel("busy", "BZ1", 2)
    w.refund("busy", "BZ2", 10)
    # Another brand's customer, more urgent than anyone of brand b.
    w.customer("stranger", brand="other")
    w.parcel("stranger", "X1", 9)
    w.case("stranger", 14)
    return w


#: Brand b's queue at NOW, most urgent first: (customer, item, key in days before NOW).
QUEUED = [
    ("stale", "stale-K", 11), ("quiet", "quiet-K", 10), ("refund", "RF1-R", 8),
    ("busy", "BZ2-R", 7), ("told3", "T3-S", 6), ("busy", "BZ1-S", 4), ("silent", "S1-S", 1),
]  # fmt: skip


@pytest.fixture(scope="module")
def loaded(db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Database:
    return world.load(scenarios(), db, settings, tmp_path_factory)


@pytest.fixture(scope="module")
def world_app(loaded: Database, settings: Settings) -> Flask:
    return create_app(replace(settings, clock=NOW))


def brand_key(db: Database, brand: str) -> str:
    secret, _ = KeyStore(db).create("q-" + uuid.uuid4().hex[:10], [Scope.CONTEXT_READ], [brand])
    return secret


@pytest.fixture
def brand_b(world_app: Flask, loaded: Database) -> FlaskClient:
    return keyed(world_app.test_client(), brand_key(loaded, "b"))


def nodes(page: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in page["edges"]]


def items(nodes_: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(node["customer"]["id"], node["about"]["id"]) for node in nodes_]


def counted(nodes_: list[dict[str, Any]]) -> list[tuple[str, str, int | None]]:
    return [(node["customer"]["id"], node["about"]["id"], node["dueItems"]) for node in nodes_]


def walk(api: FlaskClient, text: str, field: str, first: int, **variables: Any) -> list[Any]:
    """Every page of ``field``, ``first`` at a time: the nodes of each page."""
    pages: list[Any] = []
    after = None
    while True:
        page = data(api, text, first=first, after=after, **variables)[field]
        pages.append(nodes(page))
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]


def test_the_queue_leaves_out_dead_orders_and_items_answered_lately(brand_b: FlaskClient) -> None:
    # when
    queued = nodes(data(brand_b, ITEMS, first=20)["proactiveQueue"])
    # then: no cancelled order or cart, no parcel told about yesterday, no case answered
    # yesterday; the parcel told about 3 days ago and the case answered 8 days ago are back
    assert items(queued) == [(cid, item) for cid, item, _ in QUEUED]
    # each keyed by its first due time and its tier's head start, whatever was sent since
    assert [node["priority"] for node in queued] == [24 * days + 2 for _, _, days in QUEUED]
    due = {node["about"]["id"]: node["dueAt"] for node in queued}
    assert (due["T3-S"], due["stale-K"], due["BZ1-S"]) == (day(6), day(11), day(2))
    assert {node["dueItems"] for node in queued} == {None}  # counted by proactiveCustomers


def test_the_detail_states_the_facts(brand_b: FlaskClient) -> None:
    # when
    queued = nodes(data(brand_b, ITEMS, first=20)["proactiveQueue"])
    # then
    detail = {node["about"]["id"]: node["detail"] for node in queued}
    assert detail == {
        "stale-K": "case stale-K (Broken zip) open since 2026-11-10 (13 days);"
        " last update sent 2026-11-15 (8 days ago)",
        "quiet-K": "case quiet-K (Broken zip) open since 2026-11-11 (12 days); no update sent",
        "RF1-R": "return of order N-RF1 received 2026-11-10, refund not paid"
        " (due 2026-11-15, 8 days overdue)",
        "BZ1-S": "parcel for order N-BZ1 (DHL) promised for 2026-11-21 (2 days ago),"
        " not delivered; nobody has told the customer",
        "T3-S": "parcel for order N-T3 (DHL) promised for 2026-11-17 (6 days ago),"
        " not delivered; last update sent 2026-11-20 (3 days ago)",
        "S1-S": "parcel for order N-S1 (DHL) promised for 2026-11-22 (1 day ago),"
        " not delivered; nobody has told the customer",
        "BZ2-R": "return of order N-BZ2 received 2026-11-13, refund not paid"
        " (due 2026-11-18, 5 days overdue)",
    }


def test_the_queue_pages_are_full_after_the_items_it_leaves_out(brand_b: FlaskClient) -> None:
    # when: one item a page, so each page reads past the items left out
    pages = walk(brand_b, ITEMS, "proactiveQueue", first=1)
    # then
    assert [items(page) for page in pages] == [[(cid, item)] for cid, item, _ in QUEUED]


def test_proactive_customers_lists_each_customer_once_at_their_most_urgent_item(
    brand_b: FlaskClient,
) -> None:
    # when
    listed = nodes(data(brand_b, CUSTOMERS, first=20)["proactiveCustomers"])
    queued = nodes(data(brand_b, ITEMS, first=20)["proactiveQueue"])
    # then busy appears once, at its refund, with its parcel counted
    assert counted(listed) == [
        ("stale", "stale-K", 1), ("quiet", "quiet-K", 1), ("refund", "RF1-R", 1),
        ("busy", "BZ2-R", 2), ("told3", "T3-S", 1), ("silent", "S1-S", 1),
    ]  # fmt: skip
    # and each is the queue's item, fact for fact
    by_item = {node["about"]["id"]: node for node in queued}
    for node in listed:
        assert node == by_item[node["about"]["id"]] | {"dueItems": node["dueItems"]}


@pytest.mark.parametrize("first", [1, 2, 4])
def test_proactive_customers_pages_exactly(brand_b: FlaskClient, first: int) -> None:
    # when
    pages = walk(brand_b, CUSTOMERS, "proactiveCustomers", first=first)
    # then every customer comes once, none is lost, and no page holds more than `first`
    walked = [customer for page in pages for customer, _ in items(page)]
    assert walked == ["stale", "quiet", "refund", "busy", "told3", "silent"]
    assert all(len(page) <= first for page in pages)
    assert len(pages) == -(-6 // first)


def test_proactive_customers_honours_reasons(brand_b: FlaskClient) -> None:
    # when
    refunds = data(brand_b, CUSTOMERS, first=20, reasons=["REFUND_OVERDUE"])["proactiveCustomers"]
    parcels = data(brand_b, CUSTOMERS, first=20, reasons=["LATE_SHIPMENT"])["proactiveCustomers"]
    # then busy stands at its item of the reason asked for, and counts only those
    assert counted(nodes(refunds)) == [("refund", "RF1-R", 1), ("busy", "BZ2-R", 1)]
    assert counted(nodes(parcels)) == [
        ("told3", "T3-S", 1), ("busy", "BZ1-S", 1), ("silent", "S1-S", 1),
    ]  # fmt: skip


def test_a_key_of_another_brand_sees_neither_list_of_brand_b(
    loaded: Database, world_app: Flask, brand_b: FlaskClient
) -> None:
    # given a key of the other brand
    other = keyed(world_app.test_client(), brand_key(loaded, "other"))
    # when
    queues = {name: data(api, ITEMS, first=20)["proactiveQueue"]
              for name, api in (("b", brand_b), ("other", other))}  # fmt: skip
    lists = {name: data(api, CUSTOMERS, first=20)["proactiveCustomers"]
             for name, api in (("b", brand_b), ("other", other))}  # fmt: skip
    # then each brand sees its own customers only
    assert items(nodes(queues["other"])) == [("stranger", "stranger-K"), ("stranger", "X1-S")]
    assert counted(nodes(lists["other"])) == [("stranger", "stranger-K", 2)]
    seen_by_b = {cid for page in (queues["b"], lists["b"]) for cid, _ in items(nodes(page))}
    assert "stranger" not in seen_by_b
    assert len(seen_by_b) == 6
