"""Live updates for open cards and queue pages: Server-Sent Events over the ledger.

Every change a mutation makes commits with its ``(:Write)`` node (ctxapi.store.ledger), and so
do the events others cause (an erasure, a queue item falling due). One poller per process
reads the new ones every ``live_poll_seconds`` and hands each to the streams of that process
that follow it: a card follows its customer, a queue page its key's brands. A stream carries
no personal data, only ``{"event", "customers", "at"}``: the page asks the API again, with its
own key, so masking, brands and the audit log are the API's.

``at`` is the request's time, taken before its transaction: a write that commits after a later
one is still seen, because every poll reads back ``OVERLAP`` before the newest ``at`` it has
seen (or the clock, if later) and skips the ids it has sent; a burst of writes of one moment
(a scan's announcements) is read a page at a time, in ``(at, id)`` order. A stream answers
``event: ready`` first (a page that reconnects reads everything again), sends a comment every
``HEARTBEAT`` seconds, and ends after ``live_stream_seconds`` (the page reconnects), so a proxy
never holds it forever.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, LiteralString

import orjson

from ctxapi import metrics
from ctxapi.db import Database
from ctxapi.unavailable import DatabaseUnavailable

log = logging.getLogger(__name__)

#: How far back each poll reads again, for writes whose transaction outlasted a later one's.
OVERLAP = timedelta(seconds=10)
#: Seconds between comments on a quiet stream: proxies keep it open, and a page that went away
#: is noticed (writing to it fails), so its stream ends within this.
HEARTBEAT = 5.0

# ``brands`` is recorded by the ledger in the write's transaction (an erased customer's too).
# A page of the writes from ``$since`` on, after ``$after`` among those of that very moment.
_NEW_WRITES: LiteralString = """
MATCH (w:Write) WHERE w.at >= datetime($since)
WITH w WHERE w.at > datetime($since) OR w.id > $after
RETURN w.id AS id, w.event AS event, w.customers AS customers, toString(w.at) AS at,
       coalesce(w.brands, []) AS brands
ORDER BY w.at, w.id LIMIT $limit
"""
#: Writes one read takes; a poll reads on, page after page, until it has them all.
PAGE = 1000


@dataclass(frozen=True)
class Change:
    """One committed write, as a stream tells it: what happened, to whom, when."""

    id: str
    event: str
    customers: tuple[str, ...]
    at: str
    brands: frozenset[str]


@dataclass
class Stream:
    """One open page's subscription: a customer's changes, or its key's brands' (a queue)."""

    customer: str | None
    brands: frozenset[str] | None  # None: a key of every brand
    changes: queue.Queue[Change] = field(default_factory=queue.Queue)

    def wants(self, change: Change) -> bool:
        if self.customer is not None:
            return self.customer in change.customers
        return self.brands is None or bool(self.brands & change.brands)


class Feed:
    """This process's poller and its streams; the poller runs while a stream is open."""

    def __init__(
        self, db: Database, now: Callable[[], str], poll_seconds: float, max_streams: int
    ) -> None:
        self.db = db
        self.now = now  # the clock writes are stamped with (fixed in demos and tests)
        self.poll_seconds = poll_seconds
        self.max_streams = max_streams
        self._streams: set[int] = set()
        self._by_id: dict[int, Stream] = {}
        self._lock = threading.Lock()
        self._since = datetime.fromisoformat(now())
        self._seen: dict[str, datetime] = {}
        self._thread: threading.Thread | None = None

    def open(self, stream: Stream) -> bool:
        """Start following for ``stream``; False when this process has no room for it."""
        with self._lock:
            if len(self._by_id) >= self.max_streams:
                return False
            self._by_id[id(stream)] = stream
            metrics.LIVE_STREAMS.inc()
            if self._thread is None or not self._thread.is_alive():
                self._since = max(self._since, datetime.fromisoformat(self.now()))
                self._thread = threading.Thread(target=self._run, name="ctxapi-live", daemon=True)
                self._thread.start()
            return True

    def close(self, stream: Stream) -> None:
        with self._lock:
            if self._by_id.pop(id(stream), None) is not None:
                metrics.LIVE_STREAMS.dec()

    @property
    def open_streams(self) -> int:
        with self._lock:
            return len(self._by_id)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._by_id:
                    self._thread = None
                    return
            try:
                self.poll()
            except DatabaseUnavailable as error:  # the pages keep their card; try again
                log.warning("live updates: %s", error.public_message())
            except Exception:
                log.exception("live updates: a poll failed")
            time.sleep(self.poll_seconds)

    def poll(self) -> list[Change]:
        """Read the writes committed since the last poll and hand the new ones to the streams:
        every write from ``OVERLAP`` before the newest seen (or the clock, if later) on, a
        page at a time, in (``at``, ``id``) order, skipping those already sent."""
        self._since = max(self._since, datetime.fromisoformat(self.now()))
        since, after = self._since - OVERLAP, ""
        fresh: list[Change] = []
        while True:
            parameters = {"since": since.isoformat(), "after": after, "limit": PAGE}
            rows = self.db.read(_NEW_WRITES, parameters)
            fresh += [_change(row) for row in rows if row["id"] not in self._seen]
            for change in fresh:
                self._seen[change.id] = datetime.fromisoformat(change.at)
            if len(rows) < PAGE:
                break
            since, after = datetime.fromisoformat(rows[-1]["at"]), rows[-1]["id"]
        for change in fresh:
            self._since = max(self._since, self._seen[change.id])
        horizon = self._since - 2 * OVERLAP
        self._seen = {key: at for key, at in self._seen.items() if at >= horizon}
        with self._lock:
            streams = list(self._by_id.values())
        for change in fresh:
            for stream in streams:
                if stream.wants(change):
                    stream.changes.put(change)
        return fresh


def _change(row: Any) -> Change:
    return Change(
        row["id"], row["event"], tuple(row["customers"] or ()), row["at"], frozenset(row["brands"])
    )


def events(feed: Feed, stream: Stream, lifetime: float) -> Iterator[bytes]:
    """The ``text/event-stream`` of one page, until ``lifetime`` seconds have passed."""
    try:
        yield b"retry: 1000\nevent: ready\ndata: {}\n\n"
        ends = time.monotonic() + lifetime
        quiet_since = time.monotonic()
        while (left := ends - time.monotonic()) > 0:
            try:
                change = stream.changes.get(timeout=min(1.0, left))
            except queue.Empty:
                if time.monotonic() - quiet_since >= HEARTBEAT:
                    quiet_since = time.monotonic()
                    yield b": still here\n\n"
                continue
            quiet_since = time.monotonic()
            customers = [stream.customer] if stream.customer else list(change.customers)
            data = {"event": change.event, "customers": customers, "at": change.at}
            yield b"event: change\ndata: " + orjson.dumps(data) + b"\n\n"
        yield b"event: bye\ndata: {}\n\n"
    finally:
        feed.close(stream)
