"""`make churn-report`: how the churn model judges every customer of a benchmark dataset.

Over the dataset `make bench` uses (BENCH_CUSTOMERS customers, default 10,000 here; generated
into .ctxapi/bench/data-<customers>-<seed>/ and loaded into the Neo4j of
.ctxapi/bench/neo4j-<customers>-<seed>/ unless that was done before), it reads the insights
facts of every customer of the dataset, BATCH customers per query (the fragment the API uses,
``INSIGHTS_FACTS``, as of the day the data ends), judges each with the rules of
``ctxapi.rules`` (``judge_graph_facts``) and tallies:

- the churn levels (low / medium / high) and their shares,
- how often each factor holds, and at which levels,
- customers at medium or high because of ONE factor alone, by factor,
- customers whose factors are all weak (COOLING, LAPSED of a non-VIP, EFFORT below
  effort_high), and how many of them stay low,
- the most common factor combinations at medium and high,
- the next best actions by kind (actions, and customers with one),
- the rate: customers read and judged per second.

It prints a markdown report and writes it to bench/CHURN.md, with the figures in
bench/churn.json (one entry per dataset size and seed: a run at another size adds to them).
Only 127.0.0.1 is contacted; every loop is bounded by the number of customers.

  make churn-report                          # 10,000 customers (reused once loaded)
  make churn-report BENCH_CUSTOMERS=100000   # generates and loads 100k the first time
  .venv/bin/python -m bench.churn --thresholds my-insights.toml --out /tmp/churn
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, LiteralString

import orjson

from bench.run import BENCH_DIR, Plan, dataset, percentile, say
from ctxapi import __version__
from ctxapi.config import Settings, default_home
from ctxapi.graphql.selection import COUNTED_STATUSES
from ctxapi.graphql.signals import INSIGHTS_FACTS
from ctxapi.rules.judge import judge_graph_facts
from ctxapi.seeding.generate import AS_OF
from ctxapi.thresholds import Thresholds

LEVELS = ("low", "medium", "high")
#: The insights fragment over each customer of ``$ids``: ``{v}`` is the customer, ``{c}`` the
#: facts map it binds.
FACTS_QUERY: LiteralString = (
    "MATCH (customer:Customer) WHERE customer.id IN $ids RETURN customer.id AS id, COLLECT { "
    + INSIGHTS_FACTS.replace("{v}", "customer").replace("{c}", "facts")
    + " RETURN facts }[0] AS facts"
)


def parameters(thresholds: Thresholds) -> dict[str, Any]:
    """What the fragment reads besides ``$ids``, as the API passes it for an unmasked key of
    every brand, at the moment the generated data ends."""
    return {
        "__now": AS_OF.isoformat(),
        "__t": thresholds.parameter,
        "__counted": COUNTED_STATUSES,
        "__brands": None,
        "__pii": True,
    }


def dataset_ids(folder: Path) -> list[str]:
    """The ids of the customers in the dataset's customers.jsonl, in file order."""
    with (folder / "customers.jsonl").open("rb") as customers:
        return [orjson.loads(line)["id"] for line in customers if line.strip()]


def weak(code: str, judgement: Mapping[str, Any], t: Thresholds) -> bool:
    """A factor that alone says little: COOLING, LAPSED of a non-VIP, EFFORT below effort_high."""
    if code == "COOLING":
        return True
    if code == "LAPSED":
        return not judgement["value"]["vip"]
    if code == "EFFORT":
        return float(judgement["effort"]["score"]) < t.effort_high
    return False


