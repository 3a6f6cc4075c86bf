"""`ctxapi seed load`: everything valid loads, everything else is a reject with a reason."""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

from ctxapi.cli import DEMO_DIR
from ctxapi.config import Settings
from ctxapi.db import Database
from tests.seeding import graph_counts, seed_load, write_lines

BRAND = '{"id": "b1", "name": "Brand One"}'


def totals(output: str) -> dict[str, int]:
    """The numbers of the summary table's total row."""
    header = next(line for line in output.splitlines() if "read" in line and "rejected" in line)
    names = [cell.strip() for cell in re.split(r"[│┃|]", header) if cell.strip()][1:]
    row = next(line for line in output.splitlines() if re.match(r"^\W*total\b", line))
    cells = [cell.strip() for cell in re.split(r"[│┃|]", row) if cell.strip()][1:]
    return {name: int(cell.replace(",", "")) for name, cell in zip(names, cells, strict=False)}


def test_the_demo_loads_cleanly_and_a_second_load_changes_nothing(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # when
    first = seed_load(settings, tmp_path, DEMO_DIR)
    after_first = graph_counts(empty_graph)
    second = seed_load(settings, tmp_path, DEMO_DIR)
    # then
    assert first.exit_code == 0, first.output
    assert first.rejects == []
    assert totals(first.output)["created"] == totals(first.output)["read"] > 250
    assert second.exit_code == 0
    assert totals(second.output) | {"records/s": 0} == {
        "read": totals(first.output)["read"],
        "created": 0,
        "updated": 0,
        "unchanged": totals(first.output)["read"],
        "deleted": 0,
        "rejected": 0,
        "records/s": 0,
    }
    assert graph_counts(empty_graph) == after_first


def test_every_kind_of_bad_line_is_a_reject_and_the_rest_loads(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    data = tmp_path / "data"
    write_lines(data, "brands.jsonl", BRAND)
    write_lines(
        data,
        "customers.jsonl",
        '{"id": "C1", "brand": "b1", "name": "Ann"}',
        '{"id": "C2", "brand": "b1", "na',
        b'{"id": "C3", "brand": "b1", "name": "\xff\xfe"}',
        '{"id": "C4", "brand": "b1", "name": "Dee", "shoeSize": 42}',
        '{"id": "C5", "brand": "b1"}',
        '{"id": "C6", "brand": "b1", "name": "Flo", "tier": "platinum"}',
        "",
        '{"id": "C7", "brand": "b1", "name": "Gus", "createdAt": "2024-02-01T10:00:00+01:00"}',
        '{"id": "C8", "brand": "b1", "name": "Hal", "createdAt": "2024-02-01T10:00:00"}',
        '{"id": "C9", "brand": "nope", "name": "Ivy"}',
        "[1, 2]",
    )
    with (data / "customers.jsonl").open("ab") as file:
        file.write(b'{"id": "C11", "brand": "b1", "name": "Jo')  # truncated last line
    # when
    outcome = seed_load(settings, tmp_path, data)
    # then
    assert outcome.exit_code == 1
    by_line = {reject["line"]: reject for reject in outcome.rejects}
    assert sorted(by_line) == [2, 3, 4, 5, 6, 9, 10, 11, 12]
    assert all(reject["file"].endswith("customers.jsonl") for reject in outcome.rejects)
    assert "not valid JSON" in by_line[2]["errors"]["_line"][0]
    assert "not UTF-8" in by_line[3]["errors"]["_line"][0]
    assert by_line[4]["errors"] == {"shoeSize": ["Unknown field."]}
    assert by_line[5]["errors"] == {"name": ["Missing data for required field."]}
    assert "tier" in by_line[6]["errors"]
    assert "createdAt" in by_line[9]["errors"]
    assert by_line[10]["errors"] == {"_references": ["brand 'nope' does not exist"]}
    assert by_line[11]["errors"] == {"_line": ["a line must hold one JSON object"]}
    assert "not valid JSON" in by_line[12]["errors"]["_line"][0]
    assert by_line[12]["raw"] == '{"id": "C11", "brand": "b1", "name": "Jo'
    # and the valid records loaded: read = loaded + rejected
    stored = empty_graph.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id")
    assert [row["id"] for row in stored] == ["C1", "C7"]
    numbers = totals(outcome.output)
    assert numbers["read"] == 12
    assert numbers["read"] == numbers["created"] + numbers["rejected"]
    assert "9 rejected records are in" in outcome.output
    assert "Traceback" not in outcome.output


def test_max_rejects_accepts_some(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    data = tmp_path / "data"
    write_lines(data, "brands.jsonl", BRAND, '{"id": "b2"}')
    # when
    strict = seed_load(settings, tmp_path, data)
    lenient = seed_load(settings, tmp_path, data, max_rejects=1)
    # then
    assert strict.exit_code == 1
    assert lenient.exit_code == 0
    assert len(lenient.rejects) == 1


def test_csv_rows_are_checked_like_json_lines(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given: a header without the value column, and a row with one cell too many
    data = tmp_path / "data"
    write_lines(data, "brands.jsonl", BRAND)
    write_lines(data, "customers.csv", "id,brand,name,tier", "C1,b1,Ann,vip", "C2,b1,Bo,gold,x")
    write_lines(data, "identities.csv", "customer,kind,source", "C1,email,crm")
    # when
    outcome = seed_load(settings, tmp_path, data)
    # then
    assert outcome.exit_code == 1
    errors = {(Path(r["file"]).name, r["line"]): r["errors"] for r in outcome.rejects}
    assert errors == {
        ("customers.csv", 3): {"_line": ["5 cells where the header has 4 columns"]},
        ("identities.csv", 2): {"value": ["Missing data for required field."]},
    }
    assert empty_graph.read("MATCH (c:Customer {id: 'C1'}) RETURN c.tier AS tier")[0]["tier"] == (
        "vip"
    )


def test_an_empty_file_loads_nothing_and_is_fine(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    data = tmp_path / "data"
    data.mkdir()
    (data / "customers.jsonl").write_bytes(b"")
    # when
    outcome = seed_load(settings, tmp_path, data)
    # then
    assert outcome.exit_code == 0
    assert totals(outcome.output)["read"] == 0


def test_a_changed_record_updates_its_node_and_its_links(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    data = tmp_path / "data"
    write_lines(data, "brands.jsonl", BRAND, '{"id": "b2", "name": "Brand Two"}')
    write_lines(
        data, "customers.jsonl", '{"id": "C1", "brand": "b1", "name": "Ann", "locale": "de"}'
    )
    seed_load(settings, tmp_path, data)
    # when: the tier changes, the brand changes, the locale disappears
    write_lines(
        data, "customers.jsonl", '{"id": "C1", "brand": "b2", "name": "Ann", "tier": "vip"}'
    )
    outcome = seed_load(settings, tmp_path, data)
    # then
    assert totals(outcome.output)["updated"] == 1
    [row] = empty_graph.read(
        "MATCH (c:Customer {id: 'C1'})-[:OF_BRAND]->(b) "
        "RETURN c.tier AS tier, c.locale AS locale, collect(b.id) AS brands"
    )
    assert (row["tier"], row["locale"], row["brands"]) == ("vip", None, ["b2"])


def test_identities_are_normalized_and_a_shared_phone_is_one_node(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given: two customers give the same landline, spelled differently
    data = tmp_path / "data"
    write_lines(data, "brands.jsonl", BRAND)
    write_lines(
        data,
        "customers.jsonl",
        '{"id": "C1", "brand": "b1", "name": "Tom"}',
        '{"id": "C2", "brand": "b1", "name": "Kat"}',
    )
    write_lines(
        data,
        "identities.jsonl",
        '{"customer": "C1", "kind": "phone", "value": "+49 30 4401 2345", "source": "shop"}',
        '{"customer": "C2", "kind": "phone", "value": "030 44012345", "region": "DE",'
        ' "source": "call_center", "confidence": 0.6}',
        '{"customer": "C1", "kind": "email", "value": " Tom@Example.com "}',
    )
    # when
    outcome = seed_load(settings, tmp_path, data)
    # then
    assert outcome.exit_code == 0, outcome.rejects
    rows = empty_graph.read(
        "MATCH (i:Identity {kind: 'phone'})-[l:IDENTIFIES]->(c) "
        "RETURN i.value AS value, c.id AS customer, l.source AS source, l.confidence AS confidence "
        "ORDER BY customer"
    )
    assert [dict(row) for row in rows] == [
        {"value": "+493044012345", "customer": "C1", "source": "shop", "confidence": 1.0},
        {"value": "+493044012345", "customer": "C2", "source": "call_center", "confidence": 0.6},
    ]
    assert (
        empty_graph.read(
            "MATCH (:Identity {kind: 'email', value: 'tom@example.com'})-[:IDENTIFIES]->(c) "
            "RETURN c.id AS id"
        )[0]["id"]
        == "C1"
    )


def test_orders_keep_exact_money_and_their_lines(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    data = tmp_path / "data"
    write_lines(data, "brands.jsonl", BRAND)
    write_lines(data, "customers.jsonl", '{"id": "C1", "brand": "b1", "name": "Ann"}')
    write_lines(
        data, "products.jsonl", '{"id": "P1", "name": "Boots"}', '{"id": "P2", "name": "Cap"}'
    )
    write_lines(
        data,
        "orders.jsonl",
        '{"id": "O1", "customer": "C1", "number": "1001", "placedAt": "2026-01-05T10:00:00Z",'
        ' "status": "paid", "total": "259.85", "currency": "EUR", "items": ['
        '{"product": "P1", "quantity": 2, "unitPrice": "129.90"},'
        '{"product": "P2", "quantity": 1, "unitPrice": "0.05"}]}',
        '{"id": "O2", "customer": "C1", "number": "1001", "placedAt": "2026-01-06T10:00:00Z",'
        ' "status": "paid", "total": "1.00", "currency": "EUR"}',
        '{"id": "O3", "customer": "C1", "number": "1003", "placedAt": "2026-01-06T10:00:00Z",'
        ' "status": "paid", "total": "1.00", "currency": "EUR",'
        ' "items": [{"product": "P404", "quantity": 1, "unitPrice": "1.00"}]}',
        '{"id": "O4", "customer": "C1", "number": "1004", "placedAt": "2026-01-06T10:00:00Z",'
        ' "status": "paid", "total": "1.005", "currency": "EUR"}',
    )
    # when
    outcome = seed_load(settings, tmp_path, data)
    # then
    reasons = {reject["line"]: reject["errors"] for reject in outcome.rejects}
    assert reasons == {
        2: {"_record": ["order number '1001' already belongs to another order"]},
        3: {"_references": ["product 'P404' does not exist"]},
        4: {"total": ["'1.005' has more than 2 decimals for EUR"]},
    }
    [order] = empty_graph.read(
        "MATCH (:Customer {id: 'C1'})-[:PLACED]->(o:Order)-[l:CONTAINS]->(p) "
        "WITH o, l, p ORDER BY l.line "
        "RETURN o.totalMinor AS total, o.currency AS currency, o.placedAt.year AS year, "
        "collect([p.id, l.quantity, l.unitPriceMinor]) AS lines"
    )
    assert dict(order) == {
        "total": 25985,
        "currency": "EUR",
        "year": 2026,
        "lines": [["P1", 2, 12990], ["P2", 1, 5]],
    }


def test_interactions_link_everything_they_name_or_are_rejected(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    data = tmp_path / "data"
    write_lines(data, "brands.jsonl", BRAND)
    write_lines(data, "agents.jsonl", '{"id": "A1", "name": "Max"}')
    write_lines(data, "customers.jsonl", '{"id": "C1", "brand": "b1", "name": "Ann"}')
    write_lines(data, "identities.jsonl", '{"customer": "C1", "kind": "email", "value": "a@x.io"}')
    write_lines(
        data,
        "cases.jsonl",
        '{"id": "K1", "customer": "C1", "subject": "late", "status": "open",'
        ' "openedAt": "2026-11-01T08:00:00Z"}',
    )
    base = '"customer": "C1", "channel": "email", "direction": "inbound",'
    base += ' "occurredAt": "2026-11-01T09:00:00Z", "summary": "where is it"'
    write_lines(
        data,
        "interactions.jsonl",
        '{"id": "I1", ' + base + ', "identity": {"kind": "email", "value": "A@X.io"},'
        ' "case": "K1", "agent": "A1", "about": [{"type": "product", "id": "P404"}]}',
        '{"id": "I2", ' + base + ', "identity": {"kind": "email", "value": "b@x.io"}}',
        '{"id": "I3", ' + base + ', "case": "K1", "agent": "A1"}',
    )
    # when
    outcome = seed_load(settings, tmp_path, data)
    # then
    reasons = {reject["line"]: reject["errors"]["_references"] for reject in outcome.rejects}
    assert reasons == {
        1: ["product 'P404' does not exist"],
        2: ["identity email 'b@x.io' is not one of customer 'C1''s (load it in identities first)"],
    }
    [row] = empty_graph.read(
        "MATCH (c:Customer)-[:HAD]->(i:Interaction {id: 'I3'})-[:PART_OF]->(k:Case), "
        "(i)-[:HANDLED_BY]->(a:Agent), (c)-[:OPENED]->(k) "
        "RETURN i.occurredAt.hour AS hour, a.name AS agent"
    )
    assert (row["hour"], row["agent"]) == (9, "Max")


def test_dry_run_validates_and_writes_nothing(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # when
    outcome = seed_load(settings, tmp_path, DEMO_DIR, dry_run=True)
    # then
    assert outcome.exit_code == 0
    assert "dry run" in outcome.output
    assert graph_counts(empty_graph) == {}


def test_a_file_of_unknown_type_is_one_clear_line(settings: Settings, tmp_path: Path) -> None:
    # given
    path = write_lines(tmp_path, "clients.jsonl", "{}")
    # when
    outcome = seed_load(settings, tmp_path, path)
    # then
    assert outcome.exit_code == 1
    assert outcome.output.startswith("Error: ")
    assert "cannot tell the record type from the name" in outcome.output
    assert len(outcome.output.strip().splitlines()) == 1


def test_errors_inside_line_items_are_rejects_too(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    data = tmp_path / "data"
    write_lines(
        data,
        "orders.jsonl",
        '{"id": "O1", "customer": "C1", "number": "1", "placedAt": "2026-01-05T10:00:00Z",'
        ' "status": "paid", "total": "1.00", "currency": "EUR",'
        ' "items": [{"product": "P1", "quantity": "2", "unitPrice": "1.00", "gift": true}]}',
    )
    # when
    outcome = seed_load(settings, tmp_path, data)
    # then
    assert outcome.exit_code == 1
    [reject] = outcome.rejects
    assert reject["errors"] == {
        "items": {"0": {"quantity": ["Not a valid integer."], "gift": ["Unknown field."]}}
    }


# -- edge cases of the input: broken gzip, byte-order marks, keys twice, huge lines ----------
def customers(count: int, start: int = 1) -> list[str]:
    return [f'{{"id": "C{n}", "brand": "b1", "name": "Customer {n}"}}' for n in range(start, count)]


STOPPED = re.compile(
    r"Of its ([\d,]+) records read before, ([\d,]+) are loaded \(they stay loaded\) and 0 rejected"
)


def test_a_truncated_gz_stops_with_one_clear_error_and_a_rerun_completes_it(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given: the second half of a gzipped file is missing
    data = tmp_path / "data"
    write_lines(data, "brands.jsonl", BRAND)
    whole = write_lines(data, "customers.jsonl.gz", *customers(3001)).read_bytes()
    (data / "customers.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    # when
    outcome = seed_load(settings, tmp_path, data)
    # then: the summary, then one error naming the file, what of it is in and what to do
    assert outcome.exit_code == 1
    assert "Aborted" not in outcome.output
    assert "Traceback" not in outcome.output
    error = outcome.output.strip().splitlines()[-1]
    assert error.startswith(f"Error: {data / 'customers.jsonl.gz'} is corrupt or truncated (")
    assert "run the same command again" in error
    stopped = STOPPED.search(error)
    assert stopped, error
    read, loaded = (int(number.replace(",", "")) for number in stopped.groups())
    assert 0 < read == loaded < 3000
    assert totals(outcome.output) | {"records/s": 0} == {
        "read": 1 + read, "created": 1 + read, "updated": 0, "unchanged": 0, "deleted": 0,
        "rejected": 0, "records/s": 0,
    }  # fmt: skip
    stored = empty_graph.read("MATCH (c:Customer) RETURN count(c) AS n")[0]["n"]
    assert stored == loaded
    # when: the file is whole again
    (data / "customers.jsonl.gz").write_bytes(whole)
    rerun = seed_load(settings, tmp_path, data)
    # then: the rest loads, nothing twice
    assert rerun.exit_code == 0, rerun.output
    assert (totals(rerun.output)["created"], totals(rerun.output)["unchanged"]) == (
        3000 - loaded,
        1 + loaded,
    )
    assert graph_counts(empty_graph) == {"Brand": 1, "Customer": 3000, "OF_BRAND": 3000}


def test_a_gz_that_is_not_gzip_stops_the_load_after_the_types_before_it(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    data = tmp_path / "data"
    write_lines(data, "brands.jsonl", BRAND)
    (data / "customers.jsonl.gz").write_bytes(b'{"id": "C1", "brand": "b1", "name": "Ann"}\n')
    # when
    outcome = seed_load(settings, tmp_path, data, dry_run=True)
    # then
    assert outcome.exit_code == 1
    assert outcome.output.strip().splitlines()[-1] == (
        f"Error: {data / 'customers.jsonl.gz'} is corrupt or truncated (Not a gzipped file "
        "(b'{\"')): the check stopped at its start. Repair or replace the file and check it again."
    )
    assert totals(outcome.output)["read"] == 1


def test_a_byte_order_mark_at_the_start_of_a_file_is_ignored(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given: files saved by tools that write a UTF-8 byte-order mark
    data = tmp_path / "data"
    write_lines(data, "brands.jsonl", b"\xef\xbb\xbf" + BRAND.encode())
    write_lines(data, "customers.csv", b"\xef\xbb\xbfid,brand,name", "C1,b1,Ann", "C2,b1,Bo")
    # when
    outcome = seed_load(settings, tmp_path, data)
    # then
    assert outcome.exit_code == 0, outcome.rejects
    stored = empty_graph.read("MATCH (c:Customer)-[:OF_BRAND]->(:Brand {id: 'b1'}) RETURN c.id")
    assert sorted(row["c.id"] for row in stored) == ["C1", "C2"]


def test_a_key_twice_in_a_json_record_is_a_reject_naming_it(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given: keys twice at the top, in a line item, spelled with an escape; and lookalikes
    data = tmp_path / "data"
    write_lines(data, "brands.jsonl", BRAND)
    write_lines(data, "products.jsonl", '{"id": "P1", "name": "Boots"}')
    write_lines(
        data,
        "customers.jsonl",
        '{"id": "C1", "brand": "b1", "name": "Ann", "id": "C2"}',
        '{"id": "C3", "brand": "b1", "name": "say \\"name\\": Cy", "tier": "vip"}',
        '{"id": "C4", "brand": "b1", "name": "Di", "n\\u0061me": "Dee"}',
        '{"id": "C5", "brand": "b1", "name": "Ed:", "createdAt": "2024-01-01T10:00:00Z"}',
    )
    order = '{"id": "O1", "customer": "C3", "number": "1", "placedAt": "2026-01-05T10:00:00Z",'
    order += ' "status": "paid", "total": "2.00", "currency": "EUR", "items": '
    write_lines(
        data,
        "orders.jsonl",
        order + '[{"product": "P1", "quantity": 1, "unitPrice": "1.00", "quantity" : 2}]}',
    )
    # when
    outcome = seed_load(settings, tmp_path, data)
    # then
    reasons = {(Path(r["file"]).name, r["line"]): r["errors"] for r in outcome.rejects}
    assert reasons == {
        ("customers.jsonl", 1): {"_line": ['duplicate key "id"']},
        ("customers.jsonl", 3): {"_line": ['duplicate key "name"']},
        ("orders.jsonl", 1): {"_line": ['duplicate key "quantity"']},
    }
    stored = empty_graph.read("MATCH (c:Customer) RETURN c.id AS id, c.name AS name ORDER BY id")
    assert [tuple(row.values()) for row in stored] == [("C3", 'say "name": Cy'), ("C5", "Ed:")]
    assert empty_graph.read("MATCH (o:Order) RETURN o.id") == []


def test_a_line_over_the_size_limit_is_a_reject_and_the_limit_is_a_setting(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given: records of 60, 61 and 62 bytes, one ending in "\r\n", and a long CSV header
    data = tmp_path / "data"
    line = '{"id": "b1", "name": "' + "x" * 36 + '"}'
    assert len(line) == 60
    write_lines(
        data, "brands.jsonl", line, line.replace("b1", "b2") + "\r", line.replace("b1", "b33")
    )
    write_lines(data, "brands-2.jsonl", line.replace("x" * 36, "y" * 38))
    write_lines(data, "brands.csv", "id,name" + " " * 60, "b4,Four")  # a header of 67 bytes
    # when
    limited = seed_load(settings, tmp_path, data, environ={"CTXAPI_MAX_RECORD_BYTES": "60"})
    # then
    assert limited.exit_code == 1
    assert [(Path(r["file"]).name, r["line"], r["errors"]) for r in limited.rejects] == [
        ("brands-2.jsonl", 1, {"_line": ["record of 62 bytes is over the limit of 60"]}),
        ("brands.csv", 1, {"_line": ["record of 67 bytes is over the limit of 60"]}),
        ("brands.csv", 2, {"_line": ["no header to read the row by: the header line is a reject"]}),
        ("brands.jsonl", 3, {"_line": ["record of 61 bytes is over the limit of 60"]}),
    ]
    assert limited.rejects[-1]["raw"] == line.replace("b1", "b33")
    # when: the option wins over the variable
    wider = seed_load(
        settings, tmp_path, data, environ={"CTXAPI_MAX_RECORD_BYTES": "60"}, max_record_bytes=67
    )
    # then
    assert wider.exit_code == 0, wider.rejects


def test_a_50_mb_line_is_skipped_in_chunks_and_only_its_start_is_kept(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given: a customer of 50 MB between two ordinary ones
    data = tmp_path / "data"
    write_lines(data, "brands.jsonl", BRAND)
    head = b'{"id": "C2", "brand": "b1", "name": "'
    with (data / "customers.jsonl").open("wb") as file:
        file.write(customers(2)[0].encode() + b"\n" + head)
        for _ in range(50):
            file.write(b"x" * 2**20)
        file.write(b'"}\n' + customers(4, start=3)[0].encode() + b"\n")
    seed_load(settings, tmp_path, DEMO_DIR, dry_run=True)  # imports and caches filled
    # when
    tracemalloc.start()
    try:
        outcome = seed_load(settings, tmp_path, data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # then: the others load, the reject says why, and neither it nor memory holds the line
    assert outcome.exit_code == 1
    [reject] = outcome.rejects
    size = len(head) + 50 * 2**20 + 2
    assert (reject["line"], reject["errors"]) == (
        2,
        {"_line": [f"record of {size:,} bytes is over the limit of 1,000,000"]},
    )
    assert reject["raw"] == (head + b"x" * (1000 - len(head))).decode()
    assert (tmp_path / "rejects.jsonl").stat().st_size < 2000
    stored = empty_graph.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id")
    assert [row["id"] for row in stored] == ["C1", "C3"]
    assert peak < 10 * 2**20, f"peak {peak:,} bytes"
