"""The loader's writing side: one batch's transaction, and the thread that writes batches.

A batch is written in one managed write transaction (``batch_work``): its customers locked,
merged-away customers redirected to their survivors, records of erased customers set aside,
references and delta refusals checked, then the upserts split by what the graph holds
(``ctxapi.store.creates``): repeats are ``unchanged`` without a write, new records are
created, changed ones go through ``RecordType.write``; patches and deletes through their own
queries. The ``Writer`` thread takes batches in order while the main thread validates the
next ones, so a type's batches are written after those of the types it references.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neo4j import ManagedTransaction

from ctxapi.seeding.reading import Origin
from ctxapi.store import deltas, merging
from ctxapi.store.creates import CREATES, STATES
from ctxapi.store.graph import RecordType, Reference
from ctxapi.store.locking import lock_all
from ctxapi.store.ops import Op
from ctxapi.store.references import describe, missing_references
from ctxapi.store.tombstones import Tombstones


@dataclass(frozen=True)
class Item:
    """A validated record ready to write."""

    row: dict[str, Any]
    references: list[Reference]
    origin: Origin
    op: Op = Op.UPSERT


#: What a batch came to: counts per outcome, the rejected items with their reasons, and the
#: suppressed items (of erased customers) with why.
Written = tuple[dict[str, int], list[tuple[Item, Any]], list[tuple[Item, str]]]


def constraint_reason(batch: list[Item]) -> str:
    """Why the database refused a batch of one record on a uniqueness constraint."""
    row = batch[0].row
    if batch[0].op is not Op.DELETE and "number" in row.get("props", {}):
        return f"order number {row['props']['number']!r} already belongs to another order"
    return "the database refused it: it would break a uniqueness constraint"


def batch_work(
    record_type: RecordType, batch: list[Item], tombstones: Tombstones
) -> Callable[[ManagedTransaction], Written]:
    """The transaction function for a batch: set aside the records of erased customers (a
    delete goes ahead: it brings nobody back), check references (and what a patch or a delete
    needs), then write what passes, one query per op and kind (the keys of a batch differ, so
    the order of its ops does not matter)."""

    def work(tx: ManagedTransaction) -> Written:
        # The batch's customers locked first (in id order), as every API write locks its
        # customer: an erasure or a merge commits wholly before or after this batch.
        customers = sorted({i.row.get("customer") or "" for i in batch} - {""})
        own = record_type.name == "customers"
        found, merged = lock_all(tx, [i.row["id"] for i in batch] if own else customers)
        moved = merging.survivors(tx, sorted(merged)) if merged and not own else {}
        # records of a customer merged away apply to its survivor (each attempt anew)
        items = [Item(*merging.redirected(i.row, i.references, moved), i.origin, i.op)
                 for i in batch] if moved else batch  # fmt: skip
        written = [n for n, item in enumerate(items) if item.op is not Op.DELETE]
        found_erased = tombstones.suppressed(tx, record_type.name, [items[n].row for n in written])
        erased = {written[n]: why for n, why in found_erased.items()}
        absent = missing_references(
            tx,
            (ref for n, item in enumerate(items) if n not in erased for ref in item.references),
            () if own else [("Customer", cid) for cid in found],  # locked: they exist
        )
        refused = deltas.refusals(tx, record_type, [(item.op, item.row) for item in items])
        complete: dict[Op, list[Item]] = {}
        incomplete: list[tuple[Item, Any]] = []
        for n, item in enumerate(items):
            if n in erased:
                continue
            reasons = [describe(ref) for ref in item.references if ref in absent]
            if reasons:
                incomplete.append((item, {"_references": reasons}))
            elif n in refused:
                incomplete.append((item, refused[n]))
            else:
                complete.setdefault(item.op, []).append(item)
        counts: dict[str, int] = {}
        for op, group in complete.items():
            if op is Op.UPSERT:
                _upsert(tx, record_type, group, counts)
            else:
                _run(tx, deltas.query(record_type, op), group, counts)
        return counts, incomplete, [(items[n], why) for n, why in sorted(erased.items())]

    return work


def _upsert(
    tx: ManagedTransaction, record_type: RecordType, group: list[Item], counts: dict[str, int]
) -> None:
    """Upserts: the new ones created, the changed ones written, the repeats only counted."""
    name = record_type.name
    if name not in CREATES:
        _run(tx, record_type.write, group, counts)
        return
    stored = {
        rec["id"]: rec["hash"] for rec in tx.run(STATES[name], ids=[i.row["id"] for i in group])
    }
    new: list[Item] = []
    changed: list[Item] = []
    for item in group:
        if item.row["id"] not in stored:
            new.append(item)
        elif stored[item.row["id"]] == item.row["hash"]:
            counts["unchanged"] = counts.get("unchanged", 0) + 1
        else:
            changed.append(item)
    _run(tx, CREATES[name], new, counts)
    _run(tx, record_type.write, changed, counts)


def _run(tx: ManagedTransaction, query: Any, group: list[Item], counts: dict[str, int]) -> None:
    if not group:
        return
    for record in tx.run(query, rows=[item.row for item in group]):
        counts[record["outcome"]] = counts.get(record["outcome"], 0) + record["n"]


Job = tuple[RecordType, list[Item]]


class Writer:
    """One thread that writes batches in the order they come, while the main thread validates
    the next; a failure is raised in the main thread by the next
    ``submit`` or ``drain`` (``failed`` says how)."""

    def __init__(
        self,
        write: Callable[[RecordType, list[Item]], None],
        failed: Callable[[BaseException], BaseException],
    ) -> None:
        self.write = write
        self.failed = failed
        self.queue: queue.Queue[Job | None] = queue.Queue(maxsize=2)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="ctxapi-seed-writer", daemon=True)
        self.thread.start()

    def submit(self, record_type: RecordType, batch: list[Item]) -> None:
        self._raise_failure()
        if batch:
            self.queue.put((record_type, batch))

    def drain(self) -> None:
        self.queue.join()
        self._raise_failure()

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join()

    def _raise_failure(self) -> None:
        if self.failure is not None:
            failure, self.failure = self.failure, None
            raise self.failed(failure)

    def _run(self) -> None:
        while True:
            job = self.queue.get()
            try:
                if job is None:
                    return
                if self.failure is None:
                    self.write(*job)
            except BaseException as error:  # handed to the main thread
                self.failure = error
            finally:
                self.queue.task_done()
