"""The streaming loader behind ``ctxapi seed load``.

Reads files line by line (memory stays flat whatever their size), validates every record with
its marshmallow schema (a plainly valid one by the schema's fast path, ``store.fastschema``:
the same record, a third of the time), and writes batches in managed write transactions on a
writer thread (``seeding.writing``: new records created, changed ones merged, repeats only
counted), so that validation and Neo4j work overlap within a file (a file's writes end before
the next file is read: it may reference them, and its rejects come after them). A record that
fails — bad JSON, a key twice, wrong encoding, over the size limit, a field error, a reference
to something that does not exist, a constraint the database enforces — goes to the rejects file
with its file, line, raw text and reasons; the rest loads. A record may carry an ``op``
(``upsert``, ``patch``, ``delete``: ``ctxapi.store.deltas``). A record of an erased customer
(a tombstone's, ``ctxapi.store.tombstones``) is ``suppressed``: neither written nor rejected,
only counted and listed. ``read`` is the sum of the ``OUTCOMES``, ``suppressed`` and
``rejected``. A ``.gz`` that breaks off stops the load once what was read before the break is
written (``seeding.reading`` reads the files).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import orjson
from marshmallow import ValidationError
from neo4j.exceptions import ConstraintError, Neo4jError

from ctxapi.db import Database, DatabaseUnavailable
from ctxapi.seeding.reading import DEFAULT_MAX_RECORD_BYTES, CorruptFile, Origin, parse_records
from ctxapi.seeding.shift import shifted
from ctxapi.seeding.writing import Item, Writer, batch_work, constraint_reason
from ctxapi.store import ops
from ctxapi.store.fastschema import compile_schema
from ctxapi.store.graph import RECORD_TYPES, RecordType
from ctxapi.store.tombstones import PepperError, Tombstones

log = logging.getLogger(__name__)

SUFFIXES = (".jsonl", ".jsonl.gz", ".csv", ".csv.gz")
DEFAULT_BATCH_SIZE = 5000
#: What a record that is not rejected comes to (a field of TypeStats each, in this order);
#: the write queries return counts by these names.
OUTCOMES = ("created", "updated", "unchanged", "deleted")


class LoadError(Exception):
    """The load cannot go on (unknown file, database gone); the message says what to do.

    ``summary`` is what was loaded when the load stopped part-way through a file.
    """

    def __init__(self, message: str, summary: Summary | None = None) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass
class TypeStats:
    """What happened to the records of one type."""

    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    suppressed: int = 0
    rejected: int = 0
    seconds: float = 0.0

    @property
    def loaded(self) -> int:
        """The records applied: every outcome but rejected."""
        return sum(getattr(self, outcome) for outcome in OUTCOMES)


@dataclass
class Summary:
    """The outcome of a load, per record type, in load order."""

    stats: dict[str, TypeStats] = field(default_factory=dict)
    seconds: float = 0.0
    rejects_path: Path | None = None
    dry_run: bool = False
    #: Each suppressed record: file, line, type and why (no personal data).
    suppressed: list[dict[str, Any]] = field(default_factory=list)

    def of(self, name: str) -> TypeStats:
        return self.stats.setdefault(name, TypeStats())

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain data (``--summary-json``)."""
        return {
            "types": {name: asdict(stats) for name, stats in self.stats.items()},
            "total": asdict(self.total) | {"seconds": self.seconds},
            "seconds": self.seconds,
            "dry_run": self.dry_run,
            "rejects": str(self.rejects_path) if self.rejects_path else None,
            "suppressed": self.suppressed,
        }

    @property
    def total(self) -> TypeStats:
        total = TypeStats()
        for stats in self.stats.values():
            for name in ("read", *OUTCOMES, "suppressed", "rejected"):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
        return total


