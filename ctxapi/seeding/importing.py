"""``ctxapi seed import``: a first load that builds a new database with ``neo4j-admin``.

1. The local Neo4j's database is looked at: one that holds data is replaced only when asked
   (``force``); the tombstones of erased customers it holds are read (and kept, see 4).
2. The files are checked as ``seed load`` would load them (``seeding.bulk``): same rejects.
3. What would be written becomes CSV files (``seeding.graphcsv``).
4. The server is stopped, ``neo4j-admin database import full`` builds the database from them
   (with the tombstones), the server is started and the schema migrations applied (among them
   migration 0003, the proactive queue's backfill), and the server is left as it was found.

Nothing is imported when the check refuses (a delta record, a damaged file): the database is
the one it was. A Neo4j ctxapi does not manage (``NEO4J_URI``) is refused: use ``seed load``.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, LiteralString

import orjson
from rich.console import Console

from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.migrations import apply
from ctxapi.neo4j_local import LocalNeo4j, Neo4jLocalError
from ctxapi.seeding.bulk import Checker, ImportRefused
from ctxapi.seeding.graphcsv import write_graph
from ctxapi.seeding.load import DEFAULT_BATCH_SIZE, LoadError, Rejects, Summary, discover
from ctxapi.seeding.reading import DEFAULT_MAX_RECORD_BYTES
from ctxapi.seeding.report import progress_bars, show
from ctxapi.store.tombstones import PepperError, Tombstones

_ANY_DATA: LiteralString = "RETURN EXISTS { MATCH (n) WHERE NOT n:Migration } AS any"
_STONES: LiteralString = (
    "MATCH (t:Tombstone) RETURN t.key AS key, t.kind AS kind, t.erasure AS erasure,"
    " toString(t.at) AS at, toString(date(t.at)) AS day"
)
_PEPPER: LiteralString = "MATCH (p:TombstonePepper {id: 'pepper'}) RETURN p.check AS check"


@dataclass
class Imported:
    """What an import did: the check's summary and how long each step took."""

    summary: Summary
    check_seconds: float
    import_seconds: float
    schema_seconds: float
    counts: dict[str, int]


def _connect(settings: Settings, local: LocalNeo4j) -> Database:
    return Database(replace(settings, neo4j_uri=local.uri, neo4j_password=local.password()))


@contextmanager
def _running(local: LocalNeo4j) -> Iterator[None]:
    """The server running for the block; stopped after it when it was not running before."""
    started = local.start(quiet=True)
    try:
        yield
    finally:
        if started:
            local.stop(quiet=True)


def look_at_target(
    settings: Settings, local: LocalNeo4j, *, force: bool, pepper: str | None
) -> list[dict[str, Any]]:
    """Refuse a database with data unless ``force``; the tombstones (and the pepper's check)
    it holds, to suppress erased customers' records and to keep in the new database."""
    store = local.root / "data" / "databases" / settings.neo4j_database
    if local.pid() is None and not store.exists():
        return []  # never started: nothing to lose
    with _running(local), closing(_connect(settings, local)) as db:
        if db.read(_ANY_DATA)[0]["any"] and not force:
            raise ImportRefused(
                f"the database {settings.neo4j_database!r} of the Neo4j in {local.root} holds "
                "data: `seed import` replaces all of it (customers, API keys, webhooks, the "
                "write ledger; only the tombstones of erased customers are kept). Give --force "
                "to replace it, or add to it with `ctxapi seed load`."
            )
        stones = [dict(record) for record in db.read(_STONES)]
        found = db.read(_PEPPER)
        check = found[0]["check"] if found else None
        if stones or check:
            hasher = Tombstones(pepper)
            try:
                db.write(hasher.verify)
            except PepperError as error:
                raise ImportRefused(str(error)) from None
        if check:
            stones.append({"pepper": check})
        return stones


