"""The Neo4j driver's lifecycle (one per process, made after fork), read/write helpers, errors."""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, LiteralString, TypeVar

from neo4j import (
    READ_ACCESS,
    Bookmarks,
    Driver,
    GraphDatabase,
    ManagedTransaction,
    Query,
    ResultSummary,
)
from neo4j.exceptions import Neo4jError

from ctxapi.config import Settings
from ctxapi.liveness import Liveness
from ctxapi.unavailable import (
    DatabaseUnavailable,
    DatabaseUnreachable,
    InvalidBookmarks,
    PlansWarming,
    QueryTimedOut,
    count,
    retrying_conflicts,
    unavailable_as_error,
)

if TYPE_CHECKING:
    pass

__all__ = [
    "BACKSTOP_SECONDS",
    "BOOKMARKS",
    "QUERY_LOG",
    "REQUEST_ID",
    "Database",
    "DatabaseUnavailable",
    "DatabaseUnreachable",
    "InvalidBookmarks",
    "PlansWarming",
    "QueryTimedOut",
]
log = logging.getLogger(__name__)
T = TypeVar("T")

#: Per request (set by the GraphQL view): the duration in ms of every read it ran.
QUERY_LOG: ContextVar[list[float] | None] = ContextVar("ctxapi_query_log", default=None)
#: Per request (set by the GraphQL view): its id, which tags its reads' transactions.
REQUEST_ID: ContextVar[str] = ContextVar("ctxapi_request_id", default="-")
#: Per request (the ``Ctxapi-Bookmarks`` header): writes made elsewhere its reads must see.
BOOKMARKS: ContextVar[tuple[str, ...]] = ContextVar("ctxapi_bookmarks", default=())
#: Neo4j's own timeout is this much later than the read's: a backstop should the read's own
#: termination (when its caller stops waiting) not reach Neo4j.
BACKSTOP_SECONDS = 2.0
#: How long ``close`` waits for reads still running (terminated ones end at Neo4j's next check).
CLOSE_WAIT_SECONDS = 5.0
_READS = itertools.count(1)


_TIMED_OUT = "Neo.ClientError.Transaction.TransactionTimedOut"
_INVALID_BOOKMARK = "Neo.ClientError.Transaction.InvalidBookmark"
_TERMINATED = "Neo.ClientError.Transaction.Terminated"
_FIND_TAGGED: LiteralString = (
    "SHOW TRANSACTIONS YIELD transactionId, metaData "
    "WHERE metaData.ctxapi = $tag RETURN transactionId AS id"
)


