"""Delta loads: records with an ``op`` (upsert, patch, delete), against a real Neo4j."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, LiteralString

import orjson
from neo4j import ManagedTransaction

from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.store import deltas
from ctxapi.store.graph import BY_NAME, RECORD_TYPES
from ctxapi.store.ops import Op
from tests.seeding import graph_counts, seed_load, write_lines
from tests.test_seed_load import totals

T0 = "2026-11-01T08:00:00Z"

#: A small world: two customers of one brand sharing a landline, their orders with lines,
#: parcels and a return, cases, contacts and feedback.
WORLD: dict[str, list[dict[str, Any]]] = {
    "brands": [{"id": "b1", "name": "Brand One"}, {"id": "b2", "name": "Brand Two"}],
    "agents": [{"id": "A1", "name": "Max"}],
    "products": [{"id": "P1", "name": "Boots"}, {"id": "P2", "name": "Cap"}],
    "customers": [
        {
            "id": "C1",
            "brand": "b1",
            "name": "Ann",
            "tier": "gold",
            "locale": "de",
            "createdAt": "2020-01-01T00:00:00Z",
        },
        {"id": "C2", "brand": "b1", "name": "Bo"},
    ],
    "addresses": [{"id": "AD1", "customer": "C1", "line1": "Main 1", "city": "X", "country": "DE"}],
    "identities": [
        {"customer": "C1", "kind": "phone", "value": "+493044012345"},
        {"customer": "C2", "kind": "phone", "value": "+493044012345"},
        {"customer": "C1", "kind": "email", "value": "ann@x.io"},
    ],
    "orders": [
        {
            "id": "O1",
            "customer": "C1",
            "number": "1",
            "placedAt": T0,
            "status": "shipped",
            "total": "10.00",
            "currency": "EUR",
            "items": [{"product": "P1", "quantity": 1, "unitPrice": "10.00"}],
        },
        {
            "id": "O2",
            "customer": "C1",
            "number": "2",
            "placedAt": T0,
            "status": "paid",
            "total": "5.00",
            "currency": "EUR",
            "items": [{"product": "P2", "quantity": 1, "unitPrice": "5.00"}],
        },
        {
            "id": "O3",
            "customer": "C2",
            "number": "3",
            "placedAt": T0,
            "status": "paid",
            "total": "10.00",
            "currency": "EUR",
            "items": [{"product": "P1", "quantity": 1, "unitPrice": "10.00"}],
        },
    ],
    "shipments": [
        {
            "id": "S1",
            "order": "O1",
            "carrier": "DHL",
            "status": "in_transit",
            "shippedAt": T0,
            "promisedAt": "2026-11-03T18:00:00Z",
        },
        {"id": "S2", "order": "O2", "carrier": "DHL", "status": "label_created"},
        {"id": "S3", "order": "O3", "carrier": "UPS", "status": "in_transit"},
    ],
    "returns": [
        {"id": "R1", "order": "O1", "reason": "size", "status": "received", "requestedAt": T0}
    ],
    "cases": [
        {"id": "K1", "customer": "C1", "subject": "late", "status": "open", "openedAt": T0},
        {"id": "K2", "customer": "C2", "subject": "size", "status": "open", "openedAt": T0},
    ],
    "interactions": [
        {
            "id": "I1",
            "customer": "C1",
            "channel": "email",
            "direction": "inbound",
            "occurredAt": T0,
            "summary": "where is it",
            "case": "K1",
            "agent": "A1",
            "identity": {"kind": "email", "value": "ann@x.io"},
            "about": [{"type": "order", "id": "O1"}],
        },
        {
            "id": "I2",
            "customer": "C2",
            "channel": "phone",
            "direction": "inbound",
            "occurredAt": T0,
            "summary": "size?",
            "case": "K2",
            "identity": {"kind": "phone", "value": "+493044012345"},
            "about": [{"type": "order", "id": "O3"}],
        },
    ],
    "feedback": [
        {
            "id": "F1",
            "customer": "C1",
            "kind": "csat",
            "score": 4,
            "submittedAt": T0,
            "rates": {"type": "order", "id": "O1"},
        },
        {
            "id": "F2",
            "customer": "C2",
            "kind": "csat",
            "score": 2,
            "submittedAt": T0,
            "rates": {"type": "order", "id": "O3"},
        },
    ],
}


def lines(*records: dict[str, Any]) -> list[str]:
    return [orjson.dumps(record).decode() for record in records]


def load_world(settings: Settings, tmp_path: Path) -> Path:
    """The world in the graph; returns its folder."""
    folder = tmp_path / "world"
    for name, records in WORLD.items():
        write_lines(folder, f"{name}.jsonl", *lines(*records))
    outcome = seed_load(settings, tmp_path, folder)
    assert outcome.exit_code == 0, outcome.rejects
    return folder


def delta(tmp_path: Path, name: str, *records: dict[str, Any]) -> Path:
    """A folder with one file of delta records."""
    folder = tmp_path / "delta"
    for old in folder.glob("*"):
        old.unlink()
    write_lines(folder, name, *lines(*records))
    return folder


def one(db: Database, query: str) -> dict[str, Any]:
    [row] = db.read(query)
    return dict(row)


def test_a_patch_changes_only_the_fields_it_gives(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    load_world(settings, tmp_path)
    # when: the locale of C1 changes, and the parcel S1 is out for delivery
    outcome = seed_load(
        settings,
        tmp_path,
        delta(tmp_path, "customers.jsonl", {"op": "patch", "id": "C1", "locale": "fr"}),
    )
    parcel = {"op": "patch", "id": "S1", "status": "out_for_delivery"}
    seed_load(settings, tmp_path, delta(tmp_path, "shipments.jsonl", parcel))
    # then: the rest of both survives, relationships and timestamps included
    assert outcome.exit_code == 0, outcome.rejects
    assert totals(outcome.output)["updated"] == 1
    assert one(
        empty_graph,
        "MATCH (c:Customer {id: 'C1'})-[:OF_BRAND]->(b) "
        "RETURN c.name AS name, c.tier AS tier, c.locale AS locale, c.createdAt.year AS year, "
        "b.id AS brand, COUNT { (c)-[:PLACED]->() } AS orders, "
        "COUNT { ()-[:IDENTIFIES]->(c) } AS identities",
    ) == {"name": "Ann", "tier": "gold", "locale": "fr", "year": 2020, "brand": "b1",
          "orders": 2, "identities": 2}  # fmt: skip
    assert one(
        empty_graph,
        "MATCH (o:Order {id: 'O1'})-[:SHIPPED_AS]->(s:Shipment {id: 'S1'}) "
        "RETURN s.status AS status, s.carrier AS carrier, s.shippedAt.day AS shipped, "
        "s.promisedAt.day AS promised",
    ) == {"status": "out_for_delivery", "carrier": "DHL", "shipped": 1, "promised": 3}


def test_a_patch_moves_a_reference_and_replaces_the_lines_it_gives(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    load_world(settings, tmp_path)
    # when: O3 moves to C1; O2 gets new lines (with the currency they are in)
    folder = delta(
        tmp_path,
        "orders.jsonl",
        {"op": "patch", "id": "O3", "customer": "C1"},
        {"op": "patch", "id": "O2", "currency": "EUR",
         "items": [{"product": "P1", "quantity": 2, "unitPrice": "9.50"}]},
    )  # fmt: skip
    outcome = seed_load(settings, tmp_path, folder)
    # then
    assert outcome.exit_code == 0, outcome.rejects
    rows = empty_graph.read(
        "MATCH (c:Customer)-[:PLACED]->(o:Order) WHERE o.id IN ['O2', 'O3'] "
        "OPTIONAL MATCH (o)-[l:CONTAINS]->(p) "
        "RETURN o.id AS order, collect(c.id) AS customers, "
        "collect([p.id, l.quantity, l.unitPriceMinor]) AS lines, o.totalMinor AS total "
        "ORDER BY order"
    )
    assert [dict(row) for row in rows] == [
        {"order": "O2", "customers": ["C1"], "lines": [["P1", 2, 950]], "total": 500},
        {"order": "O3", "customers": ["C1"], "lines": [["P1", 1, 1000]], "total": 1000},
    ]


def test_a_patch_of_a_missing_record_is_a_reject_and_the_rest_loads(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    load_world(settings, tmp_path)
    # when
    folder = delta(
        tmp_path,
        "orders.jsonl",
        {"op": "patch", "id": "O9", "status": "paid"},
        {"op": "patch", "id": "O1", "status": "delivered"},
        {"op": "patch", "id": "O2", "customer": "C9"},
        {"op": "patch", "id": "O3", "currency": "USD", "total": "11.00"},
    )
    outcome = seed_load(settings, tmp_path, folder)
    # then
    assert outcome.exit_code == 1
    assert {r["line"]: r["errors"] for r in outcome.rejects} == {
        1: {"_record": ["no orders 'O9' to patch; send it as an upsert"]},
        3: {"_references": ["customer 'C9' does not exist"]},
        4: {"currency": ["the stored amounts are in EUR: a patch that changes currency gives "
                         "total and items too"]},
    }  # fmt: skip
    assert totals(outcome.output)["updated"] == 1
    assert one(empty_graph, "MATCH (o:Order {id: 'O1'}) RETURN o.status AS s") == {"s": "delivered"}
    assert empty_graph.read("MATCH (o:Order {id: 'O9'}) RETURN o") == []


def test_a_patch_rerun_is_unchanged_and_a_later_upsert_is_still_written(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given: C1 patched to vip
    world = load_world(settings, tmp_path)
    patch = delta(tmp_path, "customers.jsonl", {"op": "patch", "id": "C1", "tier": "vip"})
    first = seed_load(settings, tmp_path, patch)
    # when: the same patch again, then the world's own record of C1
    again = seed_load(settings, tmp_path, patch)
    upsert = seed_load(settings, tmp_path, world / "customers.jsonl")
    # then
    assert (totals(first.output)["updated"], totals(again.output)["unchanged"]) == (1, 1)
    assert totals(again.output)["updated"] == 0
    assert (totals(upsert.output)["updated"], totals(upsert.output)["unchanged"]) == (1, 1)
    assert one(empty_graph, "MATCH (c:Customer {id: 'C1'}) RETURN c.tier AS tier") == {
        "tier": "gold"
    }


def test_deleting_an_order_removes_its_lines_parcels_and_returns_and_nothing_else(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    load_world(settings, tmp_path)
    before = graph_counts(empty_graph)
    # when
    outcome = seed_load(
        settings, tmp_path, delta(tmp_path, "orders.jsonl", {"op": "delete", "id": "O1"})
    )
    # then: O1, its line, S1 and R1 are gone, with the links to them; O2 and O3 are whole
    assert outcome.exit_code == 0, outcome.rejects
    assert totals(outcome.output) | {"records/s": 0} == {
        "read": 1, "created": 0, "updated": 0, "unchanged": 0, "deleted": 1, "rejected": 0,
        "records/s": 0,
    }  # fmt: skip
    after = graph_counts(empty_graph)
    gone = {k: before[k] - after.get(k, 0) for k in before if before[k] != after.get(k, 0)}
    assert gone == {
        "Order": 1, "Shipment": 1, "Return": 1, "PLACED": 1, "CONTAINS": 1, "SHIPPED_AS": 1,
        "RETURNS": 1, "ABOUT": 1, "RATES": 1,
    }  # fmt: skip
    rows = empty_graph.read(
        "MATCH (o:Order)-[:CONTAINS]->(p) OPTIONAL MATCH (o)-[:SHIPPED_AS]->(s) "
        "RETURN o.id AS o, p.id AS p, s.id AS s ORDER BY o"
    )
    assert [tuple(row.values()) for row in rows] == [("O2", "P2", "S2"), ("O3", "P1", "S3")]
    assert one(empty_graph, "MATCH (f:Feedback {id: 'F1'}) RETURN f.score AS score") == {"score": 4}


def test_deleting_a_customer_cascades_and_keeps_what_others_share(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    load_world(settings, tmp_path)
    # when
    folder = tmp_path / "delta"
    write_lines(folder, "customers.csv", "id,op", "C1,delete")
    outcome = seed_load(settings, tmp_path, folder)
    # then: only C2's world is left, with the landline it shared, and the master data
    assert outcome.exit_code == 0, outcome.rejects
    assert totals(outcome.output)["deleted"] == 1
    ids = empty_graph.read(
        "MATCH (n) WHERE NOT n:Migration AND NOT n:ApiKey "
        "RETURN labels(n)[0] AS label, coalesce(n.id, n.value) AS id ORDER BY label, id"
    )
    assert [(row["label"], row["id"]) for row in ids] == [
        ("Agent", "A1"), ("Brand", "b1"), ("Brand", "b2"), ("Case", "K2"), ("Customer", "C2"),
        ("Feedback", "F2"), ("Identity", "+493044012345"), ("Interaction", "I2"),
        ("Order", "O3"), ("Product", "P1"), ("Product", "P2"), ("Shipment", "S3"),
    ]  # fmt: skip
    assert one(
        empty_graph,
        "MATCH (:Identity {kind: 'phone'})-[:IDENTIFIES]->(c) RETURN collect(c.id) AS ids",
    ) == {"ids": ["C2"]}


def test_a_delete_rerun_is_unchanged(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    load_world(settings, tmp_path)
    folder = delta(
        tmp_path,
        "identities.jsonl",
        {"op": "delete", "customer": "C1", "kind": "email", "value": "Ann@X.io"},
        {"op": "delete", "customer": "C1", "kind": "phone", "value": "030 44012345",
         "region": "DE", "source": "crm"},
    )  # fmt: skip
    first = seed_load(settings, tmp_path, folder)
    counts = graph_counts(empty_graph)
    # when
    again = seed_load(settings, tmp_path, folder)
    # then: the email node went with its only link (and I1 lost VIA); the shared phone stays
    assert first.exit_code == 0, first.rejects
    assert (totals(first.output)["deleted"], totals(again.output)["unchanged"]) == (2, 2)
    assert totals(again.output)["deleted"] == 0
    assert graph_counts(empty_graph) == counts
    assert counts["Identity"] == 1
    assert counts["VIA"] == 1  # I2's, through the phone C2 still has


def test_delete_then_upsert_and_upsert_then_delete_in_one_file_apply_in_file_order(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    load_world(settings, tmp_path)
    folder = delta(
        tmp_path,
        "cases.jsonl",
        {"op": "delete", "id": "K1"},
        {"id": "K1", "customer": "C1", "subject": "again", "status": "open", "openedAt": T0},
        {"id": "K3", "customer": "C1", "subject": "new", "status": "open", "openedAt": T0},
        {"op": "delete", "id": "K3"},
    )
    # when
    outcome = seed_load(settings, tmp_path, folder)
    # then: K1 was deleted (I1 stays, without PART_OF) and made again; K3 made, then deleted
    assert outcome.exit_code == 0, outcome.rejects
    numbers = totals(outcome.output)
    assert (numbers["created"], numbers["deleted"]) == (2, 2)
    cases = empty_graph.read("MATCH (k:Case) RETURN k.id AS id, k.subject AS s ORDER BY id")
    assert [tuple(row.values()) for row in cases] == [("K1", "again"), ("K2", "size")]
    assert one(
        empty_graph, "MATCH (i:Interaction {id: 'I1'}) RETURN COUNT { (i)-[:PART_OF]->() } AS n"
    ) == {"n": 0}


def test_a_bad_op_and_bad_patches_are_rejects_with_file_and_line(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    load_world(settings, tmp_path)
    folder = delta(
        tmp_path,
        "feedback.jsonl",
        {"op": "remove", "id": "F1"},
        {"op": None, "id": "F1"},
        {"op": "patch", "id": "F1", "score": 7},
        {"op": "patch", "score": 3},
        {"op": "delete", "id": "F1", "colour": "red"},
        {"op": "patch", "id": "F1", "kind": "nps", "score": 9},
    )
    # when
    outcome = seed_load(settings, tmp_path, folder)
    # then
    assert outcome.exit_code == 1
    assert [(Path(r["file"]).name, r["line"], r["errors"]) for r in outcome.rejects] == [
        ("feedback.jsonl", 1, {"op": ["one of upsert, patch, delete"]}),
        ("feedback.jsonl", 2, {"op": ["one of upsert, patch, delete"]}),
        ("feedback.jsonl", 3, {"kind": ["required in a patch that gives score"]}),
        ("feedback.jsonl", 4, {"id": ["Missing data for required field."]}),
        ("feedback.jsonl", 5, {"colour": ["Unknown field."]}),
    ]
    assert one(empty_graph, "MATCH (f:Feedback {id: 'F1'}) RETURN f.kind AS k, f.score AS s") == {
        "k": "nps", "s": 9
    }  # fmt: skip


def test_master_data_still_in_use_is_not_deleted(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given: P2 is in O2 only, b2 has no customers
    load_world(settings, tmp_path)
    folder = tmp_path / "delta"
    write_lines(folder, "brands.csv", "op,id,name", "delete,b1,", "delete,b2,Brand Two")
    write_lines(folder, "products.jsonl", *lines({"op": "delete", "id": "P1"}))
    # when
    outcome = seed_load(settings, tmp_path, folder)
    # then
    assert {(Path(r["file"]).name, r["line"]): r["errors"] for r in outcome.rejects} == {
        ("brands.csv", 2): {"_record": ["brands 'b1' is still in use (customers: 2): delete "
                                        "or change those first"]},
        ("products.jsonl", 1): {"_record": ["products 'P1' is still in use (order lines: 2): "
                                            "delete or change those first"]},
    }  # fmt: skip
    assert totals(outcome.output)["deleted"] == 1
    stored = empty_graph.read("MATCH (n) WHERE n:Brand OR n:Product RETURN n.id AS id ORDER BY id")
    assert [row["id"] for row in stored] == ["P1", "P2", "b1"]


def test_csv_patches_with_an_op_column_leave_empty_cells_alone(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    load_world(settings, tmp_path)
    folder = tmp_path / "delta"
    write_lines(
        folder,
        "customers.csv",
        "op,id,brand,name,tier",
        "patch,C2,b2,,silver",
        ",C3,b1,Cy,",
        "upsert,C4,b1,Di,vip",
    )
    # when
    outcome = seed_load(settings, tmp_path, folder)
    # then
    assert outcome.exit_code == 0, outcome.rejects
    assert (totals(outcome.output)["updated"], totals(outcome.output)["created"]) == (1, 2)
    rows = empty_graph.read(
        "MATCH (c:Customer)-[:OF_BRAND]->(b) WHERE c.id IN ['C2', 'C3', 'C4'] "
        "RETURN c.id AS id, c.name AS name, c.tier AS tier, b.id AS brand ORDER BY id"
    )
    assert [tuple(row.values()) for row in rows] == [
        ("C2", "Bo", "silver", "b2"), ("C3", "Cy", "standard", "b1"), ("C4", "Di", "vip", "b1"),
    ]  # fmt: skip


QUEUE = (
    "MATCH (n) WHERE n.id IN ['S1', 'S2', 'S3', 'R1', 'K1', 'K2'] "
    "RETURN n.id AS id, n.queueTier AS tier ORDER BY id"
)


def test_patches_keep_the_queue_tier_as_upserts_do(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    load_world(settings, tmp_path)
    assert {r["id"]: r["tier"] for r in empty_graph.read(QUEUE)} == {
        "K1": "gold", "K2": "standard", "R1": "gold", "S1": "gold", "S2": "gold",
        "S3": "standard",
    }  # fmt: skip
    folder = tmp_path / "delta"
    write_lines(folder, "customers.jsonl", *lines({"op": "patch", "id": "C1", "tier": "vip"}))
    write_lines(
        folder,
        "orders.jsonl",
        *lines({"op": "patch", "id": "O3", "customer": "C1"}),
    )
    write_lines(
        folder,
        "shipments.jsonl",
        *lines({"op": "patch", "id": "S2", "status": "delivered", "deliveredAt": T0}),
    )
    write_lines(folder, "returns.jsonl", *lines({"op": "patch", "id": "R1", "status": "refunded",
                                                 "refundedAt": T0}))  # fmt: skip
    write_lines(
        folder,
        "cases.jsonl",
        *lines({"op": "patch", "id": "K2", "customer": "C1"},
               {"op": "patch", "id": "K1", "status": "resolved"}),
    )  # fmt: skip
    # when
    outcome = seed_load(settings, tmp_path, folder)
    # then: what may still fall due carries its (new) customer's tier, the rest none
    assert outcome.exit_code == 0, outcome.rejects
    assert {r["id"]: r["tier"] for r in empty_graph.read(QUEUE)} == {
        "K1": None, "K2": "vip", "R1": None, "S1": "vip", "S2": None, "S3": "vip",
    }  # fmt: skip


def test_a_dry_run_checks_the_ops_and_writes_nothing(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    folder = delta(
        tmp_path,
        "shipments.jsonl",
        {"op": "patch", "id": "S1", "status": "delivered"},
        {"op": "patch", "id": "S9", "carrier": "DHL"},
        {"op": "delete", "id": "S1"},
        {"op": "erase", "id": "S1"},
    )
    # when
    outcome = seed_load(settings, tmp_path, folder, dry_run=True)
    # then
    assert outcome.exit_code == 1
    assert [(r["line"], r["errors"]) for r in outcome.rejects] == [
        (1, {"deliveredAt": ["required when status is delivered"]}),
        (4, {"op": ["one of upsert, patch, delete"]}),
    ]
    assert totals(outcome.output) | {"records/s": 0} == {
        "read": 4, "valid": 2, "rejected": 2, "records/s": 0
    }  # fmt: skip
    assert graph_counts(empty_graph) == {}


def test_the_summary_adds_up_and_an_interrupted_delta_load_completes_on_a_rerun(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given: 3,000 customers upserted, then a gzipped delta that breaks off half-way:
    # patches and deletes of them, a patch of one not there, and one bad op
    folder = tmp_path / "base"
    write_lines(folder, "brands.jsonl", *lines(*WORLD["brands"]))
    base = [{"id": f"C{n}", "brand": "b1", "name": f"N{n}"} for n in range(3000)]
    write_lines(folder, "customers.jsonl", *lines(*base))
    assert seed_load(settings, tmp_path, folder).exit_code == 0
    changes = [
        {"op": "patch", "id": f"C{n}", "tier": "vip"} if n % 2 else {"op": "delete", "id": f"C{n}"}
        for n in range(3000)
    ] + [{"op": "patch", "id": "C-none", "tier": "vip"}, {"op": "drop", "id": "C1"}]
    folder = tmp_path / "delta"
    whole = write_lines(folder, "customers.jsonl.gz", *lines(*changes)).read_bytes()
    (folder / "customers.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    summary = tmp_path / "summary.json"
    broken = seed_load(settings, tmp_path, folder, summary_json=summary, batch_size=500)
    done = orjson.loads(summary.read_bytes())["total"]
    # when
    (folder / "customers.jsonl.gz").write_bytes(whole)
    rerun = seed_load(settings, tmp_path, folder, summary_json=summary, batch_size=500)
    total = orjson.loads(summary.read_bytes())["total"]
    # then: the first run stopped part-way; the rerun did the rest, nothing twice
    assert broken.exit_code == 1
    assert 0 < done["read"] < 3000
    assert done["read"] == done["updated"] + done["deleted"]
    assert rerun.exit_code == 1
    assert sorted(r["line"] for r in rerun.rejects) == [3001, 3002]
    assert total == total | {"read": 3002, "rejected": 2, "created": 0}
    assert total["updated"] + total["deleted"] + total["unchanged"] == 3000
    assert total["unchanged"] == done["read"]
    assert total["read"] == sum(total[k] for k in ("created", "updated", "unchanged", "deleted",
                                                   "rejected"))  # fmt: skip
    stored = empty_graph.read("MATCH (c:Customer) RETURN c.tier AS tier, count(*) AS n")
    assert [tuple(row.values()) for row in stored] == [("vip", 1500)]


def over_nothing(query: LiteralString, parameter: str) -> Callable[[ManagedTransaction], None]:
    def work(tx: ManagedTransaction) -> None:
        tx.run(query, {parameter: []}).consume()

    return work


def test_every_delta_query_is_valid_cypher(db: Database) -> None:
    # given
    queries = [deltas.query(BY_NAME[name], op) for name in BY_NAME for op in (Op.PATCH, Op.DELETE)]
    checks = [*deltas.PATCH_TARGETS.values(), *deltas.IN_USE.values()]
    # when: each runs over no rows (Neo4j parses and plans it all the same)
    for query in queries:
        db.write(over_nothing(query, "rows"))
    for check in checks:
        db.write(over_nothing(check, "ids"))
    # then: one query per (type, op), none of them an upsert's
    assert len(set(queries)) == len(queries) == 2 * len(RECORD_TYPES)
    assert not set(queries) & {t.write for t in RECORD_TYPES}
    assert deltas.query(BY_NAME["orders"], Op.UPSERT) is BY_NAME["orders"].write


def test_patches_of_contacts_identities_addresses_and_feedback(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    load_world(settings, tmp_path)
    folder = tmp_path / "delta"
    write_lines(
        folder,
        "addresses.jsonl",
        *lines({"op": "patch", "id": "AD1", "kind": "billing", "customer": "C2"}),
    )
    write_lines(
        folder,
        "identities.jsonl",
        *lines({"op": "patch", "customer": "C2", "kind": "phone", "value": "+4930 44012345",
                "confidence": 0.5, "linkedAt": T0}),
    )  # fmt: skip
    write_lines(
        folder,
        "interactions.jsonl",
        *lines(
            {"op": "patch", "id": "I1", "customer": "C2", "agent": "A1", "about": []},
            {"op": "patch", "id": "I2", "identity": {"kind": "email", "value": "ann@x.io"}},
            {"op": "patch", "id": "I2", "sentiment": -0.5, "case": "K1",
             "identity": {"kind": "phone", "value": "+493044012345"}, "customer": "C2"},
        ),
    )  # fmt: skip
    write_lines(
        folder,
        "feedback.jsonl",
        *lines({"op": "patch", "id": "F2", "rates": {"type": "case", "id": "K2"}}),
    )
    # when
    outcome = seed_load(settings, tmp_path, folder)
    # then
    assert [(Path(r["file"]).name, r["line"], r["errors"]) for r in outcome.rejects] == [
        ("interactions.jsonl", 2, {"customer": ["required in a patch that gives identity"]}),
    ]
    assert one(
        empty_graph,
        "MATCH (c:Customer)-[l:LIVES_AT]->(a:Address {id: 'AD1'}) "
        "RETURN c.id AS c, l.kind AS link, a.kind AS kind, a.city AS city",
    ) == {"c": "C2", "link": "billing", "kind": "billing", "city": "X"}
    links = empty_graph.read(
        "MATCH (:Identity {kind: 'phone'})-[l:IDENTIFIES]->(c) "
        "RETURN c.id AS c, l.confidence AS confidence, l.source AS source, "
        "l.linkedAt IS NOT NULL AS linked ORDER BY c"
    )
    assert [tuple(row.values()) for row in links] == [
        ("C1", 1.0, "import", False), ("C2", 0.5, "import", True),
    ]  # fmt: skip
    contacts = empty_graph.read(
        "MATCH (c)-[:HAD]->(i:Interaction) "
        "RETURN i.id AS id, c.id AS c, i.summary AS summary, i.sentiment AS sentiment, "
        "[(i)-[:VIA]->(v) | v.value] AS via, [(i)-[:PART_OF]->(k) | k.id] AS cases, "
        "[(i)-[:HANDLED_BY]->(a) | a.id] AS agents, [(i)-[:ABOUT]->(x) | x.id] AS about "
        "ORDER BY id"
    )
    assert [dict(row) for row in contacts] == [
        # moved to C2: the email is not C2's, so it loses VIA; about emptied
        {"id": "I1", "c": "C2", "summary": "where is it", "sentiment": None, "via": [],
         "cases": ["K1"], "agents": ["A1"], "about": []},
        {"id": "I2", "c": "C2", "summary": "size?", "sentiment": -0.5,
         "via": ["+493044012345"], "cases": ["K1"], "agents": [], "about": ["O3"]},
    ]  # fmt: skip
    assert one(
        empty_graph, "MATCH (:Feedback {id: 'F2'})-[:RATES]->(x) RETURN collect(x.id) AS ids"
    ) == {"ids": ["K2"]}
