"""`make soak`: the API at the highest rate it sustains for ten minutes, Neo4j restarted midway.

1. Data: the benchmark's 10,000 generated customers (.ctxapi/bench/data-<customers>-<seed>/),
   loaded once into a Neo4j of the soak's own (.ctxapi/bench/neo4j-soak-<customers>-<seed>/,
   kept and reused; its own because the soak restarts it, which a concurrent `make bench` or
   `make bench-compare` on the shared instance would not survive).
2. The API: `ctxapi serve` (gunicorn, --workers) on a free 127.0.0.1 port, its log kept beside
   the data (gunicorn.log).
3. Calibration (unless --concurrency): after a short warm-up, a closed loop of the mix at
   concurrency 1, 2, 4, ... up to workers x threads, a few seconds each; the soak uses the last
   step that still raised throughput by >= 10 % without doubling p99 (a step that misses this
   is measured once more before it counts). A closed loop sends the next request as soon as
   the last one is answered: as fast as the server sustains.
4. The soak: SOAK_SECONDS (--seconds, 600) of that loop over the committed queries in
   schema/queries/ - 50 % headline, 20 % headline with insights, 15 % search (an email, a name
   word or an order number from the data), 15 % proactive queue pages (each client walks it with
   `after` cursors) - with Neo4j stopped and started again at the middle while traffic goes on.
   Every request has a 30 s client timeout; a failed one is followed by a 0.1 s pause (a client
   back-off, so that an outage is not counted as a flood of instant 503s).
5. The report (stdout, bench/soak.json, bench/SOAK.md): rate, p50/p95/p99/max overall and per
   query, outcomes by kind (HTTP status + GraphQL extensions.code, connection errors, client
   timeouts) inside and outside the restart window, requests over 3 s, the restart's timeline,
   each gunicorn worker's RSS at start and end, and a per-minute table so that a leak shows.

Traffic goes to 127.0.0.1 only; every loop is bounded; Ctrl-C (or SIGTERM) stops the traffic,
writes what was measured, and stops the server and Neo4j. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import orjson

from bench.compare import worktree
from bench.run import BENCH_DIR, Plan, Server, emails, ensure_data, load, machine, percentile, say
from ctxapi.config import PROJECT_ROOT, Settings, default_home
from ctxapi.db import Database
from ctxapi.migrations import apply
from ctxapi.neo4j_local import LocalNeo4j, Neo4jLocalError, free_port

QUERY_DIR = PROJECT_ROOT / "schema" / "queries"
HEADLINE = (QUERY_DIR / "customer_context.graphql").read_text()
QUERIES = {
    "headline": HEADLINE,
    "insights": HEADLINE,
    "search": (QUERY_DIR / "search_customers.graphql").read_text(),
    "queue": (QUERY_DIR / "proactive_queue.graphql").read_text(),
}
MIX = {"headline": 50, "insights": 20, "search": 15, "queue": 15}
OK = "ok"
TIMEOUT = "client timeout"
CLIENT_TIMEOUT_S = 30.0
ERROR_PAUSE_S = 0.1
SLOW_MS = 3000.0
#: Errors up to this long after Neo4j answers again count to the restart window.
RESTART_GRACE_S = 10.0
WARMUP_S = 10.0
PROGRESS_EVERY_S = 10.0
#: Every request's headers; the server's API key is added when it starts.
HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class Sample:
    """One request: when it was sent (s since the phase began), what, how long, how it ended."""

    at: float
    kind: str
    ms: float
    outcome: str


@dataclass(frozen=True)
class Keys:
    """What the mix asks for, taken from the generated data."""

    emails: list[str]
    words: list[str]
    orders: list[str]


def dataset_keys(folder: Path, seed: int, count: int = 5000) -> Keys:
    """``count`` emails, name words and order numbers, sampled reproducibly from the data."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    words, orders = [], []
    with (folder / "customers.jsonl").open("rb") as customers:
        for line in customers:
            words.extend(orjson.loads(line)["name"].split())
    with (folder / "orders.jsonl").open("rb") as lines:
        orders = [orjson.loads(line)["number"] for line in lines]
    return Keys(
        emails=emails(folder, count, seed),
        words=[rng.choice(words) for _ in range(count)],
        orders=[rng.choice(orders) for _ in range(count)],
    )


