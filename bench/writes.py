"""The write side in `make bench`: recordInteraction over HTTP, and reads while writes run.

1. ``recordInteraction`` for random customers, every request with a new idempotency key, at
   concurrency 1 and 8: p50/p95/p99 and writes/s.
2. The headline query at concurrency 4 for ``mixed_seconds`` alone (its p99 is the baseline),
   then again with one writer recording contacts as fast as it can beside it: writes/s
   sustained, and the read p99 next to the baseline (aim: at most twice it).

The contacts it writes are removed at the end (they and their Write ledger nodes have ids
that start with ``ctx-`` … and keys of their own), so a reused bench dataset stays as loaded.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson

from ctxapi.config import Settings
from ctxapi.db import Database

RECORD = """
mutation Record($input: RecordInteractionInput!) {
  recordInteraction(input: $input) { interaction { id } userErrors { code } replayed }
}
"""
#: The aim of the mixed run: the headline's p99 beside writes, at most this times its p99 alone.
READ_P99_FACTOR = 2.0
_CLEAN_UP = """
MATCH (i:Interaction) WHERE i.id STARTS WITH 'ctx-' AND i.summary STARTS WITH 'bench:'
WITH i LIMIT 5000 DETACH DELETE i RETURN count(*) AS n
"""
_CLEAN_LEDGER = """
MATCH (w:Write) WHERE w.keyName STARTS WITH 'bench-' AND w.operation = 'recordInteraction'
WITH w LIMIT 5000 DETACH DELETE w RETURN count(*) AS n
"""


def customer_ids(folder: Path, count: int, seed: int) -> list[str]:
    """``count`` customer ids of the dataset, spread over it (reproducibly)."""
    import random

    with (folder / "customers.jsonl").open("rb") as lines:
        ids = [orjson.loads(line)["id"] for line in lines]
    rng = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    return [rng.choice(ids) for _ in range(count)]


def writer(
    post: Callable[[str, dict[str, Any]], tuple[int, bytes] | None],
) -> Callable[[str], bool]:
    """Record one inbound chat for a customer id; True when it was written."""

    def call(customer: str) -> bool:
        contact = {
            "idempotencyKey": uuid.uuid4().hex,
            "customerId": customer,
            "channel": "CHAT",
            "direction": "INBOUND",
            "summary": "bench: asked about a delivery",
            "topic": "where_is_my_order",
        }
        answer = post(RECORD, {"input": contact})
        if answer is None or answer[0] != 200:
            return False
        payload = orjson.loads(answer[1])
        data = (payload.get("data") or {}).get("recordInteraction") or {}
        return (
            "errors" not in payload and data.get("userErrors") == [] and bool(data["interaction"])
        )

    return call


def measure_writes(
    *,
    post: Callable[[str, dict[str, Any]], tuple[int, bytes] | None],
    new_post: Callable[[], Callable[[str, dict[str, Any]], tuple[int, bytes] | None]],
    read: Callable[[str], bool],
    drive: Callable[[Callable[[str], bool], list[str], int], dict[str, Any]],
    customers: list[str],
    emails: list[str],
    mixed_seconds: float,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """The write runs over the server ``post`` reaches; ``read`` asks the headline for an email."""
    found: dict[str, Any] = {}
    record = writer(post)
    drive(record, customers[:20], 2)  # warm-up: plans and connections
    for concurrency in (1, 8):
        say(f"  recordInteraction over HTTP, concurrency {concurrency} ...")
        found[f"record_c{concurrency}"] = drive(record, customers, concurrency)
    say(f"  the headline at concurrency 4 for {mixed_seconds:g} s, alone ...")
    found["reads_alone_c4"] = _for(read, emails, 4, mixed_seconds, drive)
    say(f"  ... and again with a writer beside it for {mixed_seconds:g} s ...")
    stop = threading.Event()
    written: list[float] = []
    failed = [0]
    side = writer(new_post())

    def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            started = time.perf_counter()
            if side(customers[n % len(customers)]):
                written.append(time.perf_counter() - started)
            else:
                failed[0] += 1
            n += 1

    thread = threading.Thread(target=keep_writing, name="bench-writer")
    began = time.perf_counter()
    thread.start()
    try:
        found["reads_with_writes_c4"] = _for(read, emails, 4, mixed_seconds, drive)
    finally:
        stop.set()
        thread.join()
    seconds = time.perf_counter() - began
    found["writes_beside_reads"] = {
        "writes": len(written),
        "errors": failed[0],
        "writes_per_s": round(len(written) / seconds, 1) if seconds else 0.0,
    }
    alone = found["reads_alone_c4"]["p99_ms"]
    found["read_p99_factor"] = round(found["reads_with_writes_c4"]["p99_ms"] / max(alone, 0.001), 2)
    found["read_p99_aim_met"] = found["read_p99_factor"] <= READ_P99_FACTOR
    return found


def _for(
    read: Callable[[str], bool],
    emails: list[str],
    concurrency: int,
    seconds: float,
    drive: Callable[[Callable[[str], bool], list[str], int], dict[str, Any]],
) -> dict[str, Any]:
    """``read`` driven over ``emails`` again and again until ``seconds`` pass (whole rounds)."""
    deadline = time.monotonic() + seconds
    latencies: list[dict[str, Any]] = []
    while True:
        latencies.append(drive(read, emails, concurrency))
        if time.monotonic() >= deadline:
            break
    if len(latencies) == 1:
        return latencies[0]
    # merge the rounds: the percentiles of the last round are as good as any, but the
    # request count and rate cover them all
    merged = dict(latencies[-1])
    merged["requests"] = sum(r["requests"] for r in latencies)
    merged["errors"] = sum(r["errors"] for r in latencies)
    return merged


def clean_up(settings: Settings) -> int:
    """Remove what the write runs wrote; how many contacts went."""
    removed = 0
    with closing(Database(settings)) as database:
        while True:
            n = database.write(lambda tx: tx.run(_CLEAN_UP).single(strict=True)["n"])
            removed += n
            if not n:
                break
        while database.write(lambda tx: tx.run(_CLEAN_LEDGER).single(strict=True)["n"]):
            pass
    return int(removed)


def writes_markdown(datasets: list[dict[str, Any]]) -> list[str]:
    """The write runs' table (the datasets that have them)."""
    rows = [r for r in datasets if r.get("writes")]
    if not rows:
        return []
    lines = [
        "",
        "## Writes",
        "",
        "`recordInteraction` over HTTP, a new idempotency key per request (each write is one"
        " transaction: the customer and references checked, the contact and its `Write` ledger"
        " node created); then the headline at concurrency 4 alone and beside one writer"
        f" recording contacts as fast as it can (aim: read p99 at most {READ_P99_FACTOR:g}x"
        " its p99 alone).",
        "",
        "| customers | record c1 p50 / p99 ms | record c8 p50 / p99 ms (writes/s) | reads c4 p99"
        " alone / beside writes ms | writes/s beside reads | read p99 factor |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        w = r["writes"]
        c1, c8 = w["record_c1"], w["record_c8"]
        alone, mixed = w["reads_alone_c4"], w["reads_with_writes_c4"]
        met = "met" if w["read_p99_aim_met"] else "**missed**"
        lines.append(
            f"| {r['customers']:,} | {c1['p50_ms']} / {c1['p99_ms']} | {c8['p50_ms']} /"
            f" {c8['p99_ms']} ({c8['requests_per_s']}) | {alone['p99_ms']} / {mixed['p99_ms']}"
            f" | {w['writes_beside_reads']['writes_per_s']} | {w['read_p99_factor']} ({met}) |"
        )
    return lines
