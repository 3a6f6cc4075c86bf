"""`make bench`: what ctxapi costs at scale, each figure next to its floor.

For each dataset size (10,000 customers and BENCH_CUSTOMERS, default 100,000) it
1. generates the data (kept in .ctxapi/bench/data-<customers>-<seed>/, reused),
2. starts a Neo4j of its own (.ctxapi/bench/neo4j-<customers>-<seed>/, kept: a dataset already
   loaded is reused, not reloaded) and loads it with `ctxapi seed load`: records/s per type,
   wall time and the loader's peak RSS,
3. serves the API with gunicorn and sends the headline query (schema/queries/
   customer_context.graphql) for random customers by email over HTTP, at concurrency 1 and 8,
   after a warm-up: p50/p95/p99 and requests/s, then the same with `insights`-free deep
   selection as the second profile,
4. runs the same Cypher the compiler emits through the driver alone for the same customers:
   the floor, and the API/raw ratio,
5. heavy customers: 5 customers with 5,000 contacts each (generated deterministically into
   .ctxapi/bench/heavy-5x5000-<seed>/, brand, agents and products of their own, loaded into
   the same Neo4j once), asked for by email over the same HTTP path: the headline and the
   headline with insights, p50/p95/p99 (aim: insights p50 <= 20 ms),
6. planning: the headline with insights (and without, for contrast) EXPLAINed right after
   `CALL db.clearQueryCaches()` (cold) and again with the plan cached (warm), p50 and max,
7. the peer (bench/peer.py; --no-peer leaves it out): the headline selection served by
   @neo4j/graphql over the same Neo4j, interleaved with ctxapi, and both answers compared,
and writes bench/results.json, bench/RESULTS.md and bench/latency.png.

`--only heavy --only planning` measures just those parts (on the datasets `--customers`
names), prints them and writes .ctxapi/bench/only-<customers>-<seed>.json, leaving bench/
alone.

Everything runs on this machine and sends traffic to 127.0.0.1 only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ctxapi import __version__
from ctxapi.access.keys import KeyStore, Scope
from ctxapi.config import PROJECT_ROOT, Settings, default_home
from ctxapi.db import Database
from ctxapi.neo4j_local import NEO4J_VERSION, LocalNeo4j, free_port
from ctxapi.seeding.generate import AS_OF

HEADLINE = PROJECT_ROOT / "schema" / "queries" / "customer_context.graphql"
BENCH_DIR = PROJECT_ROOT / "bench"
CTXAPI = str(Path(sys.executable).with_name("ctxapi"))
#: What `make bench` measures; `--only` picks some.
PARTS = ("main", "heavy", "planning", "writes", "peer")


@dataclass(frozen=True)
class Plan:
    """What to measure."""

    sizes: list[int]
    seed: int
    requests: int
    warmup: int
    workers: int
    out: Path
    home: Path
    neo4j_uri: str | None = None  # an existing server instead of bench instances (tests)
    neo4j_password: str = ""
    heavy_customers: int = 5  # customers with heavy_contacts contacts each
    heavy_contacts: int = 5000
    heavy_requests: int = 200  # per profile, spread over the heavy customers in turn
    planning_runs: int = 5  # cold EXPLAINs (caches cleared before each), then as many warm
    mixed_seconds: float = 20.0  # the headline at c4 alone, then beside a writer, this long each
    parts: tuple[str, ...] = PARTS
    peer: bool = False  # also measure @neo4j/graphql (bench/peer.py): `make bench` turns it on
    first_load: str = "import"  # how a new bench instance is filled: `seed import` or `seed load`
    pagecache: str = "4g"  # the bench instances' page cache


def say(message: str) -> None:
    print(message, flush=True)


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (the smallest value with q% of values at or below it)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summarize(latencies_ms: list[float], seconds: float, errors: int) -> dict[str, Any]:
    return {
        "requests": len(latencies_ms),
        "errors": errors,
        "p50_ms": round(percentile(latencies_ms, 50), 2),
        "p95_ms": round(percentile(latencies_ms, 95), 2),
        "p99_ms": round(percentile(latencies_ms, 99), 2),
        "mean_ms": round(statistics.fmean(latencies_ms), 2) if latencies_ms else 0.0,
        "requests_per_s": round(len(latencies_ms) / seconds, 1) if seconds else 0.0,
    }


# -- data ----------------------------------------------------------------------------------------
def ensure_data(plan: Plan, customers: int) -> Path:
    """Generated files for this size and seed, made once."""
    from ctxapi.seeding.generate import Generator

    folder = plan.home / "bench" / f"data-{customers}-{plan.seed}"
    marker = folder / ".complete"
    if not marker.exists():
        say(f"Generating {customers:,} customers (seed {plan.seed}) into {folder} ...")
        shutil.rmtree(folder, ignore_errors=True)
        Generator(customers, plan.seed).run(folder)
        marker.write_text("ok\n")
    return folder


def emails(folder: Path, count: int, seed: int) -> list[str]:
    """``count`` customers' emails, sampled at random (reproducibly) from the data."""
    found = []
    with (folder / "identities.jsonl").open("rb") as identities:
        for line in identities:
            record = orjson.loads(line)
            if record["kind"] == "email":
                found.append(record["value"])
    rng = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    return [rng.choice(found) for _ in range(count)]


def load(settings: Settings, folder: Path, work: Path) -> dict[str, Any]:
    """Run `ctxapi seed load` as its own process: per-type rates, wall time, peak RSS."""
    env = {**os.environ, "NEO4J_URI": settings.neo4j_uri, "NEO4J_PASSWORD": settings.neo4j_password}
    report = work / "load-summary.json"
    command = [CTXAPI, "seed", "load", str(folder), "--rejects", str(work / "rejects.jsonl"),
               "--summary-json", str(report)]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"the load failed (exit {process.returncode}); see {work}/rejects.jsonl")
    summary = json.loads(report.read_text())
    return {
        "seconds": round(seconds, 1),
        "records": summary["total"]["read"],
        "records_per_s": round(summary["total"]["read"] / seconds),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "per_type": {
            name: {"records": s["read"], "records_per_s": round(s["read"] / s["seconds"])}
            for name, s in summary["types"].items()
            if s["seconds"]
        },
        "with": "seed load",
    }