class Database:
    """Holds this process's driver; created lazily so gunicorn workers each get their own.

    Whoever makes a Database closes it: ``init_app`` does so at exit for the app's.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.neo4j_database
        self._driver: Driver | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._reads: ThreadPoolExecutor | None = None
        self._terminations: ThreadPoolExecutor | None = None
        self._notify = threading.Lock()  # keeps away/back notices in order
        self._reads_pid = 0
        self._liveness: Liveness | None = None
        # Query texts being warmed (ctxapi.warmup): a read of one waits rather than plan it too.
        self._flights: dict[str, threading.Event] = {}
        self._looking = threading.Lock()
        self._away = False
        self._terminated: set[str] = set()  # tags of reads this process terminated
        self._pending: set[Future[Any]] = set()  # reads and terminations not finished yet
        self._listeners: list[Callable[[bool], None]] = []
        # Causal consistency within the process: every session reads after the writes this
        # process committed (read-your-writes, also from a cluster's secondaries).
        self._bookmarks = GraphDatabase.bookmark_manager()

    @property
    def driver(self) -> Driver:
        """The driver of this process; a forked child makes its own instead of sharing sockets."""
        if self._driver is None or self._pid != os.getpid():
            with self._lock:
                if self._driver is None or self._pid != os.getpid():
                    self._driver = self._connect()
                    self._bookmarks = GraphDatabase.bookmark_manager()
                    self._pid = os.getpid()
        return self._driver

    @property
    def reads(self) -> ThreadPoolExecutor:
        """The threads that wait on Neo4j for reads, so that a caller can stop waiting."""
        self.driver  # noqa: B018 (makes the driver, and so the pid, of this process)
        with self._lock:
            if self._reads is None or self._reads_pid != os.getpid():
                size = self.settings.neo4j_pool_size
                self._reads = ThreadPoolExecutor(size, thread_name_prefix="ctxapi-read")
                # Terminations do not queue behind reads stuck on a paused Neo4j.
                self._terminations = ThreadPoolExecutor(2, thread_name_prefix="ctxapi-terminate")
                self._reads_pid = os.getpid()
                uri = self.settings.resolved().neo4j_uri
                probe = self.settings.stall_probe
                self._liveness = Liveness(uri, timeout=probe / 2, ttl=probe / 5)
        return self._reads

    def on_availability(self, listener: Callable[[bool], None]) -> None:
        """Call ``listener(False)`` when Neo4j is found away, ``listener(True)`` when it answers
        again (from the thread that noticed: keep it short)."""
        self._listeners.append(listener)

    @property
    def away(self) -> bool:
        """Whether the last word on Neo4j was that it is not there (DatabaseUnreachable)."""
        return self._away

    @property
    def settling(self) -> bool:
        """Away, or back with committed queries still held for warming."""
        return self._away or bool(self._flights)

    def _available(self, available: bool) -> None:
        """Record whether Neo4j is there; on a change, tell the listeners, in order."""
        with self._notify:
            changed, self._away = self._away == available, not available
            if not changed:
                return
            for listener in self._listeners:
                try:
                    listener(available)
                except Exception:
                    log.exception("an availability listener failed")

    def _connect(self) -> Driver:
        s = self.settings.resolved()
        return GraphDatabase.driver(
            s.neo4j_uri,
            auth=(s.neo4j_user, s.neo4j_password),
            connection_timeout=s.neo4j_connection_timeout,
            connection_acquisition_timeout=s.neo4j_acquisition_timeout,
            max_transaction_retry_time=s.neo4j_max_retry_time,
            max_connection_pool_size=s.neo4j_pool_size,
            user_agent="ctxapi",
            # Notifications are advice for humans at a console; the API has nobody to read them.
            notifications_min_severity="OFF",
        )

    def close(self) -> None:
        """Close this process's driver (a no-op when none was made or it belongs to a parent)."""
        if self._driver is not None and self._pid == os.getpid():
            if self._reads is not None:
                # Let reads nobody waits for any more end (terminated, mostly) before their
                # connections go: a closed pool drops a connection in use without closing it.
                wait(list(self._pending), timeout=CLOSE_WAIT_SECONDS)
                self._reads.shutdown(wait=False, cancel_futures=True)
                if self._terminations is not None:
                    self._terminations.shutdown(wait=False, cancel_futures=True)
            self._driver.close()
        self._driver = None
        self._reads = self._terminations = None

    def read(
        self,
        query: LiteralString,
        parameters: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> list[Any]:
        """Run a read query with read routing (a cluster serves it from secondaries).

        An auto-commit query, deliberately not retried: when Neo4j is down the API answers
        503 UNAVAILABLE at once (with Retry-After) instead of holding the request through the
        driver's retry back-off. After ``timeout`` (default ``query_timeout``) the caller stops
        waiting (QueryTimedOut) and the read's transaction is terminated in Neo4j; a Neo4j that
        does not answer a handshake while the caller waits gives DatabaseUnavailable at once.
        """
        started = time.perf_counter()
        records, _summary = self._run_read(query, parameters, timeout)
        timings = QUERY_LOG.get()
        if timings is not None:
            timings.append((time.perf_counter() - started) * 1000)
        return records

    def write(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Run ``work`` in a managed write transaction (retried: be idempotent). This process's
        later reads see it (bookmarks); ``bookmarks()`` hands it to others."""

        def once() -> T:
            with unavailable_as_error():
                session = self.driver.session(database=self.name, bookmark_manager=self._bookmarks)
                with session:
                    return session.execute_write(work)

        return retrying_conflicts(once)

    def bookmarks(self) -> list[str]:
        """This process's latest bookmarks: another instance's reads sent them see its writes."""
        return sorted(self._bookmarks.get_bookmarks())

    def profile(
        self,
        query: LiteralString,
        parameters: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> tuple[list[Any], dict[str, Any]]:
        """Run a read query once with ``PROFILE``: its records and Neo4j's profiled plan
        (operators with rows and db hits), for ``ctxapi explain --profile``. ``timeout``
        (default ``query_timeout``) bounds it on the server; a cold plan of a big query can
        take longer to make than an API request may wait."""
        records, summary = self._run_read("PROFILE " + query, parameters, timeout)
        return records, dict(summary.profile or {})

    def hold(self, queries: Iterable[str]) -> None:
        """From now until each is warmed (``warm``) or released, reads of these query texts
        wait up to ``warming_wait`` and then answer PlansWarming: a cold plan of a big query
        is CPU-bound, and many at once would all miss their timeout (ctxapi.warmup holds the
        committed queries while Neo4j is away, as its plan cache may be empty when back)."""
        with self._lock:
            for query in queries:
                self._flights.setdefault(query, threading.Event())

    def release(self, query: str) -> None:
        """Let reads of ``query`` run again (see ``hold``)."""
        with self._lock:
            flight = self._flights.pop(query, None)
        if flight is not None:
            flight.set()

    def warm(self, query: LiteralString, parameters: Mapping[str, Any] | None = None) -> None:
        """Run a read once to leave its plan in Neo4j's cache, waiting up to ``warmup_timeout``
        (ctxapi.warmup); reads of the same text meanwhile wait for it (``hold``), and go on
        being held if Neo4j is away (DatabaseUnavailable), until a warm-up succeeds."""
        self.hold((query,))
        try:
            self._run_read(query, parameters, self.settings.warmup_timeout, warming=True)
        except DatabaseUnreachable:
            raise  # still held: the warm-up runs again when Neo4j is back
        except BaseException:
            self.release(query)
            raise
        self.release(query)

    def _await_flight(self, query: str) -> None:
        """Wait while ``query`` is held for warming; PlansWarming if it still is."""
        flight = self._flights.get(query)
        if flight is None:
            return
        self.unless_away()  # no use waiting; and nobody may see Neo4j come back: look
        if not flight.wait(self.settings.warming_wait):
            count("unavailable")
            raise PlansWarming("its plan is being made again")

    def unless_away(self) -> None:
        """DatabaseUnavailable at once while Neo4j is known to be away (looking again in the
        background): for a read a request needs before anything else, like its key's."""
        if self._away:
            self._look_again()
            count("unavailable")
            raise DatabaseUnavailable("Neo4j is not reachable")

    def _look_again(self) -> None:
        """Ping Neo4j in the background (one at a time), to notice that it is back."""
        if not self._looking.acquire(blocking=False):
            return

        def look() -> None:
            try:
                self.ping()
            except DatabaseUnavailable:
                pass
            finally:
                self._looking.release()

        threading.Thread(target=look, name="ctxapi-look", daemon=True).start()

    def _run_read(
        self,
        query: LiteralString,
        parameters: Mapping[str, Any] | None,
        timeout: float | None,
        *,
        warming: bool = False,
    ) -> tuple[list[Any], ResultSummary]:
        """One auto-commit read with read routing, waited for up to ``timeout``: its records and
        summary. Neo4j's absence is DatabaseUnavailable, a read past its timeout QueryTimedOut
        (and terminated in Neo4j)."""
        timeout = self.settings.query_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        if not warming:
            self._await_flight(query)
        tag = f"{REQUEST_ID.get()}/{os.getpid()}-{next(_READS)}"
        after = BOOKMARKS.get()
        future = self._submit(self._read_now, query, parameters, timeout, tag, after)
        try:
            result = self._wait(future, deadline, tag, timeout)
        except DatabaseUnreachable:
            self._available(False)
            raise
        self._available(True)
        return result

    def _wait(self, future: Future[T], deadline: float, tag: str, timeout: float) -> T:
        """The read's result once it comes; before that, every ``stall_probe`` seconds, a
        handshake checks that Neo4j is there at all."""
        assert self._liveness is not None  # made with self.reads
        interval = self.settings.stall_probe  # then a quarter of it, once stalled
        while True:
            left = deadline - time.monotonic()
            try:
                return future.result(timeout=max(0.0, min(left, interval)))
            except FutureTimeout:
                if time.monotonic() >= deadline:
                    self._abandon(future, tag, terminate=True)
                    log.warning("query timed out; terminating it in Neo4j")
                    count("timed_out")
                    raise QueryTimedOut(f"the query did not finish within {timeout:g} s") from None
                if not self._liveness.alive():
                    self._abandon(future, tag, terminate=False)
                    log.warning("Neo4j did not answer a handshake while a read waited")
                    count("unavailable")
                    raise DatabaseUnreachable("Neo4j did not answer") from None
                interval = self.settings.stall_probe / 4

    def _abandon(self, future: Future[Any], tag: str, *, terminate: bool) -> None:
        """Stop a read nobody waits for: never started, or terminated in Neo4j (which stops
        it at its next check; planning is not one, so a cold plan still runs to its end)."""
        if future.cancel() or not terminate:
            return
        self._terminated.add(tag)
        future.add_done_callback(lambda _: self._terminated.discard(tag))
        assert self._terminations is not None  # made with self.reads
        self._submit(self.terminate, tag, on=self._terminations)

    def _submit(
        self, work: Callable[..., T], *arguments: Any, on: ThreadPoolExecutor | None = None
    ) -> Future[T]:
        """Run ``work`` on a read thread (or ``on``); ``close`` waits a while for what is
        pending."""
        future = (on or self.reads).submit(work, *arguments)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    def terminate(self, tag: str) -> int:
        """Terminate the transactions of the read tagged ``tag``; how many there were."""
        try:
            with unavailable_as_error(), self.driver.session(database=self.name) as session:
                found = session.run(
                    Query(_FIND_TAGGED, timeout=self.settings.stall_probe * 5), tag=tag
                )
                ids = [record["id"] for record in found]
                if ids:
                    session.run("TERMINATE TRANSACTIONS $ids", ids=ids).consume()
        except (DatabaseUnavailable, Neo4jError) as error:
            log.warning("could not terminate a timed-out read: %s", type(error).__name__)
            return 0
        if ids:
            log.info("terminated %d transaction(s) of a timed-out read", len(ids))
        return len(ids)

    def _read_now(
        self,
        query: LiteralString,
        parameters: Mapping[str, Any] | None,
        timeout: float,
        tag: str,
        after: tuple[str, ...] = (),
    ) -> tuple[list[Any], ResultSummary]:
        """The read itself (on a read thread), tagged ``tag`` in its transaction's metadata;
        Neo4j's own timeout, ``BACKSTOP_SECONDS`` later than the caller's, and terminations
        become QueryTimedOut and DatabaseUnavailable."""
        with (
            unavailable_as_error(),
            self.driver.session(
                database=self.name,
                default_access_mode=READ_ACCESS,
                bookmark_manager=self._bookmarks,
                bookmarks=Bookmarks.from_raw_values(after) if after else None,
            ) as session,
        ):
            backstop = timeout + BACKSTOP_SECONDS
            try:
                result = session.run(
                    Query(query, timeout=backstop, metadata={"ctxapi": tag}),
                    dict(parameters or {}),
                )
                return list(result), result.consume()
            except Neo4jError as error:
                if (error.code or "").startswith(_TIMED_OUT):
                    log.warning("query timed out after %s s in Neo4j", backstop)
                    count("timed_out")
                    raise QueryTimedOut(f"the query did not finish within {timeout:g} s") from error
                if (error.code or "").startswith(_INVALID_BOOKMARK):
                    raise InvalidBookmarks("Neo4j does not know these bookmarks") from error
                if error.code == _TERMINATED:  # by us, an operator, or Neo4j's memory guard
                    if tag in self._terminated:  # nobody waits for it any more
                        self._terminated.discard(tag)
                    else:
                        log.warning("Neo4j terminated a read")
                        count("other")
                    raise DatabaseUnavailable("Neo4j stopped the query") from error
                raise

    def run_batched(self, query: LiteralString) -> None:
        """Run a ``CALL { … } IN TRANSACTIONS`` statement, which Neo4j only accepts in an
        implicit (auto-commit) transaction. Not retried: make it idempotent and rerun it."""
        with unavailable_as_error(), self.driver.session(database=self.name) as session:
            session.run(query).consume()

    def ping(self) -> None:
        """Raise DatabaseUnavailable unless Neo4j answers now (no retries: used by /readyz)."""
        try:
            with unavailable_as_error():
                self.driver.verify_connectivity()
        except DatabaseUnreachable:
            self._available(False)
            raise
        self._available(True)