# -- one request -----------------------------------------------------------------------------
def classify(status: int, body: bytes) -> str:
    """``ok`` for a 200 with data and no errors, else ``HTTP <status> <codes>``."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return f"HTTP {status} (not JSON)"
    if not isinstance(payload, dict):
        return f"HTTP {status} (not a JSON object)"
    errors = payload.get("errors")
    if status == 200 and not errors and payload.get("data") is not None:
        return OK
    codes = sorted(
        {
            str((error.get("extensions") or {}).get("code", "no code"))
            for error in (errors if isinstance(errors, list) else [])
            if isinstance(error, dict)
        }
    )
    return f"HTTP {status} {'+'.join(codes) or 'without errors or data'}"


class Client:
    """One thread's keep-alive connection to /graphql; each request bounded by a timeout."""

    def __init__(self, port: int, timeout: float = CLIENT_TIMEOUT_S) -> None:
        self.port = port
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None
        self.reconnects = 0

    def post(self, body: bytes) -> tuple[str, bytes]:
        """The outcome (``classify``, a connection error or a timeout) and the body.

        A kept-alive connection the server closed meanwhile is reopened once, as HTTP
        clients do, and counted in ``reconnects``; any other failure is the outcome."""
        for attempt in (1, 2):
            reused = self.connection is not None
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout
                )
            try:
                self.connection.request("POST", "/graphql", body, HEADERS)
                response = self.connection.getresponse()
                data = response.read()
            except TimeoutError:
                self.close()
                return TIMEOUT, b""
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                self.close()
                if reused and attempt == 1:
                    self.reconnects += 1
                    continue
                return f"connection error: {type(e).__name__}", b""
            except (OSError, http.client.HTTPException) as error:
                self.close()
                return f"connection error: {type(error).__name__}", b""
            if response.will_close:
                self.close()
            return classify(response.status, data), data
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def next_cursor(body: bytes) -> str | None:
    """The queue page's endCursor, or None to start again at its beginning."""
    try:
        info = orjson.loads(body)["data"]["proactiveQueue"]["pageInfo"]
        return str(info["endCursor"]) if info["hasNextPage"] else None
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None


# -- closed-loop traffic -----------------------------------------------------------------------
class Load:
    """``concurrency`` client threads sending the mix in a closed loop for ``seconds``."""

    def __init__(self, port: int, keys: Keys, concurrency: int, seconds: float, seed: int) -> None:
        self.port, self.keys, self.seed = port, keys, seed
        self.concurrency = concurrency
        self.seconds = seconds
        self.stop = threading.Event()
        self.samples: list[Sample] = []
        self.reconnects = 0
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True)
            for n in range(concurrency)
        ]
        self.t0 = time.monotonic()

    def start(self) -> Load:
        self.t0 = time.monotonic()
        for thread in self.threads:
            thread.start()
        return self

    def now(self) -> float:
        """Seconds since the traffic started."""
        return time.monotonic() - self.t0

    def join(self) -> None:
        """Wait for every client (each ends within its deadline plus one request's timeout)."""
        for thread in self.threads:
            thread.join(timeout=max(0.0, self.seconds - self.now()) + 2 * CLIENT_TIMEOUT_S + 5)

    def since(self, position: int) -> list[Sample]:
        with self.lock:
            return self.samples[position:]

    def _client(self, number: int) -> None:
        rng = random.Random(self.seed * 1000 + number)  # noqa: S311 - the mix, not a secret
        client = Client(self.port)
        kinds, weights = list(MIX), list(MIX.values())
        after: str | None = None
        try:
            while not self.stop.is_set() and self.now() < self.seconds:
                kind = rng.choices(kinds, weights)[0]
                variables: dict[str, Any]
                if kind == "search":
                    pool = rng.choice((self.keys.emails, self.keys.words, self.keys.orders))
                    variables = {"query": rng.choice(pool)}
                elif kind == "queue":
                    variables = {"after": after}
                else:
                    variables = {"email": rng.choice(self.keys.emails)}
                    if kind == "insights":
                        variables["withInsights"] = True
                body = orjson.dumps({"query": QUERIES[kind], "variables": variables})
                sent = self.now()
                outcome, answer = client.post(body)
                sample = Sample(sent, kind, (self.now() - sent) * 1000, outcome)
                if kind == "queue":
                    after = next_cursor(answer) if outcome == OK else None
                with self.lock:
                    self.samples.append(sample)
                if outcome != OK:
                    self.stop.wait(ERROR_PAUSE_S)
        finally:
            client.close()
            with self.lock:
                self.reconnects += client.reconnects


def run_for(port: int, keys: Keys, concurrency: int, seconds: float, seed: int) -> Load:
    """Traffic for ``seconds``, waited for."""
    load = Load(port, keys, concurrency, seconds, seed).start()
    try:
        load.join()
    finally:
        load.stop.set()
    return load


# -- figures -----------------------------------------------------------------------------------
def latency(samples: list[Sample], seconds: float | None = None) -> dict[str, Any]:
    """Requests, errors, p50/p95/p99/max in ms (every outcome), and the rate over ``seconds``."""
    values = [s.ms for s in samples]
    figures: dict[str, Any] = {
        "requests": len(values),
        "errors": sum(s.outcome != OK for s in samples),
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "p99_ms": round(percentile(values, 99), 1),
        "max_ms": round(max(values, default=0.0), 1),
    }
    if seconds:
        figures["requests_per_s"] = round(len(values) / seconds, 1)
    return figures


def errors_by_kind(samples: Iterable[Sample]) -> dict[str, int]:
    """How many requests ended each way other than ok, most frequent first."""
    return dict(Counter(s.outcome for s in samples if s.outcome != OK).most_common())