def import_first(settings: Settings, local: LocalNeo4j, folder: Path, work: Path) -> dict[str, Any]:
    """A first load with `ctxapi seed import` into the bench's own Neo4j (stopped, imported
    with neo4j-admin, started again, the schema applied): its steps' seconds and records/s,
    and the peak resident set of the checking process (this one, sampled during the import)."""
    from rich.console import Console

    from ctxapi.seeding.importing import import_files

    peak = [own_rss_bytes()]
    importing = threading.Event()

    def sample() -> None:
        while not importing.wait(0.5):
            peak[0] = max(peak[0], own_rss_bytes())

    sampler = threading.Thread(target=sample, name="bench-rss", daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        done = import_files(
            Console(stderr=True),
            settings,
            [folder],
            local=local,
            force=True,  # no loaded marker: whatever the bench instance holds is a broken load
            rejects=work / "rejects.jsonl",
            summary_json=work / "load-summary.json",
        )
    finally:
        importing.set()
        sampler.join()
    seconds = time.perf_counter() - started
    records = done.summary.total.read
    return {
        "seconds": round(seconds, 1),
        "records": records,
        "records_per_s": round(records / seconds),
        "peak_rss_mb": round(max(peak[0], own_rss_bytes()) / 2**20, 1),
        "per_type": {},
        "with": "seed import",
        "check_seconds": round(done.check_seconds, 1),
        "import_seconds": round(done.import_seconds, 1),
        "schema_seconds": round(done.schema_seconds, 1),
        "check_records_per_s": round(records / done.check_seconds),
    }


def own_rss_bytes() -> int:
    """This process's resident set now."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


# -- heavy customers ------------------------------------------------------------------------------
HEAVY_BRAND = "brand-heavy"
HEAVY_CHANNELS = ("phone", "email", "chat", "messaging", "sms", "social", "web", "in_store")
HEAVY_TOPICS = (
    "where_is_my_order", "damaged_item", "return_refund", "pre_purchase_question", "account",
    "general",
)  # fmt: skip


def heavy_id(n: int) -> str:
    return f"heavy-{n}"


def heavy_email(n: int) -> str:
    return f"heavy.customer.{n}@example.com"


def write_heavy(
    folder: Path, customers: int, contacts: int, seed: int, as_of: datetime = AS_OF
) -> dict[str, int]:
    """``customers`` customers with exactly ``contacts`` contacts each, in the seed format, the
    same for the same arguments: two years of contacts (about half in the insights window),
    grouped into cases (a few still open), 120 orders over three years with their parcels and
    some returns, CSAT and NPS answers. Brand, agents and products are their own, so the folder
    loads beside any dataset. Returns the records written per type."""
    folder.mkdir(parents=True, exist_ok=True)
    records: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in ("brands", "agents", "products", "customers", "identities", "orders",
                     "shipments", "returns", "cases", "interactions", "feedback")
    }  # fmt: skip
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not a secret
    records["brands"].append({"id": HEAVY_BRAND, "name": "Heavy customers"})
    agents = [f"agent-heavy-{a}" for a in range(10)]
    for agent in agents:
        records["agents"].append({"id": agent, "name": agent.replace("-", " ").title()})
    records["agents"].append({"id": "bot-heavy", "name": "Heavy assistant", "bot": True})
    prices = [rng.randrange(2_000, 30_000, 10) for _ in range(20)]
    for p, price in enumerate(prices):
        records["products"].append(
            {"id": f"SKU-HEAVY-{p:03d}", "name": f"Heavy product {p}", "category": "gear",
             "price": f"{price // 100}.{price % 100:02d}", "currency": "EUR"}
        )  # fmt: skip

    def ts(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    for n in range(customers):
        rng = random.Random(seed * 1_000_003 + n)  # noqa: S311 - one stream per customer
        cid, phone = heavy_id(n), f"+1399{n:07d}"
        joined = as_of - timedelta(days=3 * 365)
        records["customers"].append(
            {"id": cid, "brand": HEAVY_BRAND, "name": f"Heavy Customer {n}", "tier": "vip",
             "createdAt": ts(joined)}
        )  # fmt: skip
        for kind, value in (("email", heavy_email(n)), ("phone", phone)):
            records["identities"].append(
                {"customer": cid, "kind": kind, "value": value, "source": "shop",
                 "confidence": 1.0, "linkedAt": ts(joined)}
            )  # fmt: skip
        orders: list[str] = []
        for o in range(120):
            oid, placed = f"ord-{cid}-{o:03d}", joined + timedelta(days=o * 9 + rng.uniform(0, 8))
            age = (as_of - placed).days
            roll = rng.random()
            status = (
                "abandoned" if roll < 0.03 else "cancelled" if roll < 0.05
                else "delivered" if age > 10 else "shipped"
            )  # fmt: skip
            chosen = rng.sample(range(len(prices)), rng.choice((1, 1, 2, 3)))
            items = [
                {"product": f"SKU-HEAVY-{p:03d}", "quantity": 1,
                 "unitPrice": f"{prices[p] // 100}.{prices[p] % 100:02d}"}
                for p in chosen
            ]  # fmt: skip
            total = sum(prices[p] for p in chosen)
            records["orders"].append(
                {"id": oid, "customer": cid, "number": f"H{n}{o:04d}", "placedAt": ts(placed),
                 "status": status, "channel": "web", "total": f"{total // 100}.{total % 100:02d}",
                 "currency": "EUR", "items": items}
            )  # fmt: skip
            orders.append(oid)
            if status not in ("delivered", "shipped"):
                continue
            promised = placed + timedelta(days=3)
            late = rng.random() < 0.1
            shipment: dict[str, Any] = {
                "id": f"shp-{cid}-{o:03d}", "order": oid, "carrier": "DHL",
                "trackingNumber": f"TRKH{n}{o:04d}", "shippedAt": ts(placed + timedelta(hours=8)),
                "promisedAt": ts(promised),
            }  # fmt: skip
            if status == "delivered":
                delivered = promised + timedelta(days=rng.uniform(1, 4) if late else -0.5)
                shipment |= {"status": "delivered", "deliveredAt": ts(delivered),
                             "condition": "damaged" if rng.random() < 0.03 else "ok"}  # fmt: skip
            else:
                shipment["status"] = "delayed" if late else "in_transit"
            records["shipments"].append(shipment)
            if status == "delivered" and rng.random() < 0.1:
                requested = placed + timedelta(days=10)
                refunded = requested + timedelta(days=8) < as_of and rng.random() < 0.8
                record: dict[str, Any] = {
                    "id": f"ret-{cid}-{o:03d}", "order": oid, "reason": "too small",
                    "status": "refunded" if refunded else "received",
                    "requestedAt": ts(requested),
                    "receivedAt": ts(requested + timedelta(days=3)),
                    "refundAmount": f"{total // 100}.{total % 100:02d}", "currency": "EUR",
                }  # fmt: skip
                if refunded:
                    record["refundedAt"] = ts(requested + timedelta(days=8))
                records["returns"].append(record)
        # Contacts: two years, oldest first, in runs that are one case or routine contacts.
        times = sorted(as_of - timedelta(days=rng.uniform(0.01, 730)) for _ in range(contacts))
        k = c = 0
        while k < contacts:
            run = min(rng.choice((1, 1, 2, 3, 4, 6, 8)), contacts - k)
            in_case = rng.random() < 0.6
            case_id = f"case-{cid}-{c:04d}" if in_case else None
            opened = times[k]
            open_case = in_case and (as_of - opened).days < 30 and rng.random() < 0.5
            topic = rng.choice(HEAVY_TOPICS)
            for step in range(run):
                at = times[k]
                channel = rng.choice(HEAVY_CHANNELS)
                self_service = channel in ("chat", "web") and rng.random() < 0.3
                last = step == run - 1
                interaction: dict[str, Any] = {
                    "id": f"int-{cid}-{k:05d}", "customer": cid, "channel": channel,
                    "direction": "outbound" if rng.random() < 0.15 else "inbound",
                    "occurredAt": ts(at), "summary": f"{topic.replace('_', ' ')}: {k}",
                    "topic": topic,
                    "status": "open" if open_case and last
                    else "escalated" if self_service else "resolved",
                    "sentiment": round(max(-1.0, min(1.0, rng.gauss(0.1, 0.4))), 2),
                    "selfService": self_service,
                    "agent": "bot-heavy" if self_service else rng.choice(agents),
                    "respondedAt": ts(at + timedelta(minutes=rng.uniform(1, 120))),
                }  # fmt: skip
                if channel in ("email", "phone", "sms"):
                    kind = "email" if channel == "email" else "phone"
                    interaction["identity"] = {
                        "kind": kind, "value": heavy_email(n) if kind == "email" else phone
                    }  # fmt: skip
                if case_id is not None:
                    interaction["case"] = case_id
                if rng.random() < 0.3:
                    interaction["about"] = [{"type": "order", "id": rng.choice(orders)}]
                records["interactions"].append(interaction)
                k += 1
            if case_id is None:
                continue
            resolved = times[k - 1] + timedelta(hours=2)
            records["cases"].append(
                {"id": case_id, "customer": cid, "subject": topic.replace("_", " "),
                 "status": "open" if open_case else "resolved", "priority": "normal",
                 "openedAt": ts(opened), **({} if open_case else {"resolvedAt": ts(resolved)})}
            )  # fmt: skip
            if not open_case and rng.random() < 0.2:
                records["feedback"].append(
                    {"id": f"csat-{case_id}", "customer": cid, "kind": "csat",
                     "score": rng.choice((1, 2, 3, 4, 4, 5, 5, 5)),
                     "submittedAt": ts(min(resolved + timedelta(hours=1), as_of)),
                     "rates": {"type": "case", "id": case_id}}
                )  # fmt: skip
            c += 1
        for q in range(4):
            records["feedback"].append(
                {"id": f"nps-{cid}-{q}", "customer": cid, "kind": "nps",
                 "score": rng.randint(3, 10),
                 "submittedAt": ts(as_of - timedelta(days=q * 170 + rng.uniform(1, 30)))}
            )  # fmt: skip
    for name, rows in records.items():
        with (folder / f"{name}.jsonl").open("wb") as out:
            out.writelines(orjson.dumps(row) + b"\n" for row in rows)
    return {name: len(rows) for name, rows in records.items()}


def ensure_heavy(plan: Plan) -> Path:
    """The heavy customers' files, made once for these sizes and seed."""
    folder = plan.home / "bench" / f"heavy-{plan.heavy_customers}x{plan.heavy_contacts}-{plan.seed}"
    marker = folder / ".complete"
    if not marker.exists():
        say(
            f"Generating {plan.heavy_customers} heavy customers with {plan.heavy_contacts:,}"
            f" contacts each into {folder} ..."
        )
        shutil.rmtree(folder, ignore_errors=True)
        write_heavy(folder, plan.heavy_customers, plan.heavy_contacts, plan.seed)
        marker.write_text("ok\n")
    return folder


# -- the API over HTTP -----------------------------------------------------------------------------
def bench_key(settings: Settings, scopes: tuple[Scope, ...] = tuple(Scope)) -> str:
    """``Bearer <key>`` of a new unlimited key of every brand (an older checkout that has no
    keys ignores the header)."""
    with closing(Database(settings)) as database:
        name = "bench-" + secrets.token_hex(4)
        key, _ = KeyStore(database).create(name, list(scopes), None, rate_limit=0)
    return "Bearer " + key


class Server:
    """`ctxapi serve` (gunicorn) on a free loopback port."""

    def __init__(
        self, settings: Settings, workers: int, tree: Path | None = None, log: Path | None = None
    ) -> None:
        """``tree``: serve the ctxapi of another checkout (bench/compare.py) instead of this;
        ``log``: append gunicorn's output there (bench/soak.py) instead of discarding it."""
        self.port = free_port()
        self.connections: list[http.client.HTTPConnection] = []
        self.headers = {"Content-Type": "application/json", "Authorization": bench_key(settings)}
        env = {
            **os.environ,
            "NEO4J_URI": settings.neo4j_uri,
            "NEO4J_PASSWORD": settings.neo4j_password,
            "PORT": str(self.port),
            "CTXAPI_WORKERS": str(workers),
            # The production recipe (README, "Serving in production"): no line per success.
            "CTXAPI_ACCESS_LOG": "errors",
            # Insights and the queue are computed for the day the generated data ends on.
            "CTXAPI_NOW": AS_OF.isoformat(),
            # Its PII reads are audited, like any server's, into the benchmark's folder.
            "CTXAPI_AUDIT_LOG": str(default_home() / "bench" / "audit.jsonl"),
        }
        command = [CTXAPI, "serve"]
        if tree is not None:
            env["PYTHONPATH"] = str(tree)
            command = [sys.executable, "-c", "from ctxapi.cli import main; main()", "serve"]
        output = log.open("ab") if log is not None else None
        try:
            self.process = subprocess.Popen(
                command,
                env=env,
                cwd=tree,
                stdout=output or subprocess.DEVNULL,
                stderr=output or subprocess.DEVNULL,
            )
        finally:
            if output is not None:
                output.close()  # the server holds its own copy
        deadline = time.monotonic() + 180  # a fresh Neo4j plans the committed queries cold
        while time.monotonic() < deadline:
            try:
                status, _ = self.post("/readyz", None, method="GET")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit("the API did not become ready within 180 s")

    def post(self, path: str, body: bytes | None, method: str = "POST") -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body, self.headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def rss_mb(self) -> float:
        """The largest resident set of a gunicorn worker, in MB."""
        biggest = 0
        for child in Path("/proc").iterdir():
            if not child.name.isdigit():
                continue
            try:
                stat = (child / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == self.process.pid:
                    rss_pages = int((child / "statm").read_text().split()[1])
                    biggest = max(biggest, rss_pages * os.sysconf("SC_PAGE_SIZE"))
            except (OSError, ValueError, IndexError):
                continue
        return round(biggest / 2**20, 1)

    def stop(self) -> None:
        for connection in self.connections:
            connection.close()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def drive(call: Callable[[str], bool], keys: list[str], concurrency: int) -> dict[str, Any]:
    """Call ``call(key)`` for every key with ``concurrency`` threads; time each call."""
    return summarize(*timed(call, keys, concurrency))


def timed(
    call: Callable[[str], bool], keys: list[str], concurrency: int
) -> tuple[list[float], float, int]:
    """``call`` for each key with ``concurrency`` threads: latencies (ms), seconds, errors."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    position = 0

    def worker() -> None:
        nonlocal position, errors
        while True:
            with lock:
                if position >= len(keys):
                    return
                key = keys[position]
                position += 1
            started = time.perf_counter()
            ok = call(key)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, errors


def graphql_poster(
    server: Server, auth: str | None = None
) -> Callable[[str, dict[str, Any]], tuple[int, bytes] | None]:
    """POST a GraphQL request over one keep-alive connection per thread; None if it failed.
    ``auth``: an Authorization header instead of the server's key."""
    local = threading.local()
    headers = server.headers | ({"Authorization": auth} if auth else {})

    def post(query: str, variables: dict[str, Any]) -> tuple[int, bytes] | None:
        body = orjson.dumps({"query": query, "variables": variables})
        for _ in range(2):  # once more on a new connection if a kept-alive one was closed
            connection = getattr(local, "connection", None)
            fresh = connection is None
            if connection is None:
                connection = local.connection = http.client.HTTPConnection(
                    "127.0.0.1", server.port, timeout=30
                )
                server.connections.append(connection)  # keep-alive: closed at the server's stop
            try:
                connection.request("POST", "/graphql", body, headers)
                response = connection.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                local.connection = None
                if fresh or isinstance(error, TimeoutError):
                    return None
        return None

    return post


def http_caller(
    server: Server,
    query: str,
    auth: str | None = None,
    failures: list[str] | None = None,
    **variables: Any,
) -> Callable[[str], bool]:
    """Send ``query`` for one customer's email (plus ``variables``), with ``auth`` if given;
    the first few failed answers are added to ``failures`` (status and the body's start)."""
    post = graphql_poster(server, auth)

    def call(email: str) -> bool:
        answer = post(query, {"email": email, **variables})
        ok = answer is not None and answer[0] == 200 and b'"errors"' not in answer[1]
        if not ok and failures is not None and len(failures) < 3:
            failures.append(
                "no answer" if answer is None else f"{answer[0]}: {answer[1][:300].decode()}"
            )
        return ok

    return call


QUEUE_QUERY = (PROJECT_ROOT / "schema" / "queries" / "proactive_queue.graphql").read_text()


def queue_caller(server: Server) -> Callable[[str], bool]:
    """Walk the proactive queue page after page (back to the start at its end)."""
    post = graphql_poster(server)
    state: dict[str, str | None] = {"after": None}

    def page(_key: str) -> bool:
        answer = post(QUEUE_QUERY, {"after": state["after"]})
        if answer is None or answer[0] != 200:
            return False
        payload = orjson.loads(answer[1])
        if "errors" in payload:
            return False
        info = payload["data"]["proactiveQueue"]["pageInfo"]
        state["after"] = info["endCursor"] if info["hasNextPage"] else None
        return True

    return page


# -- the floor: the compiler's own Cypher through the driver alone -------------------------------
def compiled_headline(settings: Settings, insights: bool = False) -> tuple[str, dict[str, Any]]:
    """The Cypher text and parameters the compiler makes for the headline query (with
    ``insights`` selected when asked)."""
    from graphql import parse

    from ctxapi.graphql.compiler import compile
    from ctxapi.graphql.schema import schema

    [compiled] = compile(
        schema.graphql_schema,
        parse(HEADLINE.read_text()),
        {"email": "nobody@example.com", "withInsights": insights},
        settings=settings,
    )
    return compiled.text, compiled.params


def raw_caller(
    settings: Settings, compiled: tuple[str, dict[str, Any]]
) -> tuple[Callable[[str], bool], Callable[[], None]]:
    from neo4j import READ_ACCESS, GraphDatabase

    text, params = compiled
    driver = GraphDatabase.driver(
        settings.neo4j_uri,
        auth=("neo4j", settings.neo4j_password),
        notifications_min_severity="OFF",
    )

    def call(email: str) -> bool:
        with driver.session(database="neo4j", default_access_mode=READ_ACCESS) as session:
            rows = list(session.run(text, params | {"key": email}))
        return len(rows) == 1

    return call, driver.close


# -- planning: the compiled query EXPLAINed cold and warm ---------------------------------------
def planning(settings: Settings, compiled: tuple[str, dict[str, Any]], runs: int) -> dict[str, Any]:
    """``EXPLAIN`` (planning only, nothing runs) of ``compiled``: ``runs`` times right after
    ``CALL db.clearQueryCaches()`` (cold), then ``runs`` times with its plan cached (warm).
    Client-side ms (the round trip included) and Neo4j's own result_available_after."""
    from neo4j import GraphDatabase

    text, params = compiled
    explain = "EXPLAIN " + text
    timings: dict[str, list[float]] = {"cold": [], "warm": [], "cold_server": [], "warm_server": []}
    with GraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password),
        notifications_min_severity="OFF",
    ) as driver, driver.session(database=settings.neo4j_database) as session:  # fmt: skip
        for phase in ("cold", "warm"):
            for _ in range(runs):
                if phase == "cold":
                    session.run("CALL db.clearQueryCaches()").consume()
                started = time.perf_counter()
                summary = session.run(explain, params).consume()
                timings[phase].append((time.perf_counter() - started) * 1000)
                timings[phase + "_server"].append(float(summary.result_available_after or 0))
    return {
        "runs": runs,
        "cold_p50_ms": round(percentile(timings["cold"], 50), 1),
        "cold_max_ms": round(max(timings["cold"], default=0.0), 1),
        "cold_server_p50_ms": round(percentile(timings["cold_server"], 50), 1),
        "warm_p50_ms": round(percentile(timings["warm"], 50), 2),
        "warm_max_ms": round(max(timings["warm"], default=0.0), 2),
        "warm_server_p50_ms": round(percentile(timings["warm_server"], 50), 2),
    }