def import_files(
    console: Console,
    settings: Settings,
    paths: list[Path],
    *,
    local: LocalNeo4j,
    force: bool = False,
    rejects: Path = Path("rejects.jsonl"),
    jobs: int = 2,
    batch_size: int = DEFAULT_BATCH_SIZE,
    phone_region: str = "US",
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    summary_json: Path | None = None,
) -> Imported:
    """Build ``local``'s database from ``paths`` (see the module); raise ImportRefused or
    LoadError with a message that says what to do."""
    started = time.perf_counter()
    files = discover(paths)
    if not files:
        raise LoadError(f"no record files in {', '.join(map(str, paths))}")
    pepper = settings.pepper()
    saved = local.root / "import" / "tombstones-kept.json"
    kept = _kept_stones(settings, local, saved, force=force, pepper=pepper)
    work = local.root / "import" / "seed-import"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, mode=0o700)
    try:
        with progress_bars(console) as bars:
            checker = Checker(
                rejects=Rejects(rejects),
                spool_dir=work,
                jobs=jobs,
                batch_size=batch_size,
                phone_region=phone_region,
                max_record_bytes=max_record_bytes,
                tombstones={s["key"]: s["day"] for s in kept if "key" in s},
                pepper=pepper,
                progress=bars,
            )
            checked = checker.check(files)
        console.print("Writing the graph as CSV files for neo4j-admin ...", highlight=False)
        stones = [{k: s[k] for k in ("key", "kind", "erasure", "at")} if "key" in s else s
                  for s in kept]  # fmt: skip
        graph = write_graph(checked, work, stones)
        checked_at = time.perf_counter()
        console.print("Importing with neo4j-admin (the server is stopped) ...", highlight=False)
        _save(saved, kept)  # until an import succeeds: the store is overwritten from here on
        running = local.stop(quiet=True)
        try:
            _admin_import(settings, local, graph.arguments())
        except ImportRefused as refused:
            raise ImportRefused(f"{refused}{_restarted(local, running)}") from None
        saved.unlink(missing_ok=True)
        imported_at = time.perf_counter()
        console.print("Starting Neo4j and applying the graph schema ...", highlight=False)
        local.start(quiet=True)
        try:
            with closing(_connect(settings, local)) as db:
                apply(db)
        finally:
            if not running:
                local.stop(quiet=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    done = time.perf_counter()
    summary = checked.summary
    summary.seconds = done - started
    show(console, summary, summary_json)
    return Imported(
        summary, checked_at - started, imported_at - checked_at, done - imported_at, graph.counts
    )


def _kept_stones(
    settings: Settings, local: LocalNeo4j, saved: Path, *, force: bool, pepper: str | None
) -> list[dict[str, Any]]:
    """The tombstones to keep: the database's, and those a failed import saved (its store
    may not even start: with ``force``, the saved ones are enough)."""
    earlier: list[dict[str, Any]] = orjson.loads(saved.read_bytes()) if saved.exists() else []
    try:
        found = look_at_target(settings, local, force=force, pepper=pepper)
    except Neo4jLocalError:
        if not (earlier and force):
            raise
        found = []
    keys = {stone.get("key", "pepper") for stone in found}
    return found + [stone for stone in earlier if stone.get("key", "pepper") not in keys]


def _save(saved: Path, stones: list[dict[str, Any]]) -> None:
    saved.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    saved.write_bytes(orjson.dumps(stones))
    saved.chmod(0o600)


def _restarted(local: LocalNeo4j, running: bool) -> str:
    """Start the server again if it was running; what to tell the user about it."""
    if not running:
        return ""
    try:
        local.start(quiet=True)
    except Neo4jLocalError:
        return "\nThe server could not start on what neo4j-admin left; import again."
    return "\nThe server is running again."


def _admin_import(settings: Settings, local: LocalNeo4j, files: list[str]) -> None:
    report = local.root / "logs" / "import.report"
    done = local.admin(
        "database",
        "import",
        "full",
        settings.neo4j_database,
        "--overwrite-destination=true",
        "--bad-tolerance=0",
        f"--report-file={report}",
        f"--max-off-heap-memory={local.pagecache}",
        *files,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise ImportRefused(
            f"neo4j-admin could not import (exit {done.returncode}); the database is as "
            "neo4j-admin left it (unusable, mostly): run the import again with --force once "
            "the cause is fixed. The tombstones of erased customers are saved, and the next "
            f"import keeps them.\n{tail}"
        )
