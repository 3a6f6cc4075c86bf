"""The benchmark's own code, on a tiny dataset (timings are reported, never asserted)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.compare import interleaved
from bench.run import Plan, measure, percentile, write_report
from ctxapi.config import Settings
from ctxapi.db import Database

pytestmark = pytest.mark.slow


def test_percentiles_pick_the_right_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile([], 50)) == (50.0, 99.0, 0.0)


def test_the_benchmark_runs_end_to_end_on_a_tiny_dataset(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given
    plan = Plan(
        sizes=[150],
        seed=3,
        requests=24,
        warmup=6,
        workers=1,
        out=tmp_path / "out",
        home=tmp_path,
        neo4j_uri=settings.neo4j_uri,
        neo4j_password=settings.neo4j_password,
    )
    # when
    result = measure(plan, 150)
    report = write_report(plan, [result])
    # then: every request was answered, by the API and by the raw driver
    for run in ("api_c1", "api_c8", "raw_c1", "insights_c1", "queue_c1"):
        assert result[run]["requests"] == 24
        assert result[run]["errors"] == 0
        assert 0 < result[run]["p50_ms"] <= result[run]["p99_ms"]
    assert result["load"]["records"] > 10 * 150
    assert {"customers", "orders", "interactions"} <= set(result["load"]["per_type"])
    assert result["load"]["peak_rss_mb"] > 0
    assert result["api_worker_rss_mb"] > 0
    assert result["api_raw_ratio_p50"] > 0
    # and the three outputs exist and agree
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved == json.loads(json.dumps(report))
    assert saved["machine"]["cores"] >= 1
    assert (tmp_path / "out" / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (tmp_path / "out" / "RESULTS.md").read_text()
    assert "| 150 |" in markdown
    assert "Aims at 150 customers" in markdown
    assert "with insights c1 p50" in markdown


def test_compare_asks_every_key_of_both_in_alternating_order() -> None:
    # given two callers that record who was asked when
    asked: list[tuple[str, str]] = []

    def caller(name: str) -> Callable[[str], bool]:
        def call(key: str) -> bool:
            asked.append((name, key))
            return key != "bad"

        return call

    # when
    found = interleaved({"a": caller("a"), "b": caller("b")}, ["k1", "k2", "bad"])
    # then each key went to both, the first of each pair alternating, failures counted
    assert asked == [("a", "k1"), ("b", "k1"), ("b", "k2"), ("a", "k2"), ("a", "bad"), ("b", "bad")]
    assert found["a"]["requests"] == found["b"]["requests"] == 3
    assert found["a"]["errors"] == found["b"]["errors"] == 1