# -- one dataset ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dataset:
    """A generated dataset loaded into a Neo4j: where the files are, how to reach the server."""

    customers: int
    folder: Path
    work: Path
    settings: Settings
    load: dict[str, Any]


@contextmanager
def dataset(plan: Plan, customers: int) -> Iterator[Dataset]:
    """The dataset of ``customers`` customers in its bench Neo4j (.ctxapi/bench/neo4j-<customers>-
    <seed>/, started here and stopped at the end), generated and loaded unless it already was;
    ``plan.neo4j_uri``: that server instead, loaded every time. Migrations are applied."""
    work = plan.home / "bench" / f"neo4j-{customers}-{plan.seed}"
    work.mkdir(parents=True, exist_ok=True)
    folder = ensure_data(plan, customers)
    server_neo4j: LocalNeo4j | None = None
    if plan.neo4j_uri:
        settings = Settings(neo4j_uri=plan.neo4j_uri, neo4j_password=plan.neo4j_password)
    else:
        from bench.peer_install import PeerNeo4j  # the same instance, with APOC core added

        kind = PeerNeo4j if plan.peer else LocalNeo4j
        server_neo4j = kind(
            default_home(), root=work / "db", port=free_port(), pagecache=plan.pagecache
        )
        server_neo4j.start(quiet=True)
        settings = Settings(neo4j_uri=server_neo4j.uri, neo4j_password=server_neo4j.password())
    try:
        from ctxapi.migrations import apply

        database = Database(settings)
        apply(database)  # a reused dataset gets the migrations added since it was loaded
        database.close()
        loaded_marker = work / "loaded.json"
        if server_neo4j is not None and plan.first_load == "import" and not loaded_marker.exists():
            say(f"Importing {customers:,} customers with `ctxapi seed import` ...")
            loaded = import_first(settings, server_neo4j, folder, work)
            loaded_marker.write_text(json.dumps(loaded))
        elif plan.neo4j_uri or not loaded_marker.exists():
            say(f"Loading {customers:,} customers ...")
            loaded = load(settings, folder, work)
            if not plan.neo4j_uri:
                loaded_marker.write_text(json.dumps(loaded))
        else:
            say(f"Reusing the loaded {customers:,}-customer dataset in {work}")
            loaded = json.loads(loaded_marker.read_text()) | {"reused": True}
        yield Dataset(customers, folder, work, settings, loaded)
    finally:
        if server_neo4j is not None:
            server_neo4j.stop(quiet=True)


