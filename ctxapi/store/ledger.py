"""The ledger of API writes: one ``(:Write)`` node per mutation that changed the graph, created
in the same transaction as the change (migration 0005). It is three things at once:

- the **idempotency record**: its ``id`` is the API key's id and the client's idempotency key.
  The same request again returns the stored ``result`` and writes nothing; another request
  under a used key is refused (IDEMPOTENCY_CONFLICT); of two concurrent requests with one key,
  the second finds the first's record (the unique constraint makes it wait or fail, and it is
  then replayed).
- the **audit record in the graph**: who (the key's id and name), what (the operation, the
  customers' ids), when, and the request id; never a personal value. It commits or rolls back
  with the change, so no committed write goes unrecorded. (The audit log file gets its line
  after the commit.)
- the **outbox**: ``event`` (an ``Event``), ``customers`` and their ``brands`` say what others
  may care about; live cards follow ``at``. For webhooks the same statement creates one
  ``(:Delivery)`` per webhook subscribed to the event for one of those brands
  (``ctxapi.webhooks``, docs/webhooks.md), under the write's public ``eventId``. So nothing is
  announced for a change that did not commit, and nothing is lost for one that did.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, LiteralString

import orjson
from neo4j import ManagedTransaction
from neo4j.exceptions import ConstraintError

from ctxapi.db import Database
from ctxapi.store.events import Event, ids_of
from ctxapi.store.problems import Problem, ProblemCode, Refused

_LOOKUP: LiteralString = (
    "MATCH (w:Write {id: $id})"
    " RETURN w.operation AS operation, w.requestHash AS hash, w.result AS result,"
    " w.customers AS customers"
)
# The brands are looked up in the write's own transaction (an erased customer's, gone by then,
# come from its work); the deliveries are made for the webhooks there are when it commits.
_RECORD: LiteralString = """
OPTIONAL MATCH (c:Customer)-[:OF_BRAND]->(b:Brand) WHERE c.id IN $customers
WITH collect(DISTINCT b.id) AS found
CREATE (w:Write {id: $id, operation: $operation, requestHash: $hash, result: $result,
                keyId: $keyId, keyName: $keyName, requestId: $requestId, event: $event,
                customers: $customers, brands: found + [x IN $brands WHERE NOT x IN found],
                eventId: $eventId, at: datetime($at)})
WITH w
CALL (w) {
  MATCH (h:Webhook) WHERE w.event IN h.events AND h.brand IN w.brands
  CREATE (:Delivery {id: h.id + '/' + w.eventId, webhook: h.id, eventId: w.eventId,
                     event: w.event, occurredAt: $occurredAt, data: $data, state: 'pending',
                     attempts: 0, due: 0.0})
}
"""


def record(
    tx: ManagedTransaction,
    *,
    id: str,
    operation: str,
    request_hash: str,
    result: dict[str, Any],
    key_id: str,
    key_name: str,
    request_id: str,
    event: Event,
    customers: list[str],
    brands: list[str],
    at: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    """Create the ``Write`` of a change in its transaction, with its webhook deliveries.
    ``data`` is what the event's payload says (default: the customers and the result's ids)."""
    event_id = "evt_" + uuid.uuid4().hex
    said = {"customers": customers} | (ids_of(result) if data is None else data)
    tx.run(
        _RECORD,
        id=id,
        operation=operation,
        hash=request_hash,
        result=orjson.dumps(result).decode(),
        keyId=key_id,
        keyName=key_name,
        requestId=request_id,
        event=event.value,
        customers=customers,
        brands=brands,
        eventId=event_id,
        at=at.isoformat(),
        occurredAt=at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        data=orjson.dumps(said, option=orjson.OPT_SORT_KEYS).decode(),
    ).consume()


@dataclass(frozen=True)
class Request:
    """Who asks for which write, under which idempotency key, with what input."""

    operation: str
    idempotency_key: str
    input: Mapping[str, Any]
    key_id: str
    key_name: str
    request_id: str
    at: datetime

    @property
    def id(self) -> str:
        return self.key_id + "/" + self.idempotency_key

    @property
    def hash(self) -> str:
        """A digest of the operation and its input (the idempotency key aside)."""
        data = {
            k: v for k, v in self.input.items() if k not in ("idempotency_key", "idempotencyKey")
        }
        canonical = orjson.dumps(
            [self.operation, data], option=orjson.OPT_SORT_KEYS, default=_jsonable
        )
        return hashlib.blake2b(canonical, digest_size=16).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


@dataclass(frozen=True)
class Done:
    """What a write did: the ids the payload reads back (``result``), the event, whose; and the
    brands of customers the write removed (an erasure), which the ledger cannot look up."""

    result: dict[str, Any]
    event: Event
    customers: list[str]
    brands: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """The answer to a write request: its result, or the problems that stopped it."""

    result: dict[str, Any] | None
    problems: list[Problem] = field(default_factory=list)
    replayed: bool = False
    customers: list[str] = field(default_factory=list)
    event: str | None = None


Work = Callable[[ManagedTransaction], Done]


def perform(db: Database, request: Request, work: Work) -> Outcome:
    """Run ``work`` once for ``request``: in one write transaction with its ledger record, or
    not at all (a replay, an idempotency conflict, or the problems ``work`` raised as Refused,
    which roll everything back)."""

    def transaction(tx: ManagedTransaction) -> Outcome:
        found = tx.run(_LOOKUP, id=request.id).single()
        if found is not None:
            return _again(request, found)
        done = work(tx)
        record(
            tx,
            id=request.id,
            operation=request.operation,
            request_hash=request.hash,
            result=done.result,
            key_id=request.key_id,
            key_name=request.key_name,
            request_id=request.request_id,
            event=done.event,
            customers=done.customers,
            brands=done.brands,
            at=request.at,
        )
        return Outcome(done.result, customers=done.customers, event=done.event.value)

    def refused(problems: list[Problem]) -> Outcome:
        # A concurrent request with the same key may have committed while this one waited for
        # a lock, and changed what this one found (a merge finds its customer merged, by its
        # twin): then this one is its replay.
        found = db.write(lambda tx: tx.run(_LOOKUP, id=request.id).single())
        return Outcome(None, problems) if found is None else _again(request, found)

    try:
        return db.write(transaction)
    except Refused as error:
        return refused(error.problems)
    except ConstraintError:
        # A concurrent request with the same key committed first: this one is its replay.
        # (Any other constraint fails again here and goes up.)
        try:
            return db.write(transaction)
        except Refused as error:
            return refused(error.problems)


#: What an erasure leaves of a request's digest (ctxapi.store.erasure).
ERASED = "erased"


def _again(request: Request, found: Any) -> Outcome:
    """The answer to a request whose idempotency key was used before."""
    if found["hash"] == ERASED:  # its customer was erased since: nothing to answer with
        message = "this request's customer was erased since; nothing is there any more"
        return Outcome(None, [Problem(("input", "idempotencyKey"), message, ProblemCode.NOT_FOUND)])
    if found["operation"] == request.operation and found["hash"] == request.hash:
        return Outcome(orjson.loads(found["result"]), replayed=True, customers=found["customers"])
    problem = Problem(
        ("input", "idempotencyKey"),
        f"this idempotency key was used for a different {found['operation']} request;"
        " use a new key for a new request",
        ProblemCode.IDEMPOTENCY_CONFLICT,
    )
    return Outcome(None, [problem])
