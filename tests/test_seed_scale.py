"""The loader at scale: a killed load completes on rerun; memory stays flat; the generator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tracemalloc
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.migrations import apply
from ctxapi.seeding.generate import Generator
from ctxapi.seeding.load import Loader, Rejects, discover
from tests.conftest import clear_graph, neo4j_env, settings_for, throwaway_neo4j
from tests.seeding import graph_counts, seed_load

pytestmark = pytest.mark.slow

CTXAPI = str(Path(sys.executable).with_name("ctxapi"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 generated customers (about 35,000 records)."""
    folder = tmp_path_factory.mktemp("generated")
    Generator(3000, seed=11).run(folder)
    return folder


def _clear(db: Database) -> None:
    clear_graph(db)


@pytest.fixture(scope="module")
def expected_counts(
    db: Database, settings: Settings, generated: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, int]:
    """Nodes and relationships after one clean, uninterrupted load of the generated files."""
    _clear(db)
    clean = seed_load(settings, tmp_path_factory.mktemp("clean"), generated)
    assert clean.exit_code == 0, clean.output
    return graph_counts(db)


def _start_load(settings: Settings, generated: Path, tmp_path: Path) -> subprocess.Popen[str]:
    command = [CTXAPI, "seed", "load", str(generated), "--batch-size", "300",
               "--rejects", str(tmp_path / "interrupted.jsonl")]  # fmt: skip
    return subprocess.Popen(
        command,
        env={**os.environ, **neo4j_env(settings)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_orders(db: Database, load: subprocess.Popen[str]) -> None:
    """Return once the load has committed its first orders (customers are all in by then)."""
    deadline = time.monotonic() + 120
    while not db.read("MATCH (o:Order) RETURN o.id LIMIT 1"):
        assert load.poll() is None, "the load ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_load_killed_halfway_completes_on_rerun_without_duplicates(
    db: Database,
    settings: Settings,
    generated: Path,
    expected_counts: dict[str, int],
    tmp_path: Path,
) -> None:
    # given: an empty graph
    _clear(db)
    # when: a load is killed with SIGKILL once orders have started to arrive
    load = _start_load(settings, generated, tmp_path)
    _wait_for_orders(db, load)
    load.send_signal(signal.SIGKILL)
    load.communicate()
    partial = graph_counts(db)
    # then: it stopped partway, and the same command completes it
    assert partial.get("Order", 0) < expected_counts["Order"]
    assert "Interaction" not in partial
    rerun = seed_load(settings, tmp_path, generated)
    assert rerun.exit_code == 0, rerun.output
    assert rerun.rejects == []
    assert graph_counts(db) == expected_counts


def test_a_load_whose_neo4j_dies_says_so_and_completes_on_rerun(
    generated: Path, expected_counts: dict[str, int], tmp_path: Path
) -> None:
    # given: a Neo4j of its own, so that it can be killed
    server = throwaway_neo4j(tmp_path / "neo4j")
    server.start(ephemeral=True, quiet=True)
    try:
        settings = settings_for(server)
        with closing(Database(settings)) as db:
            apply(db)
            # when: Neo4j dies while orders are being written
            load = _start_load(settings, generated, tmp_path)
            _wait_for_orders(db, load)
            server.kill()
            output, _ = load.communicate(timeout=120)
            # then: one clear message, no traceback, a non-zero exit
            assert load.returncode == 1, output
            assert "Error: Neo4j is not reachable" in output
            assert "Run the same command again once Neo4j is back" in output
            assert "Traceback" not in output
            # when: Neo4j is back and the same command runs again
            server.start(ephemeral=True, quiet=True)
            rerun = seed_load(settings, tmp_path, generated)
            # then: the graph is exactly what one clean load makes
            assert rerun.exit_code == 0, rerun.output
            assert graph_counts(db) == expected_counts
    finally:
        server.stop(quiet=True)


def _peak_memory(db: Database, folder: Path, tmp_path: Path) -> int:
    clear_graph(db)
    loader = Loader(db, rejects=Rejects(tmp_path / "rejects.jsonl"), batch_size=200)
    tracemalloc.start()
    try:
        summary = loader.load(discover([folder]))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.total.rejected == 0
    return peak


def test_memory_stays_flat_as_files_grow(empty_graph: Database, tmp_path: Path) -> None:
    # given: a file set three times as large as another, both many batches long
    small, large = tmp_path / "small", tmp_path / "large"
    Generator(1000, seed=11).run(small)
    Generator(3000, seed=11).run(large)
    # when: each loaded twice, the lower peak kept (a peak is a moment: which batches are in
    # memory together depends on how far the writer lags, and a busy host makes that vary
    # between runs; memory that grows with the files grows in both)
    small_peak = min(_peak_memory(empty_graph, small, tmp_path) for _ in range(2))
    large_peak = min(_peak_memory(empty_graph, large, tmp_path) for _ in range(2))
    # then: the peak is set by the batch size, not by the file size. Up to four batches are
    # in memory together, and the larger files hold larger batches (orders are heavy-tailed),
    # so the bound leaves room for that, well below growth with the files (3x).
    assert large_peak < small_peak * 2, (small_peak, large_peak)


def test_the_generator_is_deterministic_and_valid(tmp_path: Path, generated: Path) -> None:
    # when
    Generator(3000, seed=11).run(tmp_path / "again")
    Generator(3000, seed=12).run(tmp_path / "other")
    # then
    for path in generated.iterdir():
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes()
    assert (tmp_path / "other" / "orders.jsonl").read_bytes() != (
        generated / "orders.jsonl"
    ).read_bytes()
    summary = Loader(None, rejects=Rejects(tmp_path / "r.jsonl")).load(discover([generated]))
    assert summary.total.rejected == 0
    assert summary.total.read > 10 * 3000


def test_generated_data_has_the_shapes_of_real_support_data(generated: Path) -> None:
    # given
    import orjson

    def records(name: str) -> list[dict[str, Any]]:
        return [
            orjson.loads(line) for line in (generated / f"{name}.jsonl").read_bytes().splitlines()
        ]

    orders, shipments = records("orders"), records("shipments")
    interactions, cases = records("interactions"), records("cases")
    # then: orders per customer are heavy-tailed
    per_customer: dict[object, int] = {}
    for order in orders:
        per_customer[order["customer"]] = per_customer.get(order["customer"], 0) + 1
    counts = sorted(per_customer.values())
    assert counts[len(counts) // 2] <= 2
    assert counts[-1] >= 15
    # phone and email are the largest channels
    channels: dict[object, int] = {}
    for interaction in interactions:
        channels[interaction["channel"]] = channels.get(interaction["channel"], 0) + 1
    assert sorted(channels, key=channels.__getitem__)[-2:] in (
        ["email", "phone"],
        ["phone", "email"],
    )
    # a realistic share of parcels is late or damaged
    late = sum(
        1
        for s in shipments
        if s["status"] == "delayed" or (s.get("deliveredAt") and s["deliveredAt"] > s["promisedAt"])
    )
    damaged = sum(1 for s in shipments if s.get("condition") == "damaged")
    assert 0.03 < late / len(shipments) < 0.12
    assert 0.005 < damaged / len(shipments) < 0.04
    # and some cases span several contacts with a channel switch
    by_case: dict[object, set[object]] = {}
    for interaction in interactions:
        if "case" in interaction:
            by_case.setdefault(interaction["case"], set()).add(interaction["channel"])
    assert set(by_case) <= {case["id"] for case in cases}
    assert sum(1 for found in by_case.values() if len(found) > 1) > len(by_case) * 0.1