def load_heavy(plan: Plan, data: Dataset) -> dict[str, Any]:
    """The heavy customers loaded into ``data``'s Neo4j (once per bench instance)."""
    folder = ensure_heavy(plan)
    marker = data.work / f"loaded-{folder.name}.json"
    if not plan.neo4j_uri and marker.exists():
        return dict(json.loads(marker.read_text())) | {"reused": True}
    say(f"Loading the heavy customers from {folder} ...")
    work = data.work / folder.name
    work.mkdir(exist_ok=True)
    loaded = load(data.settings, folder, work)
    rejected = json.loads((work / "load-summary.json").read_text())["total"]["rejected"]
    if rejected:
        raise SystemExit(f"{rejected} heavy records were rejected; see {work}/rejects.jsonl")
    if not plan.neo4j_uri:
        marker.write_text(json.dumps(loaded))
    return loaded


def measure_heavy(plan: Plan, server: Server) -> dict[str, Any]:
    """The headline, then the headline with insights, for the heavy customers by email, each
    asked in turn (after one warm-up round of each)."""
    query = HEADLINE.read_text()
    people = [heavy_email(n) for n in range(plan.heavy_customers)]
    keys = [people[i % len(people)] for i in range(plan.heavy_requests)]
    failures: list[str] = []
    found: dict[str, Any] = {
        "customers": plan.heavy_customers,
        "contacts_each": plan.heavy_contacts,
    }
    for name, call in (
        ("api_c1", http_caller(server, query, failures=failures)),
        ("insights_c1", http_caller(server, query, failures=failures, withInsights=True)),
    ):
        drive(call, people, 1)
        say(f"  heavy customers, {'with insights' if 'insights' in name else 'headline'} ...")
        found[name] = drive(call, keys, 1)
    found["failures"] = failures  # the first few, warm-up included
    found["insights_aim_met"] = found["insights_c1"]["p50_ms"] <= AIMS["heavy_insights_p50"]
    return found