def choose_concurrency(steps: list[dict[str, Any]], gain: float = 0.10) -> int:
    """The smallest step beyond which throughput gains < ``gain`` or p99 more than doubles."""
    chosen = steps[0]
    for step in steps[1:]:
        if (
            step["errors"]
            or step["requests_per_s"] < chosen["requests_per_s"] * (1 + gain)
            or step["p99_ms"] > 2 * chosen["p99_ms"]
        ):
            break
        chosen = step
    return int(chosen["concurrency"])


def calibrate(
    port: int, keys: Keys, highest: int, step_seconds: float, seed: int
) -> tuple[int, list[dict[str, Any]]]:
    """Closed loops at 1, 2, 4, ... clients (up to ``highest``) until gains stall; a step that
    misses the rule is measured once more (the machine is shared: one noisy step won't do)."""
    measured: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    concurrency = 1
    while concurrency <= highest:
        for attempt in (1, 2):
            load = run_for(port, keys, concurrency, step_seconds, seed + concurrency + attempt)
            step = {"concurrency": concurrency} | latency(load.samples, step_seconds)
            step["repeat"] = attempt == 2
            measured.append(step)
            say(
                f"  concurrency {concurrency:>2}: {step['requests_per_s']:>6} req/s,"
                f" p99 {step['p99_ms']} ms, {step['errors']} errors"
                + (" (measured again)" if attempt == 2 else "")
            )
            if not kept or choose_concurrency([*kept, step]) == concurrency:
                break
        kept.append(step)
        if choose_concurrency(kept) != concurrency:
            break
        concurrency *= 2
    return choose_concurrency(kept), measured


def worker_rss(master: int) -> dict[int, float]:
    """The resident set (MB) of each child of ``master`` (gunicorn's workers), by pid."""
    found: dict[int, float] = {}
    for child in Path("/proc").iterdir():
        if not child.name.isdigit():
            continue
        try:
            stat = (child / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[1]) == master:
                pages = int((child / "statm").read_text().split()[1])
                found[int(child.name)] = round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
        except (OSError, ValueError, IndexError):
            continue
    return dict(sorted(found.items()))


