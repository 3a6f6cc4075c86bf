"""The peer in `make bench`: ctxapi's headline selection served by @neo4j/graphql 7.6.3.

bench/peer/ holds a small Node server (server.js) whose type definitions map the graph as ctxapi
writes it (schema.graphql), and the headline selection in that library's generated API
(headline.graphql; without insights, which have no counterpart there). Over the same Neo4j and
the same data as ctxapi, with as many Node processes (the cluster module, one port) as ctxapi
has gunicorn workers, the benchmark

1. checks that both answer the same for the first 50 customers of the data, after normalising
   the representation (bench/peer_answers.py says what and why), and stops if they do not,
2. times both over HTTP with keep-alive, interleaved: at concurrency 1 each customer is asked
   of both in turn (the first of the pair alternating), at concurrency 8 in rounds of 100
   customers, alternating which goes first, so machine noise falls on both,
3. runs both generated Cypher queries through the Python driver alone, interleaved the same
   way (what each costs in Neo4j, without its API layer),
4. times the peer once more with Nagle's algorithm left on its driver's sockets, beside the
   peer as measured (TCP_NODELAY set), for the record.

@neo4j/graphql calls apoc.date.convertFormat for this selection, so the benchmark's own Neo4j
gets APOC core in its plugins folder (bench/peer_install.py: `PeerNeo4j`, never the tests' or
`make run`'s); npm ci runs on demand when bench/peer/node_modules is missing or older than the
lock.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from bench.peer_answers import PEER_QUERY, check_equivalence, first_emails
from bench.peer_install import PEER_DIR, ensure_npm
from bench.run import (
    HEADLINE,
    Plan,
    Server,
    compiled_headline,
    emails,
    graphql_poster,
    http_caller,
    raw_caller,
    say,
    summarize,
    timed,
)
from ctxapi.config import Settings
from ctxapi.neo4j_local import free_port, require_tool

EQUIVALENCE_CUSTOMERS = 50
ROUND = 100  # customers per round at concurrency 8
NAGLE_REQUESTS = 200
AIMS = {"p50_ratio_c1": 0.5, "throughput_ratio_c8": 2.0}


# -- the peer's server --------------------------------------------------------------------------
class Peer(Server):
    """bench/peer/server.js: ``workers`` Node processes on one free loopback port, posted to
    and stopped like ctxapi's Server (keep-alive connections, SIGTERM)."""

    def __init__(self, settings: Settings, workers: int, log: Path, nagle: bool = False) -> None:
        ensure_npm()
        self.port = free_port()
        self.connections: list[http.client.HTTPConnection] = []
        self.headers = {"Content-Type": "application/json"}
        env = {
            **os.environ,
            "NEO4J_URI": settings.neo4j_uri,
            "NEO4J_USER": settings.neo4j_user,
            "NEO4J_PASSWORD": settings.neo4j_password,
            "NEO4J_DATABASE": settings.neo4j_database,
            "PEER_PORT": str(self.port),
            "PEER_WORKERS": str(workers),
            "PEER_NAGLE": "on" if nagle else "off",
        }
        node = require_tool("node", "Node.js 20 or later")
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [node, "server.js"], cwd=PEER_DIR, env=env, stdout=output, stderr=output
            )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if self.post("/ready", None, method="GET")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        tail = "\n".join(log.read_text(errors="replace").strip().splitlines()[-15:])
        raise SystemExit(f"the peer did not become ready within 180 s; its log ends:\n{tail}")

    def stop(self) -> None:
        if self.process.poll() is None:
            super().stop()
        else:
            for connection in self.connections:
                connection.close()

    def generated_cypher(self, email: str) -> tuple[str, dict[str, Any], str]:
        """The Cypher text and parameters @neo4j/graphql runs for ``email``, and the name of the
        parameter that holds the email."""
        body = orjson.dumps({"query": PEER_QUERY, "variables": {"email": email}})
        status, answer = self.post("/cypher", body)
        runs = orjson.loads(answer).get("extensions", {}).get("cypher", [])
        if status != 200 or len(runs) != 1:
            raise SystemExit(f"the peer ran {len(runs)} Cypher queries for one request, not 1")
        params: dict[str, Any] = runs[0]["params"]
        name = next(key for key, value in params.items() if value == email)
        return runs[0]["text"], params, name