def measure(plan: Plan, customers: int) -> dict[str, Any]:
    with dataset(plan, customers) as data:
        return measure_dataset(plan, data)


def measure_dataset(plan: Plan, data: Dataset) -> dict[str, Any]:
    """Every part of ``plan.parts`` on one loaded dataset."""
    settings, folder = data.settings, data.folder
    result: dict[str, Any] = {"customers": data.customers, "load": data.load}
    if "heavy" in plan.parts and plan.heavy_customers:
        result["heavy_load"] = load_heavy(plan, data)
    if {"main", "heavy", "writes"} & set(plan.parts) or (plan.peer and "peer" in plan.parts):
        serve(plan, settings, folder, result)
    if "main" in plan.parts:
        raw, close = raw_caller(settings, compiled_headline(settings))
        keys = emails(folder, plan.requests + plan.warmup, plan.seed)
        warm, measured = keys[: plan.warmup], keys[plan.warmup :]
        try:
            drive(raw, warm, 1)
            say("  the same Cypher through the driver alone ...")
            result["raw_c1"] = drive(raw, measured, 1)
        finally:
            close()
        result["api_raw_ratio_p50"] = round(
            result["api_c1"]["p50_ms"] / max(result["raw_c1"]["p50_ms"], 0.001), 2
        )
    if "planning" in plan.parts:
        say(f"  planning the headline, {plan.planning_runs} times cold and warm ...")
        result["planning"] = {
            "with_insights": planning(
                settings, compiled_headline(settings, insights=True), plan.planning_runs
            ),
            "headline": planning(settings, compiled_headline(settings), plan.planning_runs),
        }
    return result