def minutes(
    samples: list[Sample], rss: list[tuple[float, dict[int, float]]], seconds: float
) -> list[dict[str, Any]]:
    """Per minute of the soak: requests, errors, p99, and the workers' RSS at its end."""
    rows = []
    for minute in range(max(1, int(-(-seconds // 60)))):
        start, end = minute * 60.0, min((minute + 1) * 60.0, seconds)
        inside = [s for s in samples if start <= s.at < end]
        last = [mb for at, mb in rss if at < end + 1] or [{}]
        rows.append(
            {"minute": minute + 1}
            | latency(inside, end - start)
            | {
                "rss_max_mb": max(last[-1].values(), default=0.0),
                "rss_total_mb": round(sum(last[-1].values()), 1),
            }
        )
    return rows


# -- the restart -------------------------------------------------------------------------------
class Probe:
    """Watches Bolt's port (every 50 ms) and the API's /readyz (every 0.5 s) through a restart,
    each in a thread of its own; both end once Neo4j is back and ready, or after ``limit_s``."""

    def __init__(self, load: Load, bolt_port: int, api_port: int, limit_s: float = 300) -> None:
        self.load, self.bolt_port, self.api_port = load, bolt_port, api_port
        self.ends = time.monotonic() + limit_s
        self.down: float | None = None
        self.back: float | None = None
        self.readyz: list[tuple[float, int | str]] = []  # (when, status) at every change
        self.threads = [
            threading.Thread(target=self._watch_bolt, daemon=True),
            threading.Thread(target=self._watch_readyz, daemon=True),
        ]
        for thread in self.threads:
            thread.start()

    def _going(self) -> bool:
        return time.monotonic() < self.ends and not self.load.stop.is_set()

    def _watch_bolt(self) -> None:
        while self.back is None and self._going():
            try:
                socket.create_connection(("127.0.0.1", self.bolt_port), timeout=0.5).close()
                if self.down is not None:
                    self.back = self.load.now()
            except OSError:
                if self.down is None:
                    self.down = self.load.now()
            time.sleep(0.05)

    def _watch_readyz(self) -> None:
        while self._going():
            connection = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=5)
            status: int | str
            try:
                connection.request("GET", "/readyz")
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
            finally:
                connection.close()
            if not self.readyz or self.readyz[-1][1] != status:
                self.readyz.append((round(self.load.now(), 2), status))
            if self.back is not None and status == 200:
                return
            time.sleep(0.5)

    def join(self) -> None:
        """Wait for both (called once the traffic has stopped, which ends them too)."""
        for thread in self.threads:
            thread.join(timeout=6)


def restart(neo4j: LocalNeo4j, load: Load, api_port: int) -> tuple[dict[str, Any], Probe]:
    """Stop Neo4j and start it again while ``load`` runs; when each step happened."""
    probe = Probe(load, neo4j.port, api_port)
    timeline: dict[str, Any] = {"stop_issued": round(load.now(), 2)}
    say(f"[{load.now():6.0f}s] restarting Neo4j: stop ...")
    neo4j.stop(quiet=True)
    timeline["stopped"] = round(load.now(), 2)
    try:
        # ephemeral: Linux stops it if this (main) thread dies; a new start is still ours.
        neo4j.start(quiet=True, ephemeral=True)
    except Neo4jLocalError as error:
        timeline["start_failed"] = str(error).splitlines()[0]
        load.stop.set()
        say(f"Neo4j did not come back: {timeline['start_failed']}")
    timeline["started"] = round(load.now(), 2)
    say(f"[{load.now():6.0f}s] Neo4j answers again")
    return timeline, probe


def restart_report(
    timeline: dict[str, Any], probe: Probe, samples: list[Sample], seconds: float
) -> tuple[dict[str, Any], tuple[float, float]]:
    """The timeline completed from the probe and the samples, and the restart window."""
    probe.join()
    timeline["bolt_down"] = None if probe.down is None else round(probe.down, 2)
    timeline["bolt_back"] = None if probe.back is None else round(probe.back, 2)
    if probe.down is not None and probe.back is not None:
        timeline["unreachable_s"] = round(probe.back - probe.down, 2)
    # Answers the old server gave (before it exited) and the new one gave.
    answered = sorted(ended(s) for s in samples if s.outcome == OK)
    before = [at for at in answered if at < timeline["stopped"]]
    after = [at for at in answered if at >= timeline["stopped"]]
    timeline["last_ok_before"] = round(before[-1], 2) if before else None
    timeline["first_ok_after"] = round(after[0], 2) if after else None
    timeline["recovered"] = recovered(samples, timeline["stop_issued"], timeline["started"])
    timeline["readyz"] = [{"at": at, "status": status} for at, status in probe.readyz]
    window = (timeline["stop_issued"], min(seconds, timeline["started"] + RESTART_GRACE_S))
    timeline["window"] = [round(window[0], 2), round(window[1], 2)]
    last = max(window[1], timeline["recovered"] or 0.0)
    timeline["per_second"] = per_second(samples, window[0] - 5, min(seconds, last + 5))
    return timeline, window


def ended(sample: Sample) -> float:
    """When the answer came (seconds since the phase began)."""
    return sample.at + sample.ms / 1000


def in_window(sample: Sample, window: tuple[float, float]) -> bool:
    """Whether the request was in flight at any moment of ``window``."""
    return sample.at < window[1] and ended(sample) >= window[0]


def recovered(samples: list[Sample], stopped: float, started: float) -> float | None:
    """The first second after ``started`` with at least half the ok answers per second
    (median) seen before ``stopped``; None if that never came."""
    ok = Counter(int(ended(s)) for s in samples if s.outcome == OK)
    before = sorted(ok[second] for second in range(1, int(stopped)))
    if not before:
        return None
    target = before[len(before) // 2] / 2
    return next(
        (float(sec) for sec in sorted(ok) if sec >= int(started) and ok[sec] >= target), None
    )


def per_second(samples: list[Sample], start: float, end: float) -> list[dict[str, Any]]:
    """Second by second from ``start`` to ``end``, by when the answer came: ok, errors by
    kind, the p99 of what was answered in it."""
    rows = []
    for second in range(max(0, int(start)), int(end) + 1):
        inside = [s for s in samples if second <= ended(s) < second + 1]
        rows.append(
            {
                "second": second,
                "ok": sum(s.outcome == OK for s in inside),
                "errors": errors_by_kind(inside),
                "p99_ms": round(percentile([s.ms for s in inside], 99), 1),
            }
        )
    return rows


# -- report ------------------------------------------------------------------------------------
LOG_SIGNS = {
    "worker timeouts": "WORKER TIMEOUT",
    "workers booted": "Booting worker",
    "warning lines": "[WARNING]",
    "error lines": "[ERROR]",
    "critical lines": "[CRITICAL]",
    "tracebacks": "Traceback (most recent call last)",
}
ACCESS_LINE = re.compile(r"^\[\d\d/\w{3}/\d{4}:")
LOG_LINE = re.compile(r"^\[\d{4}-\d\d-\d\d [\d:]+ [+-]\d{4}\] \[\d+\] ")


def log_summary(path: Path) -> dict[str, Any]:
    """What gunicorn's log says besides the access lines: counts, and the warnings, errors and
    lines in no log format (written to stderr past the logger), numbers replaced by N."""
    if not path.exists():
        return {}
    text = path.read_text(errors="replace").splitlines()
    counts: dict[str, Any] = {
        name: sum(sign in x for x in text) for name, sign in LOG_SIGNS.items()
    }
    messages: Counter[str] = Counter()
    for line in text:
        if ACCESS_LINE.match(line) or line.startswith("Serving ctxapi on "):
            continue
        if LOG_LINE.match(line):
            if "[INFO]" in line:
                continue
            line = LOG_LINE.sub("", line)
        else:
            line = "(no log format) " + line
        messages[re.sub(r"(?<![A-Za-z])\d+", "N", line)[:160]] += 1
    counts["unformatted lines"] = sum(
        n for line, n in messages.items() if line.startswith("(no log format)")
    )
    return counts | {"messages": dict(messages.most_common(10))}


def findings(report: dict[str, Any]) -> list[str]:
    """What looks wrong, in words."""
    notes = []
    restart_ = report.get("restart") or {}
    inside = report["outcomes"]["restart_window"]
    outside = report["outcomes"]["outside_restart_window"]
    if outside:
        notes.append(f"errors outside the restart window: {outside}")
    odd = {kind: n for kind, n in inside.items() if kind != "HTTP 503 UNAVAILABLE"}
    if odd:
        notes.append(f"errors in the restart window other than 503 UNAVAILABLE: {odd}")
    if restart_.get("start_failed"):
        notes.append(f"Neo4j did not start again: {restart_['start_failed']}")
    elif restart_:
        first, back = restart_["first_ok_after"], restart_["recovered"]
        if first is None or first - restart_["started"] > RESTART_GRACE_S:
            notes.append(
                f"after Neo4j answered again (at {restart_['started']} s) the API's first ok"
                f" answer came at {first} s, and half the rate from before the stop at {back} s"
            )
        before = [m for m in report["per_minute"] if m["minute"] * 60 <= restart_["stop_issued"]]
        after = [m for m in report["per_minute"] if (m["minute"] - 1) * 60 >= (back or 1e9)]
        rate_before = max((m["requests_per_s"] for m in before), default=0.0)
        rate_after = max((m["requests_per_s"] for m in after), default=None)
        if rate_after is not None and rate_after < 0.75 * rate_before:
            notes.append(
                f"the best minute after the restart ran at {rate_after} req/s, the best before"
                f" it at {rate_before} (cold page cache, or other load on the machine?)"
            )
    slow = report["slow"]
    if slow["count"]:
        notes.append(
            f"{slow['count']} request(s) took over {SLOW_MS / 1000:.0f} s"
            f" ({slow['in_restart_window']} in the restart window), by query: {slow['by_query']}"
        )
    start, end = report["rss"]["start"], report["rss"]["end"]
    if set(start) != set(end):
        notes.append(f"gunicorn workers changed during the soak: {list(start)} -> {list(end)}")
    growth = {pid: round(end[pid] - mb, 1) for pid, mb in start.items() if pid in end}
    if any(delta > 10 for delta in growth.values()):
        notes.append(f"worker RSS grew by more than 10 MB: {growth} (MB, by pid)")
    log = report.get("gunicorn_log") or {}
    for name in (
        "worker timeouts",
        "critical lines",
        "tracebacks",
        "error lines",
        "unformatted lines",
    ):
        if log.get(name):
            notes.append(f"gunicorn log: {log[name]} {name}")
    if report["reconnects"]:
        notes.append(f"{report['reconnects']} kept-alive connection(s) had to be reopened")
    return notes


def working_tree() -> str:
    """This checkout's commit, and which files of ctxapi/ differ from it."""
    git = ["git", "-C", str(PROJECT_ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    changed = subprocess.run(
        [*git, "status", "--porcelain", "--", "ctxapi"], capture_output=True, text=True
    ).stdout.split("\n")
    files = sorted(line[3:] for line in changed if line.strip())
    return f"this working tree ({head.stdout.strip()}" + (
        f" with uncommitted changes to {', '.join(files)})" if files else ", clean)"
    )


def build_report(
    args: argparse.Namespace,
    load: Load,
    seconds: float,
    calibration: list[dict[str, Any]],
    rss: list[tuple[float, dict[int, float]]],
    restart_: tuple[dict[str, Any], Probe] | None,
    log: Path,
    interrupted: bool,
) -> dict[str, Any]:
    """Everything measured, as one JSON-able dict."""
    samples = load.samples
    timeline: dict[str, Any] | None = None
    window = (float("inf"), float("inf"))
    if restart_ is not None:
        timeline, window = restart_report(*restart_, samples, seconds)
    inside = [s for s in samples if in_window(s, window)]
    outside = [s for s in samples if not in_window(s, window)]
    slow = [s for s in samples if s.ms > SLOW_MS]
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench.soak", *sys.argv[1:]]),
        "served": f"the ctxapi of {args.revision}" if args.revision else working_tree(),
        "machine": machine(),
        "customers": args.customers,
        "seed": args.seed,
        "gunicorn_workers": args.workers,
        "mix_percent": MIX,
        "interrupted": interrupted,
        "seconds": round(seconds, 1),
        "concurrency": load.concurrency,
        "calibration": calibration,
        "overall": latency(samples, seconds),
        "steady_state": latency(outside, seconds - max(0.0, min(window[1], seconds) - window[0])),
        "per_query": {kind: latency([s for s in samples if s.kind == kind]) for kind in MIX},
        "outcomes": {
            "all": errors_by_kind(samples),
            "restart_window": errors_by_kind(inside),
            "outside_restart_window": errors_by_kind(outside),
        },
        "slow": {
            "count": len(slow),
            "in_restart_window": sum(in_window(s, window) for s in slow),
            "by_query": dict(Counter(s.kind for s in slow)),
            "at_s": [round(s.at, 1) for s in slow[:50]],
        },
        "restart": timeline,
        "rss": {
            "ready": {str(k): v for k, v in rss[0][1].items()},
            "start": {str(k): v for k, v in rss[1][1].items()},
            "end": {str(k): v for k, v in rss[-1][1].items()},
        },
        "per_minute": minutes(samples, rss[1:], seconds),
        "reconnects": load.reconnects,
        "gunicorn_log": log_summary(log),
    }
    report["findings"] = findings(report)
    return report


def markdown(report: dict[str, Any]) -> str:
    """The report as bench/SOAK.md."""
    o, m = report["overall"], report["machine"]
    lines = [
        "# Soak test",
        "",
        "`make soak` (not part of `make test`): SOAK_SECONDS (600) of closed-loop traffic over"
        " the committed queries at the highest concurrency the API sustains, Neo4j stopped and"
        " started again at the middle; `python -m bench.soak --help` says how. The figures"
        " below are rewritten at every run, with soak.json beside them.",
        "",
        f"Made by `{report['command']}` (`make soak`) on {report['date']}: {m['cores']} cores,"
        f" {m['memory_gb']} GB, Python {m['python']}, Neo4j {m['neo4j']}, ctxapi {m['ctxapi']};"
        f" {report['customers']:,} customers (seed {report['seed']}); serving"
        f" {report['served']}, gunicorn with"
        f" {report['gunicorn_workers']} threaded workers. Client, gunicorn and Neo4j share the"
        " machine; other work ran on it too, so figures are noisy."
        + (" **Interrupted before the end.**" if report["interrupted"] else ""),
        "",
        f"**{report['seconds']:.0f} s at closed-loop concurrency {report['concurrency']}:"
        f" {o['requests']:,} requests, {o['requests_per_s']} req/s, {o['errors']:,} errors;"
        f" p50 {o['p50_ms']} / p95 {o['p95_ms']} / p99 {o['p99_ms']} / max {o['max_ms']} ms.**"
        f" Outside the restart window: p99 {report['steady_state']['p99_ms']} ms,"
        f" {report['steady_state']['errors']} errors.",
        "",
        "Mix: " + ", ".join(f"{k} {v} %" for k, v in report["mix_percent"].items()) + ".",
        "",
    ]
    if report["calibration"]:
        lines += ["Calibration (closed loop, a few seconds per step):", ""]
        lines += ["| concurrency | req/s | p99 ms | errors |", "|---|---|---|---|"]
        lines += [
            f"| {c['concurrency']}{' (again)' if c.get('repeat') else ''} | {c['requests_per_s']}"
            f" | {c['p99_ms']} | {c['errors']} |"
            for c in report["calibration"]
        ]
        lines.append("")
    lines += ["| query | requests | errors | p50 ms | p95 ms | p99 ms | max ms |"]
    lines.append("|---|---|---|---|---|---|---|")
    for kind, q in report["per_query"].items():
        lines.append(
            f"| {kind} | {q['requests']:,} | {q['errors']:,} | {q['p50_ms']} | {q['p95_ms']}"
            f" | {q['p99_ms']} | {q['max_ms']} |"
        )
    lines += ["", "Errors by kind:", "", "| kind | in the restart window | outside | all |"]
    lines.append("|---|---|---|---|")
    outcomes = report["outcomes"]
    for kind, count in outcomes["all"].items() or {"(none)": 0}.items():
        lines.append(
            f"| {kind} | {outcomes['restart_window'].get(kind, 0):,}"
            f" | {outcomes['outside_restart_window'].get(kind, 0):,} | {count:,} |"
        )
    restart_ = report["restart"]
    if restart_:
        lines += ["", "The restart (seconds since the soak began):", ""]
        for key, label in (
            ("stop_issued", "stop issued"),
            ("bolt_down", "Bolt port down"),
            ("last_ok_before", "last ok answer before Neo4j exited"),
            ("stopped", "Neo4j exited"),
            ("bolt_back", "Bolt port back"),
            ("started", "Neo4j answers (start returned)"),
            ("first_ok_after", "first ok answer after it exited"),
            ("recovered", "back to half the rate before the stop (ok answers/s)"),
            ("unreachable_s", "Bolt unreachable for (s)"),
        ):
            lines.append(f"- {label}: {restart_.get(key)}")
        readyz = ", ".join(f"{r['status']} at {r['at']}" for r in restart_["readyz"])
        lines.append(f"- /readyz: {readyz or '-'}")
        lines.append(
            f"- restart window (stop issued to {RESTART_GRACE_S:.0f} s after Neo4j answers):"
            f" {restart_['window'][0]}-{restart_['window'][1]}"
        )
        lines += ["", "Around the restart, by when the answers came: each second in the window,"]
        lines += ["5 s at a time after it (p99 of its worst second), silent seconds merged:", ""]
        lines += ["| seconds | ok | errors | p99 ms |", "|---|---|---|---|"]
        lines += around_restart(restart_["per_second"], restart_["window"][1])
    rss = report["rss"]
    lines += ["", "Worker RSS (MB, by pid): ready (no traffic yet), soak start, soak end:", ""]
    lines += ["| pid | ready | start | end |", "|---|---|---|---|"]
    for pid in sorted(set(rss["ready"]) | set(rss["start"]) | set(rss["end"]), key=int):
        lines.append(
            f"| {pid} | {rss['ready'].get(pid, '-')} | {rss['start'].get(pid, '-')}"
            f" | {rss['end'].get(pid, '-')} |"
        )
    lines += ["", "Per minute:", ""]
    lines.append(
        "| minute | requests | req/s | errors | p99 ms | max ms | worker RSS max / total MB |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    for row in report["per_minute"]:
        lines.append(
            f"| {row['minute']} | {row['requests']:,} | {row.get('requests_per_s', 0)}"
            f" | {row['errors']:,} | {row['p99_ms']} | {row['max_ms']}"
            f" | {row['rss_max_mb']} / {row['rss_total_mb']} |"
        )
    lines += ["", f"Requests over {SLOW_MS / 1000:.0f} s: {report['slow']['count']}."]
    log = dict(report["gunicorn_log"])
    messages = log.pop("messages", {})
    lines.append("gunicorn's log: " + ", ".join(f"{k} {v}" for k, v in log.items()) + ".")
    if messages:
        lines += ["", "Its most frequent lines other than access and info (numbers as N):", ""]
        lines += [f"- {n} x `{line}`" for line, n in messages.items()]
    lines += ["", "What looks wrong:", ""]
    lines += [f"- {note}" for note in report["findings"]] or ["- nothing"]
    return "\n".join(lines) + "\n"


def around_restart(rows: list[dict[str, Any]], window_end: float) -> list[str]:
    """``per_second`` rows as table lines: one a second up to ``window_end``, then 5 s a line;
    consecutive lines in which nothing was answered as one."""
    groups: list[list[dict[str, Any]]] = []
    for row in rows:
        later = row["second"] >= window_end
        if later and row["second"] % 5 and groups and groups[-1][0]["second"] >= window_end:
            groups[-1].append(row)
        else:
            groups.append([row])
    lines: list[str] = []
    silent: list[int] = []

    def span(first: int, last: int) -> str:
        return f"{first}" if first == last else f"{first}-{last}"

    for group in groups:
        errors: Counter[str] = Counter()
        for row in group:
            errors.update(row["errors"])
        ok = sum(row["ok"] for row in group)
        if not ok and not errors:
            silent += [group[0]["second"], group[-1]["second"]]
            continue
        if silent:
            lines.append(f"| {span(silent[0], silent[-1])} | 0 | nothing answered | - |")
            silent = []
        text = ", ".join(f"{n} {kind}" for kind, n in errors.most_common()) or "-"
        p99 = max(row["p99_ms"] for row in group)
        lines.append(f"| {span(group[0]['second'], group[-1]['second'])} | {ok} | {text} | {p99} |")
    if silent:
        lines.append(f"| {span(silent[0], silent[-1])} | 0 | nothing answered | - |")
    return lines


# -- the run ---------------------------------------------------------------------------------------
@dataclass
class Soak:
    """The running pieces, so that a Ctrl-C at any point stops what was started."""

    neo4j: LocalNeo4j | None = None
    server: Server | None = None
    rss: list[tuple[float, dict[int, float]]] = field(default_factory=list)


def prepare(args: argparse.Namespace, soak: Soak) -> tuple[Keys, Path]:
    """The data, Neo4j (started, migrated, loaded once) and the API; the keys and the log."""
    home = default_home()
    plan = Plan([args.customers], args.seed, 0, 0, args.workers, args.out, home)
    folder = ensure_data(plan, args.customers)
    work = home / "bench" / f"neo4j-soak-{args.customers}-{args.seed}"
    work.mkdir(parents=True, exist_ok=True)
    neo4j = LocalNeo4j(home, root=work / "db", port=free_port())
    if neo4j.pid() is not None:
        raise SystemExit(f"a Neo4j already runs in {work / 'db'}: is another soak running?")
    neo4j.start(quiet=True, ephemeral=True)
    soak.neo4j = neo4j
    settings = Settings(neo4j_uri=neo4j.uri, neo4j_password=neo4j.password())
    database = Database(settings)
    apply(database)  # a reused dataset gets the migrations added since it was loaded
    database.close()
    if not (work / "loaded.json").exists():
        say(f"Loading {args.customers:,} customers (once) ...")
        (work / "loaded.json").write_text(json.dumps(load(settings, folder, work)))
    else:
        say(f"Reusing the loaded {args.customers:,}-customer dataset in {work}")
    log = work / "gunicorn.log"
    log.unlink(missing_ok=True)
    tree = None
    if args.revision:
        tree, args.revision = worktree(args.revision, home)
        say(f"Serving the ctxapi of {args.revision} (a git worktree in {tree})")
    soak.server = Server(settings, args.workers, tree=tree, log=log)
    HEADERS.update(soak.server.headers)  # its API key, for every client thread
    return dataset_keys(folder, args.seed), log


def progress(
    load: Load, position: int, errors: int, interval: float, rss: dict[int, float]
) -> tuple[int, int]:
    """One line: elapsed, the last interval's rate, errors and p99, the workers' RSS."""
    recent = load.since(position)
    failed = sum(s.outcome != OK for s in recent)
    say(
        f"[{load.now():6.0f}s] {len(recent) / max(interval, 0.001):7.1f} req/s,"
        f" {position + len(recent):>7,} requests, {errors + failed:,} errors"
        f" ({failed:,} in the last {interval:.0f} s),"
        f" p99 {percentile([s.ms for s in recent], 99):.0f} ms,"
        f" worker RSS max {max(rss.values(), default=0.0)} MB"
    )
    return position + len(recent), errors + failed


def soak_phase(
    args: argparse.Namespace, soak: Soak, keys: Keys, concurrency: int
) -> tuple[Load, tuple[dict[str, Any], Probe] | None, bool]:
    """The measured run, with the restart at its middle; whether Ctrl-C cut it short."""
    assert soak.server is not None
    assert soak.neo4j is not None
    master = soak.server.process.pid
    load = Load(soak.server.port, keys, concurrency, args.seconds, args.seed)
    soak.rss.append((0.0, worker_rss(master)))
    load.start()
    restarted: tuple[dict[str, Any], Probe] | None = None
    position = errors = 0
    last_tick = 0.0
    interrupted = False
    try:
        while load.now() < args.seconds and not load.stop.is_set():
            time.sleep(min(0.2, max(0.0, args.seconds - load.now())))
            if restarted is None and args.restart and load.now() >= args.seconds / 2:
                restarted = restart(soak.neo4j, load, soak.server.port)
            if load.now() - last_tick >= PROGRESS_EVERY_S:
                now = load.now()
                soak.rss.append((now, worker_rss(master)))
                position, errors = progress(
                    load, position, errors, now - last_tick, soak.rss[-1][1]
                )
                last_tick = now
    except KeyboardInterrupt:
        interrupted = True
        say("Interrupted: stopping the traffic ...")
    load.stop.set()
    load.join()
    soak.rss.append((load.now(), worker_rss(master)))
    return load, restarted, interrupted


def run(args: argparse.Namespace, soak: Soak) -> dict[str, Any] | None:
    """Prepare, calibrate, soak, report; None when stopped before the soak began."""
    keys, log = prepare(args, soak)
    assert soak.server is not None
    soak.rss.append((0.0, worker_rss(soak.server.process.pid)))
    port = soak.server.port
    say(f"Warming up for {WARMUP_S:.0f} s ...")
    run_for(port, keys, 2, WARMUP_S, args.seed)
    calibration: list[dict[str, Any]] = []
    concurrency = args.concurrency
    if not concurrency:
        highest = args.workers * int(os.environ.get("CTXAPI_THREADS", Settings.threads))
        say(f"Calibrating: closed loops of {args.step_seconds:.0f} s, up to {highest} clients ...")
        concurrency, calibration = calibrate(port, keys, highest, args.step_seconds, args.seed)
    say(
        f"Soaking for {args.seconds:.0f} s at concurrency {concurrency}"
        + (", Neo4j restarted at the middle ..." if args.restart else " ...")
    )
    load, restarted, interrupted = soak_phase(args, soak, keys, concurrency)
    seconds = min(load.now(), args.seconds)
    report = build_report(args, load, seconds, calibration, soak.rss, restarted, log, interrupted)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soak.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "SOAK.md").write_text(markdown(report))
    return report


def _terminate(_signal: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    default_seconds = float(os.environ.get("SOAK_SECONDS", "600"))
    parser.add_argument(
        "--seconds",
        type=float,
        default=default_seconds,
        help="length of the soak [SOAK_SECONDS or 600]",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers [4]")
    parser.add_argument(
        "--concurrency", type=int, default=0, help="closed-loop clients; 0 calibrates first [0]"
    )
    parser.add_argument(
        "--step-seconds", type=float, default=5.0, help="length of each calibration step [5]"
    )
    parser.add_argument("--customers", type=int, default=10_000, help="dataset size [10000]")
    parser.add_argument("--seed", type=int, default=1, help="data and sample seed [1]")
    parser.add_argument(
        "--no-restart",
        dest="restart",
        action="store_false",
        help="do not restart Neo4j at the middle",
    )
    parser.add_argument(
        "--revision",
        help="serve the ctxapi of this git revision (a worktree, as bench.compare makes)"
        " instead of the working tree; the queries stay this checkout's",
    )
    parser.add_argument(
        "--out", type=Path, default=BENCH_DIR, help="where soak.json and SOAK.md go [bench/]"
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.workers < 1 or args.concurrency < 0:
        parser.error("--seconds and --workers must be positive, --concurrency at least 0")
    signal.signal(signal.SIGTERM, _terminate)
    soak = Soak()
    report = None
    try:
        report = run(args, soak)
    except KeyboardInterrupt:
        say("Interrupted.")
    finally:
        if soak.server is not None:
            soak.server.stop()
        if soak.neo4j is not None:
            soak.neo4j.stop(quiet=True)
    if report is not None:
        say("\n" + markdown(report))
        say(f"Written: {args.out / 'soak.json'}, {args.out / 'SOAK.md'}")


if __name__ == "__main__":
    main()