class Rejects:
    """The rejects file: one JSON object per rejected record (thread-safe, opened on demand)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._file: IO[bytes] | None = None
        self._lock = threading.Lock()

    def add(self, origin: Origin, errors: Any) -> None:
        entry = {"file": origin.file, "line": origin.line, "raw": origin.raw, "errors": errors}
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("wb")
            # Errors of list items are keyed by their index, an int.
            self._file.write(orjson.dumps(entry, option=orjson.OPT_NON_STR_KEYS) + b"\n")
            self.count += 1

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def record_type_of(path: Path) -> RecordType | None:
    """The record type a file holds, from its name: ``orders.jsonl``, ``orders-2024.csv`` …"""
    name = path.name
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            for record_type in RECORD_TYPES:
                if stem == record_type.name or stem.startswith(
                    (f"{record_type.name}-", f"{record_type.name}_", f"{record_type.name}.")
                ):
                    if suffix.startswith(".csv") and not record_type.csv:
                        raise LoadError(
                            f"{path}: {record_type.name} records nest lists, so they come as "
                            "JSON Lines (.jsonl), not CSV"
                        )
                    return record_type
    return None


def discover(paths: Iterable[Path]) -> list[tuple[RecordType, Path]]:
    """The files to load, in dependency order; folders are searched (not recursively)."""
    found: list[tuple[RecordType, Path]] = []
    for path in paths:
        if not path.exists():
            raise LoadError(f"{path}: no such file or folder")
        candidates = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        for candidate in candidates:
            record_type = record_type_of(candidate)
            if record_type is None:
                if path.is_dir() and not candidate.name.endswith(SUFFIXES):
                    continue  # READMEs and such beside the data
                names = ", ".join(t.name for t in RECORD_TYPES)
                raise LoadError(
                    f"{candidate}: cannot tell the record type from the name; name files "
                    f"<type>.jsonl or <type>.csv with <type> one of {names}"
                )
            found.append((record_type, candidate))
    order = {record_type.name: n for n, record_type in enumerate(RECORD_TYPES)}
    return sorted(found, key=lambda pair: (order[pair[0].name], str(pair[1])))


Progress = Callable[[Path, int, int], None]  # (file, records so far, bytes so far)


class Loader:
    """Loads files into the graph; one instance per run."""

    def __init__(
        self,
        db: Database | None,
        *,
        rejects: Rejects,
        batch_size: int = DEFAULT_BATCH_SIZE,
        phone_region: str = "US",
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        progress: Callable[[Path, int], Progress] | None = None,
        pepper: str | None = None,
        shift: timedelta | None = None,
    ) -> None:
        self.db = db
        self.shift = shift  # every time moved by this (ctxapi.seeding.shift)
        self.rejects = rejects
        self.batch_size = batch_size
        self.phone_region = phone_region
        self.max_record_bytes = max_record_bytes
        self.progress = progress
        self.summary = Summary(rejects_path=rejects.path, dry_run=db is None)
        self.tombstones = Tombstones(pepper)
        self._lock = threading.Lock()

    # -- reading and validating (main thread) ----------------------------------------------
    def load(self, files: list[tuple[RecordType, Path]]) -> Summary:
        """Load every file; raise LoadError if the database goes away or a file breaks off."""
        started = time.perf_counter()
        writer = Writer(self.write_batch, _failed) if self.db is not None else None
        try:
            for record_type, path in files:
                begun = time.perf_counter()
                try:
                    self._load_file(record_type, path, writer)
                    if writer is not None:
                        # The next type may reference this one; and a file's rejects are all
                        # written before the next file's (the same order whatever the timing:
                        # `seed import` writes the same rejects file).
                        writer.drain()
                finally:
                    self.summary.of(record_type.name).seconds += time.perf_counter() - begun
        finally:
            if writer is not None:
                writer.stop()
            self.rejects.close()
            self.summary.seconds = time.perf_counter() - started
        return self.summary

    def _load_file(self, record_type: RecordType, path: Path, writer: Writer | None) -> None:
        stats = self.summary.of(record_type.name)
        schema = record_type.schema()
        schema.phone_region = self.phone_region  # type: ignore[attr-defined]
        fast = compile_schema(schema)
        tick = self.progress(path, path.stat().st_size) if self.progress else None
        batch: list[Item] = []
        keys: set[Any] = set()
        records = 0
        before = (stats.read, stats.loaded, stats.rejected)
        try:
            for origin, data, errors, position in parse_records(path, self.max_record_bytes):
                records += 1
                with self._lock:
                    stats.read += 1
                if data is not None:
                    try:
                        op, record = ops.validate(record_type, schema, data, fast)
                        record = shifted(record, self.shift) if self.shift else record
                    except ValidationError as error:
                        errors = error.messages
                if errors is not None:
                    self._reject(stats, origin, errors)
                elif writer is None:
                    with self._lock:
                        stats.created += 1  # dry run: "valid"
                else:
                    key = record_type.key(record)
                    if key in keys:  # the same record twice: write the first before the second
                        writer.submit(record_type, batch)
                        batch, keys = [], set()
                    keys.add(key)
                    row = ops.to_row(record_type, op, record)
                    refs = ops.references(record_type, op, record)
                    batch.append(Item(row, refs, origin, op))
                    if len(batch) >= self.batch_size:
                        writer.submit(record_type, batch)
                        batch, keys = [], set()
                if tick is not None and records % 500 == 0:
                    tick(path, records, position)
        except CorruptFile as error:
            if writer is not None:  # what was read before the damage loads
                writer.submit(record_type, batch)
                writer.drain()
            counts = (stats.read, stats.loaded, stats.rejected)
            done = [now - then for now, then in zip(counts, before, strict=True)]
            message = _broken_off(error, *done, dry_run=writer is None)
            raise LoadError(message, self.summary) from None
        if batch and writer is not None:
            writer.submit(record_type, batch)
        if tick is not None:
            tick(path, records, path.stat().st_size)

    def _reject(self, stats: TypeStats, origin: Origin, errors: Any) -> None:
        self.rejects.add(origin, errors)
        with self._lock:
            stats.rejected += 1

    # -- writing (writer thread) -----------------------------------------------------------
    def write_batch(self, record_type: RecordType, batch: list[Item]) -> None:
        """Write one batch; a constraint failure retries record by record to find the culprit."""
        assert self.db is not None
        stats = self.summary.of(record_type.name)
        try:
            counts, missing, erased = self.db.write(batch_work(record_type, batch, self.tombstones))
        except ConstraintError:
            if len(batch) == 1:
                self._reject(stats, batch[0].origin, {"_record": [constraint_reason(batch)]})
                return
            for item in batch:
                self.write_batch(record_type, [item])
            return
        for item, reasons in missing:
            self._reject(stats, item.origin, reasons)
        with self._lock:
            for item, why in erased:
                stats.suppressed += 1
                where = {"file": item.origin.file, "line": item.origin.line}
                self.summary.suppressed.append(where | {"type": record_type.name, "reason": why})
            for outcome, n in counts.items():
                setattr(stats, outcome, getattr(stats, outcome) + n)


def _broken_off(error: CorruptFile, read: int, loaded: int, rejected: int, *, dry_run: bool) -> str:
    """The message of a load stopped by a damaged file: where, what of it is in, what next."""
    where = f"after its line {error.lines:,}" if error.lines else "at its start"
    if dry_run:
        run, done, then = "check", f"{loaded:,} are valid", "check it again"
    else:
        run, done = "load", f"{loaded:,} are loaded (they stay loaded)"
        then = "run the same command again: it completes the load without duplicates"
    read_before = f"Of its {read:,} records read before, {done} and {rejected:,} rejected. "
    return (
        f"{error.path} is corrupt or truncated ({error.reason}): the {run} stopped {where}. "
        f"{read_before if read else ''}Repair or replace the file and {then}."
    )


def _failed(failure: BaseException) -> BaseException:
    """What the main thread raises for a failure of the writer thread."""
    if isinstance(failure, DatabaseUnavailable):
        message = (
            f"{failure}; the batches committed so far are kept. Run the same command "
            "again once Neo4j is back: it completes the load without duplicates."
        )
    elif isinstance(failure, PepperError):
        message = str(failure)
    elif isinstance(failure, Neo4jError):
        message = f"Neo4j refused a batch: {failure.message}"
    else:
        return failure
    error = LoadError(message)
    error.__cause__ = failure
    return error