def peer_caller(peer: Peer) -> Callable[[str], bool]:
    """Ask the peer the headline selection for one customer's email."""
    post = graphql_poster(peer)

    def call(email: str) -> bool:
        answer = post(PEER_QUERY, {"email": email})
        return answer is not None and answer[0] == 200 and b'"errors"' not in answer[1]

    return call


def peer_raw_caller(
    settings: Settings, text: str, params: dict[str, Any], email_param: str
) -> tuple[Callable[[str], bool], Callable[[], None]]:
    """The peer's generated Cypher through the Python driver alone, as bench.run's raw_caller
    runs ctxapi's."""
    from neo4j import READ_ACCESS, GraphDatabase

    driver = GraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password),
        notifications_min_severity="OFF",
    )

    def call(email: str) -> bool:
        with driver.session(database="neo4j", default_access_mode=READ_ACCESS) as session:
            rows = list(session.run(text, params | {email_param: email}))
        return len(rows) == 1

    return call, driver.close


# -- measuring -----------------------------------------------------------------------------------
def cpu_seconds(server: Server) -> Callable[[], float]:
    """CPU seconds (user + system) used so far by ``server``'s process and its children: the
    gunicorn workers, or the peer's Node processes."""

    def read() -> float:
        ticks = 0
        for child in Path("/proc").iterdir():
            try:
                stat = (child / "stat").read_text().rsplit(")", 1)[1].split()
                if server.process.pid in (int(child.name), int(stat[1])):
                    ticks += int(stat[11]) + int(stat[12])
            except (OSError, ValueError, IndexError):
                continue
        return ticks / os.sysconf("SC_CLK_TCK")

    return read


def alternate(
    callers: dict[str, Callable[[str], bool]],
    keys: list[str],
    concurrency: int,
    chunk: int,
    cpu: dict[str, Callable[[], float]] | None = None,
) -> dict[str, dict[str, Any]]:
    """``keys`` in chunks, each chunk asked of every caller, the order turned round on every
    chunk; a summary per caller (its req/s over its own chunks' wall time, and with ``cpu``
    the CPU its server spent per request while its chunks ran)."""
    found: dict[str, tuple[list[float], float, int]] = {name: ([], 0.0, 0) for name in callers}
    spent = dict.fromkeys(callers, 0.0)
    names = list(callers)
    for n, start in enumerate(range(0, len(keys), chunk)):
        for name in names if n % 2 == 0 else reversed(names):
            before = cpu[name]() if cpu else 0.0
            latencies, seconds, errors = timed(
                callers[name], keys[start : start + chunk], concurrency
            )
            spent[name] += cpu[name]() - before if cpu else 0.0
            so_far = found[name]
            found[name] = (so_far[0] + latencies, so_far[1] + seconds, so_far[2] + errors)
    summaries = {name: summarize(*values) for name, values in found.items()}
    for name, summary in summaries.items():
        if cpu and summary["requests"]:
            summary["server_cpu_ms_per_request"] = round(
                spent[name] / summary["requests"] * 1000, 2
            )
    return summaries


def _versions() -> dict[str, str]:
    modules = PEER_DIR / "node_modules"
    found = {
        name: json.loads((modules / name / "package.json").read_text())["version"]
        for name in ("@neo4j/graphql", "neo4j-driver", "graphql")
    }
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    return found | {"node": node.stdout.strip().lstrip("v")}