def serve(plan: Plan, settings: Settings, folder: Path, result: dict[str, Any]) -> None:
    """The runs over HTTP, into ``result``: the main ones and the heavy customers'."""
    server = Server(settings, plan.workers)
    try:
        if "main" in plan.parts:
            http_runs(plan, server, folder, result)
            result["api_worker_rss_mb"] = server.rss_mb()
        if "heavy" in plan.parts and plan.heavy_customers:
            result["heavy"] = measure_heavy(plan, server)
            result["heavy"]["worker_rss_mb"] = server.rss_mb()
        if "writes" in plan.parts:
            result["writes"] = measure_server_writes(plan, server, settings, folder)
        if plan.peer and "peer" in plan.parts:
            from bench.peer import measure_peer

            result["peer"] = measure_peer(plan, server, settings, folder)
    finally:
        server.stop()


def measure_server_writes(
    plan: Plan, server: Server, settings: Settings, folder: Path
) -> dict[str, Any]:
    """recordInteraction at c1 and c8, and the headline at c4 beside a writer (bench.writes);
    what they wrote is removed after."""
    from bench.writes import clean_up, customer_ids, measure_writes

    try:
        return measure_writes(
            post=graphql_poster(server),
            new_post=lambda: graphql_poster(server),
            read=http_caller(server, HEADLINE.read_text()),
            drive=drive,
            customers=customer_ids(folder, plan.requests, plan.seed),
            emails=emails(folder, plan.requests, plan.seed),
            mixed_seconds=plan.mixed_seconds,
            say=say,
        )
    finally:
        say(f"  removed the {clean_up(settings):,} contacts the write runs recorded")


def http_runs(plan: Plan, server: Server, folder: Path, result: dict[str, Any]) -> None:
    """The headline at concurrency 1 and 8, with insights, and the queue, into ``result``."""
    keys = emails(folder, plan.requests + plan.warmup, plan.seed)
    warm, measured = keys[: plan.warmup], keys[plan.warmup :]
    query = HEADLINE.read_text()
    call = http_caller(server, query)
    # Every customer the runs will ask for is read once first: a reused dataset starts
    # with a cold page cache, production serves from a warm one, and without this the
    # profile measured first pays for the disk reads of the ones after it.
    drive(call, keys, 2)
    for concurrency in (1, 8):
        say(f"  headline over HTTP, concurrency {concurrency} ...")
        result[f"api_c{concurrency}"] = drive(call, measured, concurrency)
    say("  headline with insights over HTTP, concurrency 1 ...")
    insights = http_caller(server, query, withInsights=True)
    drive(insights, warm, 2)
    result["insights_c1"] = drive(insights, measured, 1)
    say("  proactive queue, page after page of 20 ...")
    result["queue_c1"] = drive(queue_caller(server), measured, 1)


# -- reporting -----------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 2**20, 1),
        "python": platform.python_version(),
        "neo4j": NEO4J_VERSION,
        "ctxapi": __version__,
        "platform": platform.platform(),
    }


