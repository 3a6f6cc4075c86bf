"""`python -m bench.compare REV`: this checkout against another revision, side by side.

Both APIs serve from one Neo4j with one dataset (the benchmark's, generated and loaded once and
kept under .ctxapi/bench/), each with the same number of gunicorn workers and its own headline
query file, and every customer is asked of both, in alternating order, at concurrency 1 after
a warm-up. So both see the same machine at the same moments: a refactor that should change
nothing can be shown to be within noise, and a speed-up measured against its base. The other
revision is checked out as a git worktree under .ctxapi/bench/ and served with this venv.
Traffic goes to 127.0.0.1 only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from bench.run import (
    HEADLINE,
    Plan,
    Server,
    bench_key,
    emails,
    ensure_data,
    http_caller,
    load,
    percentile,
    say,
)
from ctxapi.access.keys import Scope
from ctxapi.config import PROJECT_ROOT, Settings, default_home
from ctxapi.db import Database
from ctxapi.migrations import apply
from ctxapi.neo4j_local import LocalNeo4j, free_port


def worktree(revision: str, home: Path) -> tuple[Path, str]:
    """A checkout of ``revision`` (made once per commit), and the commit's short id."""
    sha = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short", revision],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    folder = home / "bench" / f"worktree-{sha}"
    if not (folder / "ctxapi").exists():
        subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "worktree", "add", "--detach", "--force",
             str(folder), sha],
            check=True,
            capture_output=True,
        )  # fmt: skip
    return folder, sha


def interleaved(
    callers: dict[str, Callable[[str], bool]], keys: list[str]
) -> dict[str, dict[str, Any]]:
    """Each key asked of every caller, the order turned round on every key."""
    latencies: dict[str, list[float]] = {name: [] for name in callers}
    errors = dict.fromkeys(callers, 0)
    names = list(callers)
    for position, key in enumerate(keys):
        for name in names if position % 2 == 0 else reversed(names):
            started = time.perf_counter()
            ok = callers[name](key)
            latencies[name].append((time.perf_counter() - started) * 1000)
            errors[name] += 0 if ok else 1
    return {
        name: {
            "requests": len(values),
            "errors": errors[name],
            "p50_ms": round(percentile(values, 50), 2),
            "p95_ms": round(percentile(values, 95), 2),
            "p99_ms": round(percentile(values, 99), 2),
        }
        for name, values in latencies.items()
    }


def key_check_microseconds(settings: Settings, checks: int = 20_000) -> float:
    """The mean cost of a cached key check (the hot path: every request after the first of
    a key within its cache time), in microseconds."""
    from ctxapi.access.guard import Authenticator
    from ctxapi.access.keys import KeyStore

    header = bench_key(settings)
    with closing(Database(settings)) as database:
        authenticator = Authenticator(KeyStore(database), ttl=3600)
        authenticator.authenticate(header)  # the miss: one read
        started = time.perf_counter()
        for _ in range(checks):
            authenticator.authenticate(header)
        return round((time.perf_counter() - started) / checks * 1e6, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revision", nargs="?", default="HEAD~1", help="git revision [HEAD~1]")
    parser.add_argument("--customers", type=int, default=10_000, help="dataset size [10000]")
    parser.add_argument("--requests", type=int, default=1000, help="per API and profile [1000]")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers each [3]")
    parser.add_argument("--seed", type=int, default=1, help="data and sample seed [1]")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    home = default_home()
    plan = Plan([args.customers], args.seed, args.requests, 200, args.workers, home, home)
    other, sha = worktree(args.revision, home)
    folder = ensure_data(plan, args.customers)
    work = home / "bench" / f"neo4j-{args.customers}-{args.seed}"
    work.mkdir(parents=True, exist_ok=True)
    neo4j = LocalNeo4j(default_home(), root=work / "db", port=free_port())
    neo4j.start(quiet=True)
    try:
        settings = Settings(neo4j_uri=neo4j.uri, neo4j_password=neo4j.password())
        database = Database(settings)
        apply(database)
        database.close()
        if not (work / "loaded.json").exists():
            say(f"Loading {args.customers:,} customers ...")
            (work / "loaded.json").write_text(json.dumps(load(settings, folder, work)))
        keys = emails(folder, args.requests + plan.warmup, args.seed)
        this, base = Server(settings, args.workers), Server(settings, args.workers, other)
        try:
            queries = {
                "this": HEADLINE.read_text(),
                sha: (other / "schema" / "queries" / "customer_context.graphql").read_text(),
            }
            servers = {"this": this, sha: base}
            # This checkout's server answers a second key too, without pii:read: its answers
            # are masked and not audited (the first key's are unmasked, and audited).
            masked = bench_key(settings, (Scope.CONTEXT_READ,))
            results: dict[str, Any] = {"revision": sha, "customers": args.customers}
            results["key_check_us"] = key_check_microseconds(settings)
            profiles: list[tuple[str, dict[str, Any]]] = [
                ("headline", {}),
                ("with insights", {"withInsights": True}),
            ]
            for profile, extra in profiles:
                callers = {
                    name: http_caller(servers[name], queries[name], **extra) for name in servers
                }
                callers["this, masked"] = http_caller(this, queries["this"], masked, **extra)
                interleaved(callers, keys)  # warm both: page cache, plan caches, parsed documents
                say(f"  {profile}: {args.requests} requests each, interleaved ...")
                results[profile] = interleaved(callers, keys[plan.warmup :])
        finally:
            this.stop()
            base.stop()
    finally:
        neo4j.stop(quiet=True)
    say(
        f"\n| profile | this p50 / p95 / p99 (ms) | this, masked p50 / p95 / p99 (ms)"
        f" | {sha} p50 / p95 / p99 (ms) | p50 ratio | masked p50 ratio |"
    )
    say("|---|---|---|---|---|---|")
    for profile in ("headline", "with insights"):
        a, m, b = (results[profile][name] for name in ("this", "this, masked", sha))
        ratio, masked_ratio = (x["p50_ms"] / max(b["p50_ms"], 0.001) for x in (a, m))
        say(
            f"| {profile} | {a['p50_ms']} / {a['p95_ms']} / {a['p99_ms']} "
            f"| {m['p50_ms']} / {m['p95_ms']} / {m['p99_ms']} "
            f"| {b['p50_ms']} / {b['p95_ms']} / {b['p99_ms']} | {ratio:.2f} | {masked_ratio:.2f} |"
        )
        for name in (a, m, b):
            if name["errors"]:
                say(f"  {profile}: {name['errors']} failed request(s)")
    say(f"\nA cached API key check in-process: {results['key_check_us']} µs.")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