@dataclass
class Tally:
    """What the judgements add up to."""

    thresholds: Thresholds
    customers: int = 0
    levels: Counter[str] = field(default_factory=Counter)
    scores: list[float] = field(default_factory=list)
    factors: Counter[tuple[str, str]] = field(default_factory=Counter)  # (code, level)
    single: Counter[tuple[str, str]] = field(default_factory=Counter)  # (code, level)
    weak_only: Counter[str] = field(default_factory=Counter)  # level
    no_factor: int = 0
    combinations: Counter[tuple[str, ...]] = field(default_factory=Counter)  # medium and high
    actions: Counter[str] = field(default_factory=Counter)
    customers_with_action: Counter[str] = field(default_factory=Counter)
    without_action: int = 0
    missing: list[str] = field(default_factory=list)  # in the files, not in the graph
    failed: dict[str, str] = field(default_factory=dict)  # id -> error (the first 10)
    failures: int = 0

    def add(self, judgement: Mapping[str, Any]) -> None:
        churn = judgement["churnRisk"]
        level = churn["level"]
        codes = [f["code"] for f in churn["factors"]]
        self.customers += 1
        self.levels[level] += 1
        self.scores.append(float(churn["score"]))
        for code in set(codes):
            self.factors[code, level] += 1
        if not codes:
            self.no_factor += 1
        elif all(weak(code, judgement, self.thresholds) for code in codes):
            self.weak_only[level] += 1
        if level != "low":
            self.combinations[tuple(sorted(codes))] += 1
            if len(codes) == 1:
                self.single[codes[0], level] += 1
        kinds = [action["kind"] for action in judgement["nextBestActions"]]
        self.actions.update(kinds)
        self.customers_with_action.update(set(kinds))
        if not kinds:
            self.without_action += 1

    def fail(self, customer: str, error: Exception) -> None:
        self.failures += 1
        if len(self.failed) < 10:
            self.failed[customer] = f"{type(error).__name__}: {error}"

    def summary(self) -> dict[str, Any]:
        n = max(self.customers, 1)
        codes = sorted({code for code, _ in self.factors})
        return {
            "customers": self.customers,
            "levels": {
                level: {"customers": self.levels[level], "share": round(self.levels[level] / n, 4)}
                for level in LEVELS
            },
            "score": {
                "mean": round(sum(self.scores) / n, 3),
                "p50": percentile(self.scores, 50),
                "p90": percentile(self.scores, 90),
                "p99": percentile(self.scores, 99),
            },
            "factors": {
                code: {level: self.factors[code, level] for level in LEVELS}
                | {"customers": sum(self.factors[code, level] for level in LEVELS)}
                for code in sorted(codes, key=lambda c: -sum(self.factors[c, lv] for lv in LEVELS))
            },
            "single_factor": {
                code: {level: self.single[code, level] for level in ("medium", "high")}
                for code in sorted({code for code, _ in self.single})
            },
            "no_factor": self.no_factor,
            "weak_only": {level: self.weak_only[level] for level in LEVELS}
            | {"customers": sum(self.weak_only.values())},
            "combinations": [
                {"factors": list(combination), "customers": count}
                for combination, count in self.combinations.most_common(10)
            ],
            "actions": {
                kind: {"actions": count, "customers": self.customers_with_action[kind]}
                for kind, count in self.actions.most_common()
            },
            "without_action": self.without_action,
            "missing": len(self.missing),
            "failures": self.failures,
            "failed": self.failed,
        }


