"""The benchmark's own code, on a tiny dataset (timings are reported, never asserted)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from neo4j import GraphDatabase

from bench import churn
from bench.compare import interleaved
from bench.run import (
    Dataset,
    Plan,
    compiled_headline,
    heavy_email,
    heavy_id,
    load_heavy,
    load_markdown,
    measure,
    percentile,
    planning,
    write_heavy,
    write_report,
)
from ctxapi import create_app
from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.rules.judge import judge_graph_facts
from ctxapi.seeding.generate import AS_OF
from ctxapi.thresholds import Thresholds
from tests.api import data
from tests.conftest import keyed

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
        heavy_customers=2,
        heavy_contacts=300,
        heavy_requests=10,
        planning_runs=1,
        mixed_seconds=1.0,
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
    # and the heavy customers were loaded and asked for, with and without insights
    assert result["heavy_load"]["records"] > 2 * 300
    for run in ("api_c1", "insights_c1"):
        assert result["heavy"][run]["requests"] == 10
        assert result["heavy"][run]["errors"] == 0
    assert isinstance(result["heavy"]["insights_aim_met"], bool)
    assert result["heavy"]["worker_rss_mb"] > 0
    # and the headline was planned cold and warm, with insights and without
    for query in ("with_insights", "headline"):
        assert result["planning"][query]["runs"] == 1
        assert result["planning"][query]["cold_p50_ms"] > 0
        assert result["planning"][query]["warm_p50_ms"] > 0
    # and contacts were recorded at concurrency 1 and 8, and beside the headline at c4,
    # then removed again
    writes = result["writes"]
    for run in ("record_c1", "record_c8"):
        assert writes[run]["requests"] == 24
        assert writes[run]["errors"] == 0
    assert writes["reads_alone_c4"]["errors"] == 0
    assert writes["reads_with_writes_c4"]["errors"] == 0
    assert writes["writes_beside_reads"]["writes"] > 0
    assert writes["writes_beside_reads"]["errors"] == 0
    assert isinstance(writes["read_p99_aim_met"], bool)
    left = empty_graph.read(
        "MATCH (i:Interaction) WHERE i.summary STARTS WITH 'bench:' RETURN count(i) AS n"
    )
    assert left[0]["n"] == 0
    # and the three outputs exist and agree
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved == json.loads(json.dumps(report))
    assert saved["machine"]["cores"] >= 1
    assert (tmp_path / "out" / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (tmp_path / "out" / "RESULTS.md").read_text()
    assert "| 150 |" in markdown
    assert "Aims at 150 customers" in markdown
    assert "with insights c1 p50" in markdown
    assert "heavy with insights c1 p50" in markdown
    assert "| 150 | with insights |" in markdown
    assert "insights p50 ≤ 20 ms for a customer with 300 contacts" in markdown
    assert "| record c1 p50 / p99 ms |" in markdown
    assert "with insights, p99 at concurrency 1 ≤ 15 ms (measured" in markdown
    assert "a proactive queue page p50 at concurrency 1 ≤ 10 ms (measured" in markdown
    assert "- 150 customers: `seed load`" in markdown


def test_a_first_load_by_seed_import_is_reported_by_its_steps() -> None:
    # given: what import_first returns for a dataset, and for one reused later
    load = {"seconds": 60.0, "records": 1_200_000, "records_per_s": 20_000, "peak_rss_mb": 90.0,
            "per_type": {}, "with": "seed import", "check_seconds": 40.0,
            "import_seconds": 12.5, "schema_seconds": 7.5,
            "check_records_per_s": 30_000}  # fmt: skip
    # when
    fresh, reused = load_markdown(load), load_markdown(load | {"reused": True})
    # then
    assert fresh == (
        "`seed import` 60.0 s: the check and CSV 40.0 s (30,000 records/s), neo4j-admin 12.5 s,"
        " start and schema (queue backfill included) 7.5 s"
    )
    assert reused.startswith("reused (loaded by an earlier run), `seed import` 60.0 s")


def test_heavy_customers_are_the_same_every_time_with_5000_contacts_each(tmp_path: Path) -> None:
    # when the heavy customers are written twice with one seed, once with another
    counts = write_heavy(tmp_path / "a", 5, 5000, seed=1)
    write_heavy(tmp_path / "b", 5, 5000, seed=1)
    write_heavy(tmp_path / "c", 5, 5000, seed=2)
    # then the same seed gives the same files, byte for byte, another seed other files
    names = sorted(path.name for path in (tmp_path / "a").iterdir())
    assert names == sorted(path.name for path in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "interactions.jsonl").read_bytes() != (
        tmp_path / "c" / "interactions.jsonl"
    ).read_bytes()
    # and each of the 5 customers has exactly 5,000 contacts, each id once
    lines = (tmp_path / "a" / "interactions.jsonl").read_bytes().splitlines()
    contacts = [orjson.loads(line) for line in lines]
    assert Counter(c["customer"] for c in contacts) == {heavy_id(n): 5000 for n in range(5)}
    assert len({c["id"] for c in contacts}) == counts["interactions"] == 25_000
    assert counts["customers"] == 5
    identities = (tmp_path / "a" / "identities.jsonl").read_bytes()
    assert all(heavy_email(n).encode() in identities for n in range(5))
    assert counts["cases"] > 5 * 100


def test_a_heavy_customer_loads_and_its_facts_stay_within_the_caps(
    empty_graph: Database, settings: Settings, tmp_path: Path
) -> None:
    # given one heavy customer loaded with `ctxapi seed load`
    plan = Plan(
        sizes=[],
        seed=4,
        requests=0,
        warmup=0,
        workers=0,
        out=tmp_path,
        home=tmp_path,
        neo4j_uri=settings.neo4j_uri,
        neo4j_password=settings.neo4j_password,
        heavy_customers=1,
    )
    work = tmp_path / "work"
    work.mkdir()
    loaded = load_heavy(plan, Dataset(0, tmp_path, work, settings, {}))
    # when its facts are read as the churn report reads them
    thresholds = Thresholds()
    with (
        GraphDatabase.driver(
            settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password)
        ) as driver,
        driver.session(database=settings.neo4j_database) as session,
    ):
        contacts = session.run(
            "MATCH (:Customer {id: $id})-[:HAD]->(i:Interaction) RETURN count(i) AS n",
            id=heavy_id(0),
        ).single(strict=True)["n"]
        found = churn.read_facts(session, [heavy_id(0)], churn.parameters(thresholds))
    # then all 5,000 contacts are in the graph, and the facts hold no more than the caps
    assert loaded["records"] > 5000
    assert contacts == 5000
    facts = found[heavy_id(0)]
    assert len(facts["contacts"]) == thresholds.contacts_cap
    assert len(facts["cases"]) <= thresholds.cases_cap
    assert len(facts["feedback"]) <= thresholds.feedback_cap
    judgement = judge_graph_facts(facts, thresholds)
    assert judgement["value"]["vip"] is True
    assert judgement["churnRisk"]["level"] in churn.LEVELS


def test_the_churn_report_judges_every_customer_once_as_the_api_does(
    empty_graph: Database, settings: Settings, api_key: str, tmp_path: Path
) -> None:
    # given a tiny generated dataset, loaded
    plan = Plan(
        sizes=[120],
        seed=5,
        requests=0,
        warmup=0,
        workers=0,
        out=tmp_path / "out",
        home=tmp_path,
        neo4j_uri=settings.neo4j_uri,
        neo4j_password=settings.neo4j_password,
    )
    # when the report runs over it
    result = churn.report(plan, 120, batch=50)
    # then every customer was judged once, none missing or failing
    assert (result["customers"], result["missing"], result["failures"]) == (120, 0, 0)
    levels = result["levels"]
    assert sum(levels[level]["customers"] for level in churn.LEVELS) == 120
    assert sum(levels[level]["share"] for level in churn.LEVELS) == pytest.approx(1, abs=1e-3)
    at_risk = levels["medium"]["customers"] + levels["high"]["customers"]
    single = sum(s["medium"] + s["high"] for s in result["single_factor"].values())
    assert single <= at_risk
    assert sum(c["customers"] for c in result["combinations"]) <= at_risk
    weak = result["weak_only"]
    assert weak["customers"] == weak["low"] + weak["medium"] + weak["high"]
    assert weak["customers"] + result["no_factor"] <= 120
    assert all(f["customers"] <= 120 for f in result["factors"].values())
    assert all(a["customers"] <= min(a["actions"], 120) for a in result["actions"].values())
    assert result["customers_per_s"] > 0
    # and the report is written, and a second dataset adds to it
    saved = json.loads((tmp_path / "out" / "churn.json").read_text())
    assert saved["datasets"] == [json.loads(json.dumps(result))]
    churn.write(tmp_path / "out", result | {"customers": 7})
    saved = json.loads((tmp_path / "out" / "churn.json").read_text())
    assert [run["customers"] for run in saved["datasets"]] == [7, 120]
    text = (tmp_path / "out" / "CHURN.md").read_text()
    assert "## 120 customers" in text
    assert "## 7 customers" in text
    # and its judgement is the API's: the same facts, parameters and rules
    ids = churn.dataset_ids(tmp_path / "bench" / "data-120-5")
    thresholds = Thresholds()
    with (
        GraphDatabase.driver(
            settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password)
        ) as driver,
        driver.session(database=settings.neo4j_database) as session,
    ):
        found = churn.read_facts(session, ids[:15], churn.parameters(thresholds))
    api = keyed(create_app(replace(settings, clock=AS_OF.isoformat())).test_client(), api_key)
    text = """query($id: ID!) { customer(id: $id) { insights {
        churnRisk { score level factors { code weight } } nextBestActions { kind priority } } } }"""
    for customer in ids[:15]:
        judged = judge_graph_facts(found[customer], thresholds)
        answer = data(api, text, id=customer)["customer"]["insights"]
        assert answer["churnRisk"] == {
            "score": judged["churnRisk"]["score"],
            "level": judged["churnRisk"]["level"].upper(),
            "factors": [
                {"code": f["code"], "weight": f["weight"]} for f in judged["churnRisk"]["factors"]
            ],
        }
        assert answer["nextBestActions"] == [
            {"kind": a["kind"], "priority": a["priority"]} for a in judged["nextBestActions"]
        ]


def test_planning_times_the_headline_cold_and_warm(db: Database, settings: Settings) -> None:
    # when the headline with insights is EXPLAINed with the caches cleared, then cached
    found = planning(settings, compiled_headline(settings, insights=True), runs=2)
    # then both are timed (values are reported, not asserted)
    assert found["runs"] == 2
    assert 0 < found["cold_p50_ms"] <= found["cold_max_ms"]
    assert 0 < found["warm_p50_ms"] <= found["warm_max_ms"]
    assert found["cold_server_p50_ms"] >= 0


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
