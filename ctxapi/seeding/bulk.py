"""The checking half of ``ctxapi seed import``: what ``seed load`` would write, found without a
database.

The files are read and parsed here as ``seed load`` reads them (``seeding.reading``), the
records validated by the same schemas (``store.ops.validate``: the marshmallow schemas,
identity normalization) in worker processes, and the checks ``seed load`` asks Neo4j for —
references to records that do not exist, an order number that belongs to another order, an
erased customer's tombstone — answered from what the files themselves hold: every type comes
after the types it references (``store.graph.RECORD_TYPES``), so when a record is checked,
everything it may name has been read. Batches are kept as ``seed load`` makes them (a key
twice, or ``batch_size`` records), and a batch's reference and constraint rejects are written
where ``seed load``'s writer thread writes them when it is slower than its reader (``LAG``
batches behind, all of a file's before the next file), so the rejects file is the same.
What ``seed load`` would write goes to a spool per type (JSON Lines of the write queries'
rows); the last accepted record of a key wins, as in the database. Only upserts: a delta
record (``patch``, ``delete``) stops the check.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import IO, Any

import orjson
from marshmallow import ValidationError

from ctxapi.seeding.load import (
    DEFAULT_BATCH_SIZE,
    Progress,
    Rejects,
    Summary,
    TypeStats,
)
from ctxapi.seeding.reading import DEFAULT_MAX_RECORD_BYTES, CorruptFile, Origin, parse_records
from ctxapi.seeding.writing import Item as LoadItem
from ctxapi.seeding.writing import constraint_reason
from ctxapi.store import ops
from ctxapi.store.fastschema import compile_schema
from ctxapi.store.graph import BY_NAME, RecordType, Reference
from ctxapi.store.references import describe
from ctxapi.store.tombstones import Tombstones, keys_of

#: The record type whose keys a reference of a label names (``store.graph`` references).
TYPE_OF_LABEL = {
    "Brand": "brands", "Agent": "agents", "Product": "products", "Customer": "customers",
    "Order": "orders", "Shipment": "shipments", "Return": "returns", "Case": "cases",
    "Interaction": "interactions", "Identity": "identities",
}  # fmt: skip
CHUNK = 1000  # records per piece of work handed to a worker
#: Batches seed load's writer may still hold when the reader submits the next: its queue's
#: two and the one it writes. Their rejects come after the records read meanwhile.
LAG = 3
WINDOW = 8  # pieces of work in flight


class ImportRefused(Exception):
    """The files cannot be imported as they are; the message says why and what to do."""


@dataclass(frozen=True)
class Item:
    """A validated record: its write row, references and key, and where it came from."""

    row: dict[str, Any]
    references: list[Reference]
    key: Any
    origin: Origin


@dataclass
class Checked:
    """What the check found: the summary, and per type the spool and its winning rows."""

    summary: Summary
    spools: dict[str, Path] = field(default_factory=dict)
    #: type → key → (content hash, the row's index in the spool) of what the graph would hold
    winners: dict[str, dict[Any, tuple[str, int]]] = field(default_factory=dict)


# -- validation, in worker processes -------------------------------------------------------
_SCHEMAS: dict[tuple[str, str], Any] = {}


def _validate(type_name: str, region: str, datas: list[dict[str, Any] | None]) -> list[Any]:
    """Each record of ``datas`` validated: ``(errors,)`` or ``(op, row, references, key)``."""
    record_type = BY_NAME[type_name]
    found = _SCHEMAS.get((type_name, region))
    if found is None:
        schema = record_type.schema()
        schema.phone_region = region  # type: ignore[attr-defined]
        found = _SCHEMAS[(type_name, region)] = (schema, compile_schema(schema))
    schema, fast = found  # the fast path as seed load's: the same records, the same rejects
    out: list[Any] = []
    for data in datas:
        if data is None:
            out.append(None)
            continue
        try:
            op, record = ops.validate(record_type, schema, data, fast)
        except ValidationError as error:
            out.append((error.messages,))
            continue
        row = ops.to_row(record_type, op, record)
        out.append((op, row, ops.references(record_type, op, record), record_type.key(record)))
    return out


# -- the check, in order -------------------------------------------------------------------
Piece = tuple[RecordType, Path, list[tuple[Origin, Any, int]]]  # (origin, errors, position)


class Checker:
    """Reads, validates and checks files as ``seed load`` would load them into an empty graph."""

    def __init__(
        self,
        *,
        rejects: Rejects,
        spool_dir: Path,
        jobs: int = 2,
        batch_size: int = DEFAULT_BATCH_SIZE,
        phone_region: str = "US",
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        tombstones: dict[str, str] | None = None,
        pepper: str | None = None,
        progress: Callable[[Path, int], Progress] | None = None,
    ) -> None:
        self.rejects = rejects
        self.spool_dir = spool_dir
        self.jobs = jobs
        self.batch_size = batch_size
        self.phone_region = phone_region
        self.max_record_bytes = max_record_bytes
        self.stones = tombstones or {}  # tombstone key → the day it was made
        self.hasher = Tombstones(pepper)
        self.progress = progress
        self.checked = Checked(Summary(rejects_path=rejects.path))
        self._numbers: dict[str, str] = {}  # order number → the order that holds it
        self._number_of: dict[str, str] = {}  # order → its number (a new one frees the old)
        self._spool: IO[bytes] | None = None
        self._spooled = 0
        # The rejects of the batches seed load's writer thread still has (LAG at most)
        self._held: deque[list[tuple[Origin, Any]]] = deque()

    def check(self, files: list[tuple[RecordType, Path]]) -> Checked:
        """Check every file in order; ImportRefused for a damaged file or a delta record."""
        started = time.perf_counter()
        pool = multiprocessing.get_context("forkserver").Pool(self.jobs) if self.jobs > 1 else None
        try:
            current: tuple[RecordType, Path] | None = None
            batch: list[Item] = []
            keys: set[Any] = set()
            begun = time.perf_counter()
            for record_type, path, results in self._validated(files, pool):
                if current != (record_type, path):
                    if current is not None:
                        self._flush(current[0], batch)
                        batch, keys = [], set()
                        self._close_file(current[0], begun)
                    current, begun = (record_type, path), time.perf_counter()
                    self._open_spool(record_type)
                for (origin, errors, _), result in results:
                    batch, keys = self._take(record_type, origin, errors, result, batch, keys)
            if current is not None:
                self._flush(current[0], batch)
                self._close_file(current[0], begun)
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()
            if self._spool is not None:
                self._spool.close()
            self.rejects.close()
            self.checked.summary.seconds = time.perf_counter() - started
        return self.checked

    def _take(
        self,
        record_type: RecordType,
        origin: Origin,
        errors: Any,
        result: Any,
        batch: list[Item],
        keys: set[Any],
    ) -> tuple[list[Item], set[Any]]:
        stats = self.checked.summary.of(record_type.name)
        stats.read += 1
        if result is not None and len(result) == 1:
            errors = result[0]
        if errors is not None:
            self.rejects.add(origin, errors)
            stats.rejected += 1
            return batch, keys
        op, row, references, key = result
        if op is not ops.Op.UPSERT:
            raise ImportRefused(
                f"{origin.file}, line {origin.line}: a {op} record. `seed import` builds a new "
                "database from full exports (upserts); import those, then apply deltas with "
                "`ctxapi seed load`."
            )
        if key in keys:  # the same record twice: the first is written before the second
            self._flush(record_type, batch)
            batch, keys = [], set()
        keys.add(key)
        batch.append(Item(row, references, key, origin))
        if len(batch) >= self.batch_size:
            self._flush(record_type, batch)
            batch, keys = [], set()
        return batch, keys

    def _flush(self, record_type: RecordType, batch: list[Item]) -> None:
        """What ``seed load``'s write of ``batch`` does: erased customers' records set aside,
        references checked, order numbers kept unique, the rest written (here: spooled)."""
        summary = self.checked.summary
        stats = summary.of(record_type.name)
        held: list[tuple[Origin, Any]] = []
        for item in batch:
            why = self._erased(record_type.name, item.row)
            if why is not None:
                stats.suppressed += 1
                where = {"file": item.origin.file, "line": item.origin.line}
                summary.suppressed.append(where | {"type": record_type.name, "reason": why})
                continue
            reasons = [describe(ref) for ref in item.references if not self._exists(ref)]
            if reasons:
                held.append((item.origin, {"_references": reasons}))
                stats.rejected += 1
                continue
            refused = self._write(record_type, stats, item)
            if refused is not None:
                held.append((item.origin, refused))
        if batch:
            self._held.append(held)
        while len(self._held) > LAG:
            self._release()

    def _release(self) -> None:
        """Write the rejects of the oldest batch seed load's writer would have written."""
        for origin, errors in self._held.popleft():
            self.rejects.add(origin, errors)

    def _write(self, record_type: RecordType, stats: TypeStats, item: Item) -> Any:
        """Count and spool ``item`` as its write would; the reject's errors if it breaks the
        order numbers' uniqueness."""
        winners = self.checked.winners.setdefault(record_type.name, {})
        digest = item.row["hash"]
        old = winners.get(item.key)
        if old is not None and old[0] == digest:
            stats.unchanged += 1
            return None
        if record_type.name == "orders":
            number = item.row["props"]["number"]
            holder = self._numbers.get(number)
            if holder is not None and holder != item.key:
                reason = constraint_reason([LoadItem(item.row, item.references, item.origin)])
                stats.rejected += 1
                return {"_record": [reason]}
            before = self._number_of.get(item.key)
            if before is not None and before != number and self._numbers.get(before) == item.key:
                del self._numbers[before]  # as in Neo4j: the order no longer holds it
            self._numbers[number] = item.key
            self._number_of[item.key] = number
        if old is None:
            stats.created += 1
        else:
            stats.updated += 1
        assert self._spool is not None
        self._spool.write(orjson.dumps(item.row) + b"\n")
        winners[item.key] = (digest, self._spooled)
        self._spooled += 1
        return None

    def _exists(self, ref: Reference) -> bool:
        label, value = ref
        return value in self.checked.winners.get(TYPE_OF_LABEL[label], {})

    def _erased(self, type_name: str, row: dict[str, Any]) -> str | None:
        if not self.stones:
            return None
        for parts in keys_of(type_name, row):
            day = self.stones.get(self.hasher.key(*parts))
            if day is not None:
                return f"erased on {day}"
        return None

    def _open_spool(self, record_type: RecordType) -> None:
        """The spool of ``record_type`` (files of one type come one after the other)."""
        if record_type.name in self.checked.spools:
            return
        if self._spool is not None:
            self._spool.close()
        spool = self.spool_dir / f"{record_type.name}.rows.jsonl"
        self.checked.spools[record_type.name] = spool
        self._spool, self._spooled = spool.open("wb"), 0

    def _close_file(self, record_type: RecordType, begun: float) -> None:
        while self._held:  # seed load drains its writer after each file
            self._release()
        self.checked.summary.of(record_type.name).seconds += time.perf_counter() - begun

    # -- reading and handing out the validation ------------------------------------------
    def _pieces(self, files: list[tuple[RecordType, Path]]) -> Iterator[tuple[Piece, list[Any]]]:
        """The files read in pieces of ``CHUNK`` records: (piece, the parsed records)."""
        for record_type, path in files:
            size = path.stat().st_size
            tick = self.progress(path, size) if self.progress else None
            piece: list[tuple[Origin, Any, int]] = []
            datas: list[Any] = []
            count = 0
            try:
                for origin, data, errors, position in parse_records(path, self.max_record_bytes):
                    piece.append((origin, errors, position))
                    datas.append(data)
                    count += 1
                    if len(piece) >= CHUNK:
                        yield (record_type, path, piece), datas
                        piece, datas = [], []
                        if tick is not None:
                            tick(path, count, position)
            except CorruptFile as error:
                raise ImportRefused(
                    f"{error.path} is corrupt or truncated ({error.reason}) after its line "
                    f"{error.lines:,}: nothing was imported. Repair or replace the file and "
                    "import again."
                ) from None
            yield (record_type, path, piece), datas
            if tick is not None:
                tick(path, count, size)

    def _validated(
        self, files: list[tuple[RecordType, Path]], pool: Pool | None
    ) -> Iterator[tuple[RecordType, Path, Any]]:
        """Each piece with its validation results, in file order (``WINDOW`` pieces ahead)."""
        region = self.phone_region
        if pool is None:
            for (record_type, path, piece), datas in self._pieces(files):
                results = _validate(record_type.name, region, datas)
                yield record_type, path, zip(piece, results, strict=True)
            return
        waiting: deque[tuple[Piece, AsyncResult[list[Any]]]] = deque()
        for (record_type, path, piece), datas in self._pieces(files):
            work = pool.apply_async(_validate, (record_type.name, region, datas))
            waiting.append(((record_type, path, piece), work))
            while len(waiting) > WINDOW:
                (rt, p, done), result = waiting.popleft()
                yield rt, p, zip(done, result.get(), strict=True)
        while waiting:
            (rt, p, done), result = waiting.popleft()
            yield rt, p, zip(done, result.get(), strict=True)
