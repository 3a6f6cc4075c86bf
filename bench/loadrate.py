"""How fast `ctxapi seed load` writes: records/s per type into a fresh Neo4j.

    python -m bench.loadrate --customers 20000            # a first load, then a rerun
    python -m bench.loadrate --customers 20000 --dry-run  # reading and validation alone
    python -m bench.loadrate --customers 20000 --profile out/  # cProfile of both threads

Generates the data once (``--data``, default .ctxapi/bench/data-<customers>-<seed>/, the folder
`make bench` uses), starts a throwaway Neo4j of its own (deleted at the end; ``NEO4J_URI``: that
server instead, which should be empty), applies the migrations, and runs the loader in this
process: a first load, then the same files again (every record ``unchanged``). Prints
records/s per type and in total for each pass, and the CPU seconds the loader and Neo4j spent
(less sensitive than the wall clock to other work on a shared machine: say so beside the
figures).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import resource
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ctxapi.config import Settings, default_home
from ctxapi.db import Database
from ctxapi.migrations import apply
from ctxapi.neo4j_local import LocalNeo4j, free_port
from ctxapi.seeding.generate import Generator
from ctxapi.seeding.load import DEFAULT_BATCH_SIZE, Loader, Rejects, Summary, discover


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=None, help="the generated files' folder")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--dry-run", action="store_true", help="validate only; no Neo4j")
    parser.add_argument("--passes", type=int, default=2, help="loads of the same files")
    parser.add_argument("--profile", type=Path, default=None, help="folder for cProfile dumps")
    parser.add_argument("--heap", default="2g")
    parser.add_argument("--pagecache", default="2g")
    args = parser.parse_args()
    home = Path(os.environ.get("CTXAPI_HOME") or default_home())
    data = args.data or home / "bench" / f"data-{args.customers}-{args.seed}"
    if not (data / "feedback.jsonl").exists():
        print(f"generating {args.customers:,} customers into {data} ...", flush=True)
        Generator(args.customers, args.seed).run(data)
    files = discover([data])
    with _database(home, args) as (db, server_pid):
        for n in range(1 if args.dry_run else args.passes):
            cpu = _cpu(server_pid)
            loader = Loader(
                db, rejects=Rejects(Path(tempfile.mkdtemp()) / "r.jsonl"),
                batch_size=args.batch_size,
            )  # fmt: skip
            with _profiled(args.profile, f"pass{n + 1}", loader):
                summary = loader.load(files)
            _report(f"pass {n + 1}" + (" (dry run)" if args.dry_run else ""), summary)
            (own, neo4j), (own_before, neo4j_before) = _cpu(server_pid), cpu
            own, neo4j = own - own_before, neo4j - neo4j_before
            per_cpu = summary.total.read / (own + neo4j)
            print(f"  CPU seconds: loader {own:.1f}, Neo4j {neo4j:.1f} "
                  f"({per_cpu:,.0f} records per CPU second)\n", flush=True)  # fmt: skip


@contextmanager
def _database(home: Path, args: argparse.Namespace) -> Iterator[tuple[Database | None, int | None]]:
    """The database to load into, and its server's process id when it is ours."""
    if args.dry_run:
        yield None, None
        return
    if os.environ.get("NEO4J_URI"):
        settings = Settings(
            neo4j_uri=os.environ["NEO4J_URI"], neo4j_password=os.environ.get("NEO4J_PASSWORD", "")
        )
        server = None
    else:
        root = Path(tempfile.mkdtemp(prefix="loadrate-"))
        server = LocalNeo4j(
            home, root=root, port=free_port(), heap=args.heap, pagecache=args.pagecache
        )
        server.start(ephemeral=True, quiet=True)
        settings = Settings(neo4j_uri=server.uri, neo4j_password=server.password())
    db = Database(settings)
    try:
        apply(db)
        yield db, server.pid() if server is not None else None
    finally:
        db.close()
        if server is not None:
            server.stop(quiet=True)
            shutil.rmtree(server.root, ignore_errors=True)


@contextmanager
def _profiled(folder: Path | None, name: str, loader: Loader) -> Iterator[None]:
    """cProfile the main thread (reading, validating) and the writer thread (each batch)."""
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    main, writers = cProfile.Profile(), cProfile.Profile()
    write: Callable[..., Any] = loader.write_batch
    lock = threading.Lock()

    def profiled(*args: Any, **kwargs: Any) -> Any:
        with lock:  # one profiler, one thread at a time
            writers.enable()
            try:
                return write(*args, **kwargs)
            finally:
                writers.disable()

    loader.write_batch = profiled  # type: ignore[method-assign]
    main.enable()
    try:
        yield
    finally:
        main.disable()
        main.dump_stats(folder / f"{name}-main.prof")
        writers.dump_stats(folder / f"{name}-writer.prof")


def _cpu(pid: int | None) -> tuple[float, float]:
    """CPU seconds so far: this process (every thread), and the process ``pid`` (Neo4j)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    other = 0.0
    if pid is not None:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        other = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own.ru_utime + own.ru_stime, other


def _report(title: str, summary: Summary) -> None:
    print(f"{title}: {summary.total.read:,} records in {summary.seconds:.1f} s = "
          f"{summary.total.read / summary.seconds:,.0f} records/s")  # fmt: skip
    for name, stats in summary.stats.items():
        rate = stats.read / stats.seconds if stats.seconds else 0.0
        outcomes = ", ".join(
            f"{o} {getattr(stats, o):,}"
            for o in ("created", "updated", "unchanged", "deleted", "suppressed", "rejected")
            if getattr(stats, o)
        )
        print(f"  {name:<13}{stats.read:>9,} {stats.seconds:7.1f} s {rate:>9,.0f}/s  {outcomes}")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"done in {time.perf_counter() - started:.0f} s")