def measure_peer(plan: Plan, server: Server, settings: Settings, folder: Path) -> dict[str, Any]:
    """Everything the module docstring lists, with ``server`` (ctxapi) already serving."""
    log = plan.home / "bench" / "peer.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    peer = Peer(settings, plan.workers, log)
    try:
        result: dict[str, Any] = {"processes": plan.workers, "versions": _versions()}
        say(f"  the peer: equivalence on the first {EQUIVALENCE_CUSTOMERS} customers ...")
        result["equivalence"] = check_equivalence(
            graphql_poster(server),
            graphql_poster(peer),
            first_emails(folder, EQUIVALENCE_CUSTOMERS),
        )
        keys = emails(folder, plan.requests + plan.warmup, plan.seed)
        warm, measured = keys[: plan.warmup], keys[plan.warmup :]
        callers = {"ctxapi": http_caller(server, HEADLINE.read_text()), "peer": peer_caller(peer)}
        alternate(callers, warm, 2, len(warm) or 1)  # plans, documents, page cache
        cpu = {"ctxapi": cpu_seconds(server), "peer": cpu_seconds(peer)}
        for concurrency, chunk in ((1, 1), (8, ROUND)):
            say(f"  ctxapi and the peer over HTTP, interleaved, concurrency {concurrency} ...")
            result[f"c{concurrency}"] = alternate(callers, measured, concurrency, chunk, cpu)
        say("  both generated Cypher queries through the driver alone, interleaved ...")
        ours, close_ours = raw_caller(settings, compiled_headline(settings))
        theirs, close_theirs = peer_raw_caller(settings, *peer.generated_cypher(measured[0]))
        try:
            raw = {"ctxapi": ours, "peer": theirs}
            alternate(raw, warm, 1, 1)
            result["raw_c1"] = alternate(raw, measured, 1, 1)
        finally:
            close_ours()
            close_theirs()
        result["nagle"] = _nagle(settings, plan, peer, measured[:NAGLE_REQUESTS], log)
    finally:
        peer.stop()
    c1, c8, raw_c1 = result["c1"], result["c8"], result["raw_c1"]
    result["p50_ratio_c1"] = _ratio(c1["ctxapi"]["p50_ms"], c1["peer"]["p50_ms"])
    result["p99_ratio_c1"] = _ratio(c1["ctxapi"]["p99_ms"], c1["peer"]["p99_ms"])
    result["throughput_ratio_c8"] = _ratio(
        c8["ctxapi"]["requests_per_s"], c8["peer"]["requests_per_s"]
    )
    result["raw_p50_ratio"] = _ratio(raw_c1["ctxapi"]["p50_ms"], raw_c1["peer"]["p50_ms"])
    # Judged on the measured ratios, not the rounded ones (0.505 is not ≤ 0.5).
    p50 = c1["ctxapi"]["p50_ms"] / max(c1["peer"]["p50_ms"], 0.001)
    throughput = c8["ctxapi"]["requests_per_s"] / max(c8["peer"]["requests_per_s"], 0.001)
    result["aims"] = {
        "p50_ratio_c1": p50 <= AIMS["p50_ratio_c1"],
        "throughput_ratio_c8": throughput >= AIMS["throughput_ratio_c8"],
    }
    return result


def _nagle(
    settings: Settings, plan: Plan, peer: Peer, keys: list[str], log: Path
) -> dict[str, Any]:
    """The peer as measured against the same peer with Nagle's algorithm left on."""
    say("  the peer with and without TCP_NODELAY on its driver's sockets, for the record ...")
    slow = Peer(settings, plan.workers, log, nagle=True)
    try:
        callers = {"nodelay": peer_caller(peer), "nagle": peer_caller(slow)}
        alternate(callers, keys[:20], 1, 1)
        found = alternate(callers, keys, 1, 1)
    finally:
        slow.stop()
    return {"requests": len(keys), "p50_ms": found["nodelay"]["p50_ms"],
            "nagle_p50_ms": found["nagle"]["p50_ms"]}  # fmt: skip


def _ratio(a: float, b: float) -> float:
    return round(a / max(b, 0.001), 3)