def write_report(plan: Plan, results: list[dict[str, Any]]) -> dict[str, Any]:
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "seed": plan.seed,
        "requests_per_run": plan.requests,
        "warmup": plan.warmup,
        "gunicorn_workers": plan.workers,
        "neo4j_pagecache": plan.pagecache,
        "datasets": results,
    }
    plan.out.mkdir(parents=True, exist_ok=True)
    (plan.out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    chart(results, plan.out / "latency.png")
    (plan.out / "RESULTS.md").write_text(markdown(report))
    return report


def chart(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    sizes = [r["customers"] for r in results]
    for key, label in (("api_c1", "API, concurrency 1"), ("raw_c1", "raw Cypher")):
        axes[0].plot(sizes, [r[key]["p50_ms"] for r in results], marker="o", label=label + " p50")
        axes[0].plot(
            sizes, [r[key]["p99_ms"] for r in results], marker="x", ls="--", label=label + " p99"
        )
    axes[0].set_xscale("log")
    axes[0].set_xlabel("customers")
    axes[0].set_ylabel("ms")
    axes[0].set_title("Headline query latency vs dataset size")
    axes[0].legend(fontsize=8)
    last = results[-1]
    names = ["raw c1", "API c1", "API c8"]
    keys = ["raw_c1", "api_c1", "api_c8"]
    for index, key in enumerate(keys):
        figures = [last[key][p] for p in ("p50_ms", "p95_ms", "p99_ms")]
        axes[1].bar([index - 0.25, index, index + 0.25], figures, width=0.25)
    axes[1].set_xticks(range(len(names)), names)
    axes[1].set_ylabel("ms (p50, p95, p99)")
    axes[1].set_title(f"Latency at {last['customers']:,} customers")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


AIMS = {
    "p50_c1": 10.0,
    "p99_c1": 30.0,
    "rps_c8": 200.0,
    "ratio": 1.3,
    "scaling": 1.3,
    "load_rate": 100_000.0,  # a first load (`seed import`)
    "rss": 150.0,
    "heavy_insights_p50": 20.0,
    "insights_p99_c1": 15.0,
    "queue_p50_c1": 10.0,
}


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Made by `make bench` on {report['date']}: {m['cores']} cores, {m['memory_gb']} GB,"
        f" Python {m['python']}, Neo4j {m['neo4j']}, ctxapi {m['ctxapi']}; seed {report['seed']},"
        f" {report['requests_per_run']} measured requests per run after {report['warmup']}"
        f" warm-up requests, gunicorn with {report['gunicorn_workers']} threaded workers"
        " (8 threads each, keep-alive, `CTXAPI_ACCESS_LOG=errors`), Neo4j's page cache"
        f" {report.get('neo4j_pagecache', '4g')}.",
        "The load generator, gunicorn and Neo4j share the same 2 cores.",
        "",
        "![latency](latency.png)",
        "",
        "| customers | records | first load records/s (with) | loader RSS MB"
        " | API c1 p50 / p95 / p99 ms"
        " | API c8 req/s (errors) | raw Cypher c1 p50 / p99 ms | API/raw p50 | worker RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["datasets"]:
        a1, a8, raw = r["api_c1"], r["api_c8"], r["raw_c1"]
        lines.append(
            f"| {r['customers']:,} | {r['load']['records']:,} | {r['load']['records_per_s']:,}"
            f" (`{r['load'].get('with', 'seed load')}`) | {r['load']['peak_rss_mb']}"
            f" | {a1['p50_ms']} / {a1['p95_ms']} / {a1['p99_ms']}"
            f" | {a8['requests_per_s']} ({a8['errors']}) | {raw['p50_ms']} / {raw['p99_ms']}"
            f" | {r['api_raw_ratio_p50']} | {r['api_worker_rss_mb']} |"
        )
    last = report["datasets"][-1]
    first = report["datasets"][0]
    scaling = last["api_c1"]["p50_ms"] / max(first["api_c1"]["p50_ms"], 0.001)
    checks = [
        ("p50 at concurrency 1 ≤ 10 ms", last["api_c1"]["p50_ms"] <= AIMS["p50_c1"]),
        ("p99 at concurrency 1 ≤ 30 ms", last["api_c1"]["p99_ms"] <= AIMS["p99_c1"]),
        (
            "≥ 200 requests/s at concurrency 8, no errors",
            last["api_c8"]["requests_per_s"] >= AIMS["rps_c8"] and last["api_c8"]["errors"] == 0,
        ),
        ("API/raw p50 ≤ 1.3", last["api_raw_ratio_p50"] <= AIMS["ratio"]),
        (
            f"p50 at {last['customers']:,} within 1.3x of p50 at {first['customers']:,}"
            f" (measured {scaling:.2f}x)",
            scaling <= AIMS["scaling"],
        ),
        (
            f"a first load ≥ 100,000 records/s (`{last['load'].get('with', 'seed load')}`)",
            last["load"]["records_per_s"] >= AIMS["load_rate"],
        ),
        ("API worker RSS ≤ 150 MB", last["api_worker_rss_mb"] <= AIMS["rss"]),
    ]
    if last.get("insights_c1"):
        checks.append(
            (
                f"with insights, p99 at concurrency 1 ≤ 15 ms (measured"
                f" {last['insights_c1']['p99_ms']} ms)",
                last["insights_c1"]["p99_ms"] <= AIMS["insights_p99_c1"],
            )
        )
    if last.get("queue_c1"):
        checks.append(
            (
                f"a proactive queue page p50 at concurrency 1 ≤ 10 ms (measured"
                f" {last['queue_c1']['p50_ms']} ms)",
                last["queue_c1"]["p50_ms"] <= AIMS["queue_p50_c1"],
            )
        )
    if last.get("heavy"):
        heavy = last["heavy"]
        checks.append(
            (
                f"insights p50 ≤ 20 ms for a customer with {heavy['contacts_each']:,} contacts"
                f" (measured {heavy['insights_c1']['p50_ms']} ms)",
                heavy["insights_aim_met"],
            )
        )
    lines += [
        "",
        "The same query with `insights` selected (`withInsights: true`), still one round trip:",
        "",
        "| customers | headline c1 p50 / p99 ms | with insights c1 p50 / p95 / p99 ms | cost p50"
        " | proactive queue pages c1 p50 / p99 ms |",
        "|---|---|---|---|---|",
    ]
    for r in report["datasets"]:
        a1, ins = r["api_c1"], r.get("insights_c1")
        if ins:
            cost = round(ins["p50_ms"] - a1["p50_ms"], 2)
            queue = r.get("queue_c1") or {"p50_ms": "-", "p99_ms": "-"}
            lines.append(
                f"| {r['customers']:,} | {a1['p50_ms']} / {a1['p99_ms']} | {ins['p50_ms']} /"
                f" {ins['p95_ms']} / {ins['p99_ms']} | +{cost} ms"
                f" | {queue['p50_ms']} / {queue['p99_ms']} |"
            )
    lines += extras_markdown(report["datasets"])
    lines += ["", f"Aims at {last['customers']:,} customers:", ""]
    lines += [f"- {'met' if ok else '**missed**'}: {name}" for name, ok in checks]
    lines += ["", "The first loads:", ""]
    for r in report["datasets"]:
        lines.append(f"- {r['customers']:,} customers: {load_markdown(r['load'])}")
    return "\n".join(lines) + "\n"


def load_markdown(load: dict[str, Any]) -> str:
    """One dataset's first load in words: its steps (`seed import`) or its rate per type."""
    said = "reused (loaded by an earlier run), " if load.get("reused") else ""
    if load.get("with") == "seed import":
        return (
            f"{said}`seed import` {load['seconds']} s: the check and CSV {load['check_seconds']} s"
            f" ({load['check_records_per_s']:,} records/s), neo4j-admin {load['import_seconds']}"
            f" s, start and schema (queue backfill included) {load['schema_seconds']} s"
        )
    rates = ", ".join(f"{k} {v['records_per_s']:,}" for k, v in load["per_type"].items())
    rates = rates or "see results.json"
    return f"{said}`seed load` {load['seconds']} s; records/s per type: {rates}"


def extras_markdown(datasets: list[dict[str, Any]]) -> list[str]:
    """The heavy customers' table, the planning table, the writes' and the peer's (the
    datasets that have them)."""
    from bench.peer import peer_markdown
    from bench.writes import writes_markdown

    return _extras(datasets) + writes_markdown(datasets) + peer_markdown(datasets)


def _extras(datasets: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    heavy = [r for r in datasets if r.get("heavy")]
    if heavy:
        h = heavy[0]["heavy"]
        lines += [
            "",
            f"Heavy customers: {h['customers']} customers with {h['contacts_each']:,} contacts"
            f" each (and 120 orders, hundreds of cases), loaded beside the dataset and asked for"
            f" by email over the same HTTP path, {h['api_c1']['requests']} requests per profile"
            " at concurrency 1, the customers in turn. Aim: with insights p50 ≤ 20 ms.",
            "",
            "| customers | heavy headline c1 p50 / p95 / p99 ms | heavy with insights c1 p50 / p95"
            " / p99 ms | errors | insights p50 ≤ 20 ms |",
            "|---|---|---|---|---|",
        ]
        for r in heavy:
            a, i = r["heavy"]["api_c1"], r["heavy"]["insights_c1"]
            lines.append(
                f"| {r['customers']:,} | {a['p50_ms']} / {a['p95_ms']} / {a['p99_ms']}"
                f" | {i['p50_ms']} / {i['p95_ms']} / {i['p99_ms']} | {a['errors'] + i['errors']}"
                f" | {'met' if r['heavy']['insights_aim_met'] else '**missed**'} |"
            )
        for r in heavy:
            for failure in r["heavy"].get("failures", []):
                text = " ".join(failure[:200].split()).replace("`", "'")
                lines += ["", f"A failed answer at {r['customers']:,}: `{text}`"]
    planned = [r for r in datasets if r.get("planning")]
    if planned:
        runs = planned[0]["planning"]["with_insights"]["runs"]
        lines += [
            "",
            f"Planning the headline (`EXPLAIN`, nothing runs), {runs} times cold (right after"
            " `CALL db.clearQueryCaches()`) and as many times warm (the plan cached); ms on the"
            " client, Neo4j's own figure in brackets:",
            "",
            "| customers | query | cold p50 / max ms | warm p50 / max ms |",
            "|---|---|---|---|",
        ]
        for r in planned:
            for key, name in (("with_insights", "with insights"), ("headline", "headline")):
                q = r["planning"][key]
                lines.append(
                    f"| {r['customers']:,} | {name}"
                    f" | {q['cold_p50_ms']} ({q['cold_server_p50_ms']}) / {q['cold_max_ms']}"
                    f" | {q['warm_p50_ms']} ({q['warm_server_p50_ms']}) / {q['warm_max_ms']} |"
                )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="make bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    default = int(os.environ.get("BENCH_CUSTOMERS", "100000"))
    parser.add_argument("--customers", type=int, default=default, help="[BENCH_CUSTOMERS]")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("BENCH_SEED", "1")))
    parser.add_argument(
        "--requests", type=int, default=int(os.environ.get("BENCH_REQUESTS", "1000"))
    )
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--out", type=Path, default=BENCH_DIR)
    parser.add_argument(
        "--heavy-customers", type=int, default=5, help="customers with many contacts (0: none)"
    )
    parser.add_argument("--heavy-contacts", type=int, default=5000, help="contacts of each")
    parser.add_argument(
        "--heavy-requests", type=int, default=200, help="requests per heavy profile"
    )
    parser.add_argument(
        "--planning-runs", type=int, default=5, help="cold (and warm) EXPLAINs per query"
    )
    parser.add_argument(
        "--mixed-seconds",
        type=float,
        default=20.0,
        help="how long the headline runs at concurrency 4 alone, then beside a writer",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[part for part in PARTS if part != "main"],
        help="measure only this part (repeatable); prints it and writes"
        " .ctxapi/bench/only-<customers>-<seed>.json instead of bench/",
    )
    parser.add_argument(
        "--peer",
        action=argparse.BooleanOptionalAction,
        default=os.environ.get("BENCH_PEER", "1") != "0",
        help="also serve the headline with @neo4j/graphql (bench/peer/, Node.js 20+) and"
        " compare [BENCH_PEER, on]",
    )
    parser.add_argument(
        "--first-load",
        choices=("import", "load"),
        default=os.environ.get("BENCH_FIRST_LOAD", "import"),
        help="fill a new bench instance with `ctxapi seed import` (neo4j-admin) or `ctxapi seed"
        " load` (the online loader); a server named by BENCH_NEO4J_URI is always filled with"
        " `seed load` [BENCH_FIRST_LOAD, import]",
    )
    parser.add_argument(
        "--pagecache",
        default=os.environ.get("BENCH_PAGECACHE", "4g"),
        help="the bench instances' Neo4j page cache [BENCH_PAGECACHE, 4g]",
    )
    args = parser.parse_args(argv)
    sizes = sorted({min(10_000, args.customers), args.customers})
    plan = Plan(
        sizes=sizes,
        seed=args.seed,
        requests=args.requests,
        warmup=args.warmup,
        workers=args.workers,
        out=args.out,
        home=default_home(),
        neo4j_uri=os.environ.get("BENCH_NEO4J_URI"),
        neo4j_password=os.environ.get("BENCH_NEO4J_PASSWORD", ""),
        heavy_customers=args.heavy_customers,
        heavy_contacts=args.heavy_contacts,
        heavy_requests=args.heavy_requests,
        planning_runs=args.planning_runs,
        mixed_seconds=args.mixed_seconds,
        parts=tuple(args.only or PARTS),
        peer=args.peer,
        first_load=args.first_load,
        pagecache=args.pagecache,
    )
    results = [measure(plan, size) for size in plan.sizes]
    if args.only:
        for result in results:
            path = plan.home / "bench" / f"only-{result['customers']}-{plan.seed}.json"
            path.write_text(json.dumps(result, indent=2) + "\n")
            say(f"Wrote {path}")
        say("\n".join(extras_markdown(results)))
        return
    write_report(plan, results)
    say((plan.out / "RESULTS.md").read_text())


if __name__ == "__main__":
    main()