def batches(ids: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class Progress:
    """One line that says how far the run is: rewritten in place on a terminal, else printed at
    every tenth of the way."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.started = time.perf_counter()
        self.tty = sys.stdout.isatty()
        self.next_tenth = 1

    def __call__(self, done: int) -> None:
        seconds = time.perf_counter() - self.started
        line = (
            f"  judged {done:,} / {self.total:,} customers"
            f" ({done / seconds if seconds else 0:,.0f}/s, {seconds:,.0f} s)"
        )
        if self.tty:
            print("\r" + line, end="\n" if done >= self.total else "", flush=True)
        elif done * 10 >= self.next_tenth * self.total or done >= self.total:
            while done * 10 >= self.next_tenth * self.total:
                self.next_tenth += 1
            say(line)


def read_facts(
    session: Any, ids: list[str], params: Mapping[str, Any]
) -> dict[str, Mapping[str, Any]]:
    """The facts map of each customer of ``ids`` that the graph has, by id (one query)."""
    found = session.run(FACTS_QUERY, dict(params) | {"ids": ids})
    return {row["id"]: row["facts"] for row in found}


def judge_all(
    settings: Settings,
    ids: list[str],
    thresholds: Thresholds,
    batch: int = 500,
    progress: Progress | None = None,
) -> tuple[Tally, dict[str, float]]:
    """Read and judge every customer of ``ids``, ``batch`` per query; the tally, and the seconds
    spent reading, judging, on the first batch (it plans the query cold) and in all."""
    from neo4j import READ_ACCESS, GraphDatabase

    tally = Tally(thresholds)
    params = parameters(thresholds)
    reading = judging = first = 0.0
    started = time.perf_counter()
    with GraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password),
        notifications_min_severity="OFF",
    ) as driver:
        done = 0
        for chunk in batches(ids, batch):
            at = time.perf_counter()
            with driver.session(
                database=settings.neo4j_database, default_access_mode=READ_ACCESS
            ) as session:
                rows = read_facts(session, chunk, params)
            reading += time.perf_counter() - at
            at = time.perf_counter()
            for customer in chunk:
                if customer not in rows:
                    tally.missing.append(customer)
                    continue
                try:
                    tally.add(judge_graph_facts(rows[customer], thresholds))
                except Exception as error:  # counted and shown; the run goes on
                    tally.fail(customer, error)
            judging += time.perf_counter() - at
            done += len(chunk)
            if done == len(chunk):
                first = time.perf_counter() - started
            if progress is not None:
                progress(done)
    total = time.perf_counter() - started
    return tally, {"reading": reading, "judging": judging, "first_batch": first, "total": total}


def report(
    plan: Plan, customers: int, batch: int = 500, thresholds_file: Path | None = None
) -> dict[str, Any]:
    """Judge every customer of the dataset of ``customers`` and ``plan.seed``; write
    ``plan.out``/CHURN.md and churn.json; return this dataset's figures."""
    thresholds = Thresholds.from_file(thresholds_file) if thresholds_file else Thresholds()
    with dataset(plan, customers) as data:
        ids = dataset_ids(data.folder)
        say(f"Judging {len(ids):,} customers, {batch} per query ...")
        tally, seconds = judge_all(data.settings, ids, thresholds, batch, Progress(len(ids)))
    result = {
        "customers": customers,
        "seed": plan.seed,
        "as_of": AS_OF.isoformat(),
        "thresholds": str(thresholds_file) if thresholds_file else "defaults",
        "batch": batch,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "ctxapi": __version__,
        "seconds": {name: round(value, 1) for name, value in seconds.items()},
        "customers_per_s": round(tally.customers / seconds["total"], 1) if seconds["total"] else 0,
        # Without the first batch, which plans the query cold and reads a cold page cache.
        "steady_customers_per_s": round(
            (len(ids) - min(batch, len(ids)))
            / max(seconds["total"] - seconds["first_batch"], 1e-9),
            1,
        ),
    } | tally.summary()
    write(plan.out, result)
    return result


def write(out: Path, result: dict[str, Any]) -> None:
    """Add ``result`` to churn.json (replacing the run of the same dataset and thresholds) and
    write CHURN.md from every run in it."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "churn.json"
    runs: list[dict[str, Any]] = []
    if path.exists():
        runs = json.loads(path.read_text()).get("datasets", [])

    def same(run: dict[str, Any]) -> tuple[Any, ...]:
        return run["customers"], run["seed"], run["thresholds"]

    runs = [run for run in runs if same(run) != same(result)] + [result]
    runs.sort(key=same)
    path.write_text(json.dumps({"datasets": runs}, indent=2) + "\n")
    (out / "CHURN.md").write_text(markdown(runs))


def _share(count: int, total: int) -> str:
    return f"{count:,} ({100 * count / max(total, 1):.1f}%)"


def markdown(runs: list[dict[str, Any]]) -> str:
    """The report: one section per dataset."""
    lines = [
        "# Churn risk over the benchmark data",
        "",
        "Made by `make churn-report` (`python -m bench.churn --help`): every customer of a"
        " generated benchmark dataset read with the insights fragment (`INSIGHTS_FACTS`) and"
        " judged by `ctxapi.rules` (`judge_graph_facts`), as of the day the data ends. Weak"
        " factors: COOLING, LAPSED of a non-VIP, EFFORT below `effort_high`.",
    ]
    for r in runs:
        n = r["customers"]
        levels = r["levels"]
        lines += [
            "",
            f"## {n:,} customers (seed {r['seed']}, thresholds: {r['thresholds']})",
            "",
            f"{r['date']}, ctxapi {r['ctxapi']}, as of {r['as_of']}: {r['customers_per_s']:,}"
            f" customers/s ({r['seconds']['total']} s: reading {r['seconds']['reading']} s,"
            f" judging {r['seconds']['judging']} s, {r['batch']} customers per query;"
            f" {r['steady_customers_per_s']:,} customers/s after the first query, which took"
            f" {r['seconds']['first_batch']} s: a cold plan and page cache)."
            f" Missing from the graph: {r['missing']}; failed to judge: {r['failures']}.",
            "",
            "| churn level | customers | share |",
            "|---|---|---|",
        ]
        for level in LEVELS:
            count, share = levels[level]["customers"], levels[level]["share"]
            lines.append(f"| {level} | {count:,} | {100 * share:.1f}% |")
        score = r["score"]
        lines += [
            "",
            f"Score: mean {score['mean']}, p50 {score['p50']}, p90 {score['p90']},"
            f" p99 {score['p99']}.",
            "",
            "| factor | customers | at low | at medium | at high |",
            "|---|---|---|---|---|",
        ]
        for code, f in r["factors"].items():
            lines.append(
                f"| {code} | {_share(f['customers'], n)} | {f['low']:,} | {f['medium']:,}"
                f" | {f['high']:,} |"
            )
        single = r["single_factor"]
        lines += [
            "",
            "Medium or high because of one factor alone:",
            "",
            "| the one factor | at medium | at high |",
            "|---|---|---|",
        ]
        lines += [
            f"| {code} | {s['medium']:,} | {s['high']:,} |" for code, s in single.items()
        ] or ["| (none) | 0 | 0 |"]
        w = r["weak_only"]
        lines += [
            "",
            "| only weak factors | stay low | medium | high | no factor at all |",
            "|---|---|---|---|---|",
            f"| {_share(w['customers'], n)} | {w['low']:,} | {w['medium']:,} | {w['high']:,}"
            f" | {_share(r['no_factor'], n)} |",
            "",
            "Most common factor combinations at medium and high:",
            "",
            "| factors | customers |",
            "|---|---|",
        ]
        lines += [
            f"| {' + '.join(c['factors'])} | {c['customers']:,} |" for c in r["combinations"]
        ] or ["| (none) | 0 |"]
        lines += ["", "| next best action | actions | customers |", "|---|---|---|"]
        lines += [
            f"| {kind} | {a['actions']:,} | {_share(a['customers'], n)} |"
            for kind, a in r["actions"].items()
        ]
        lines.append(f"| (no action) | - | {_share(r['without_action'], n)} |")
        if r["failed"]:
            lines += ["", "Failed to judge (the first 10):", ""]
            lines += [f"- {customer}: {error}" for customer, error in r["failed"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="make churn-report", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    default = int(os.environ.get("BENCH_CUSTOMERS", "10000"))
    parser.add_argument(
        "--customers", type=int, default=default, help="dataset size [BENCH_CUSTOMERS, 10000]"
    )
    parser.add_argument(
        "--seed", type=int, default=int(os.environ.get("BENCH_SEED", "1")), help="[BENCH_SEED, 1]"
    )
    parser.add_argument("--batch", type=int, default=500, help="customers per query [500]")
    parser.add_argument(
        "--thresholds",
        type=Path,
        help="an insights TOML file (as CTXAPI_INSIGHTS) instead of the default thresholds",
    )
    parser.add_argument(
        "--out", type=Path, default=BENCH_DIR, help="where CHURN.md and churn.json go [bench/]"
    )
    args = parser.parse_args(argv)
    if args.batch < 1 or args.customers < 1:
        parser.error("--batch and --customers must be at least 1")
    plan = Plan(
        sizes=[args.customers],
        seed=args.seed,
        requests=0,
        warmup=0,
        workers=0,
        out=args.out,
        home=default_home(),
        neo4j_uri=os.environ.get("BENCH_NEO4J_URI"),
        neo4j_password=os.environ.get("BENCH_NEO4J_PASSWORD", ""),
    )
    result = report(plan, args.customers, args.batch, args.thresholds)
    say(markdown([result]))
    say(f"Wrote {args.out / 'CHURN.md'} and {args.out / 'churn.json'}")
    if result["failures"] or result["missing"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