# -- reporting -----------------------------------------------------------------------------------
def peer_markdown(datasets: list[dict[str, Any]]) -> list[str]:
    """The section on the peer (the datasets that have it)."""
    measured = [r for r in datasets if r.get("peer")]
    if not measured:
        return []
    first = measured[0]["peer"]
    v = first["versions"]
    lines = [
        "",
        f"## The peer: @neo4j/graphql {v['@neo4j/graphql']}",
        "",
        "The headline selection (without `insights`, which @neo4j/graphql has no counterpart"
        f" for) served by @neo4j/graphql {v['@neo4j/graphql']} (bench/peer/: Node {v['node']},"
        f" graphql {v['graphql']}, neo4j-driver {v['neo4j-driver']} with TCP_NODELAY on its"
        " sockets, HTTP keep-alive) over the same Neo4j and the same data,"
        f" {first['processes']} Node processes (cluster, one port) against"
        f" {first['processes']} gunicorn workers, interleaved in one run: at concurrency 1"
        " each customer asked of both in turn, at concurrency 8 rounds of"
        f" {ROUND} customers with the first of each round alternating. The peer's Node"
        " processes share the same 2 cores too. Raw Cypher: each one's generated query through"
        " the Python driver alone. Equivalence: the answers for the first"
        f" {first['equivalence']['customers']} customers of the data are equal after"
        " normalising representation only (money in minor units vs decimal text, enum case,"
        " timestamps as instants, opaque cursors; bench/peer_answers.py).",
        "",
        "| customers | c1 p50 / p99 ms ctxapi · peer | p50 ratio | c8 req/s ctxapi · peer"
        " | throughput ratio | c8 p50 / p99 ms ctxapi · peer | raw Cypher c1 p50 ms ctxapi ·"
        " peer (ratio) | equal answers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in measured:
        p = r["peer"]
        a1, b1, a8, b8 = p["c1"]["ctxapi"], p["c1"]["peer"], p["c8"]["ctxapi"], p["c8"]["peer"]
        raw, eq = p["raw_c1"], p["equivalence"]
        lines.append(
            f"| {r['customers']:,} | {a1['p50_ms']} / {a1['p99_ms']} · {b1['p50_ms']} /"
            f" {b1['p99_ms']} | {p['p50_ratio_c1']} | {a8['requests_per_s']} ·"
            f" {b8['requests_per_s']} | {p['throughput_ratio_c8']} | {a8['p50_ms']} /"
            f" {a8['p99_ms']} · {b8['p50_ms']} / {b8['p99_ms']} | {raw['ctxapi']['p50_ms']} ·"
            f" {raw['peer']['p50_ms']} ({p['raw_p50_ratio']}) | {eq['equal']}/{eq['customers']} |"
        )
    lines += ["", "Aims (ctxapi against the peer, equal process counts):", ""]
    for r in measured:
        p = r["peer"]
        for key, text in (
            ("p50_ratio_c1", f"ctxapi/peer p50 ≤ {AIMS['p50_ratio_c1']} at concurrency 1"),
            ("throughput_ratio_c8", f"ctxapi throughput ≥ {AIMS['throughput_ratio_c8']:g}x the"
             " peer's at concurrency 8"),
        ):  # fmt: skip
            ok = p["aims"][key]
            lines.append(
                f"- {'met' if ok else '**missed**'}: {text} at {r['customers']:,} customers"
                f" (measured {p[key]})"
            )
    for r in measured:
        p = r["peer"]
        if "server_cpu_ms_per_request" in p["c8"]["ctxapi"]:
            c1, c8 = (
                " · ".join(
                    str(p[c][side]["server_cpu_ms_per_request"]) for side in ("ctxapi", "peer")
                )
                for c in ("c1", "c8")
            )
            lines += [
                "",
                f"What bounds it, at {r['customers']:,} customers: CPU per request of the serving"
                f" processes (user + system, while their own requests ran), ctxapi · peer:"
                f" {c1} ms at concurrency 1, {c8} ms at concurrency 8.",
            ]
    for r in measured:
        n = r["peer"]["nagle"]
        lines += [
            "",
            f"For the record, at {r['customers']:,} customers: the peer's p50 at concurrency 1"
            f" is {n['p50_ms']} ms with TCP_NODELAY on its driver's sockets and"
            f" {n['nagle_p50_ms']} ms with Nagle's algorithm left on ({n['requests']} requests"
            " each, interleaved).",
        ]
    return lines
