"""Sending deliveries: claimed under a lease, POSTed signed, settled by the answer.

Several dispatchers may run at once. A claim locks the due deliveries it found (in due order,
so two claims cannot deadlock), then keeps those still pending and unleased, and leases them
to itself under a fresh claim token; settling checks the token, so a dispatcher whose lease ran
out (it stalled) cannot overwrite what another one did since. A delivery is therefore sent by
one dispatcher at a time, and twice only when a lease runs out mid-send: at least once,
deduplicated by the receiver on ``Ctxapi-Event-Id``.

2xx is delivered. Anything else (another status, a refused connection, a timeout, a TLS
failure) is tried again after an exponential back-off with jitter, and after
``webhook_max_attempts`` attempts the delivery is a dead letter (``ctxapi webhooks status``,
``retry``). No redirect is followed. Logs name the webhook, its URL's host, the event's id and
type, and the outcome; never the payload or the secret.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import random
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, LiteralString
from urllib.parse import urlsplit

import orjson
from neo4j import ManagedTransaction

from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.version import __version__
from ctxapi.webhooks import signing

log = logging.getLogger("ctxapi.webhooks")

#: Deliveries claimed at once; the lease covers sending all of them at the timeouts' worst.
BATCH = 10

_CANDIDATES: LiteralString = """
MATCH (d:Delivery {state: 'pending'}) WHERE d.due <= $dueBy AND coalesce(d.leaseUntil, 0.0) <= $now
  AND EXISTS { MATCH (:Webhook {id: d.webhook}) }
WITH d ORDER BY d.due, d.id LIMIT $batch
SET d._lock = true REMOVE d._lock
RETURN d.id AS id
"""
# Run after the candidates are locked: what it reads is what committed before the locks.
_CLAIM: LiteralString = """
UNWIND $ids AS id
MATCH (d:Delivery {id: id})
WHERE d.state = 'pending' AND coalesce(d.leaseUntil, 0.0) <= $now
MATCH (h:Webhook {id: d.webhook})
SET d.leaseUntil = $until, d.claim = $claim
RETURN d.id AS id, d.eventId AS eventId, d.event AS event, d.occurredAt AS occurredAt,
       d.data AS data, d.attempts AS attempts, h.id AS webhook, h.url AS url,
       h.secret AS secret, h.brand AS brand
"""
_SETTLE: LiteralString = """
MATCH (d:Delivery {id: $id, claim: $claim})
SET d.state = $state, d.attempts = $attempts, d.due = $due, d.lastStatus = $status,
    d.lastAttemptAt = $now, d.leaseUntil = null, d.claim = null,
    d.deliveredAt = CASE WHEN $state = 'delivered' THEN $now ELSE d.deliveredAt END,
    d.lastError = CASE WHEN $error IS NULL THEN d.lastError ELSE $error END,
    d.failedAt = CASE WHEN $error IS NULL THEN d.failedAt ELSE $now END
RETURN d.id AS id
"""


@dataclass(frozen=True)
class Claimed:
    """A delivery this dispatcher holds the lease of, with what it needs to send it."""

    id: str
    event_id: str
    event: str
    occurred_at: str
    data: str
    attempts: int
    webhook: str
    url: str
    secret: str
    brand: str
    claim: str

    def body(self) -> bytes:
        """The JSON payload: ids and closed-set values only (the ledger chose them)."""
        payload = {
            "id": self.event_id,
            "type": self.event,
            "occurredAt": self.occurred_at,
            "brand": self.brand,
            "data": orjson.loads(self.data),
        }
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True)
class Answer:
    """What one attempt got: the HTTP status, or why there was none."""

    status: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def claim(
    db: Database, settings: Settings, *, due_by: float | None = None, now: float | None = None
) -> list[Claimed] | None:
    """Lease up to ``BATCH`` deliveries due by ``due_by`` (default: now) to this dispatcher;
    None when none is due (an empty list: those found were just taken by another one)."""
    moment = time.time() if now is None else now
    token = uuid.uuid4().hex
    per_send = settings.webhook_connect_timeout + settings.webhook_read_timeout + 1
    until = moment + BATCH * per_send + 30

    def work(tx: ManagedTransaction) -> list[Any] | None:
        found = [
            row["id"]
            for row in tx.run(
                _CANDIDATES, now=moment, dueBy=moment if due_by is None else due_by, batch=BATCH
            )
        ]
        if not found:
            return None
        rows = tx.run(_CLAIM, ids=found, now=moment, until=until, claim=token)
        return list(rows)

    rows = db.write(work)
    if rows is None:
        return None
    return [
        Claimed(
            row["id"],
            row["eventId"],
            row["event"],
            row["occurredAt"],
            row["data"],
            row["attempts"],
            row["webhook"],
            row["url"],
            row["secret"],
            row["brand"],
            token,
        )
        for row in rows
    ]


def post(claimed: Claimed, settings: Settings, *, now: float | None = None) -> Answer:
    """POST the delivery's signed payload; the receiver's status, or what went wrong."""
    body = claimed.body()
    stamp = int(time.time() if now is None else now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"ctxapi-webhooks/{__version__}",
        "Ctxapi-Event-Id": claimed.event_id,
        "Ctxapi-Event-Type": claimed.event,
        "Ctxapi-Timestamp": str(stamp),
        "Ctxapi-Signature": signing.header(claimed.secret, stamp, body),
    }
    parts = urlsplit(claimed.url)
    https = parts.scheme == "https"
    kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
    port = parts.port or (443 if https else 80)  # given, so an IPv6 host is not split at ':'
    connection = kind(parts.hostname or "", port, timeout=settings.webhook_connect_timeout)
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    # The whole attempt has a deadline: a receiver that answers a byte at a time is cut off.
    expired = threading.Event()

    def cut_off() -> None:
        expired.set()
        if connection.sock is not None:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)

    deadline = threading.Timer(
        settings.webhook_connect_timeout + settings.webhook_read_timeout, cut_off
    )
    deadline.start()
    try:
        connection.connect()
        if connection.sock is not None:
            connection.sock.settimeout(settings.webhook_read_timeout)
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()  # the status and headers; the body is not read
        if expired.is_set():  # cut off mid-answer: what was read is not an answer
            return Answer(None, "timed out")
        return Answer(response.status, None)
    except ConnectionRefusedError:
        return Answer(None, "connection refused")
    except TimeoutError:
        return Answer(None, "timed out")
    except ssl.SSLError as error:
        return Answer(None, f"TLS failed ({type(error).__name__})")
    except (OSError, http.client.HTTPException) as error:
        if expired.is_set():
            return Answer(None, "timed out")
        return Answer(None, f"no answer ({type(error).__name__})")
    finally:
        deadline.cancel()
        connection.close()


def backoff(attempts: int, settings: Settings) -> float:
    """Seconds before attempt ``attempts + 1``: ``webhook_backoff * 2^(attempts-1)``, at most
    ``webhook_max_backoff``, with "equal jitter" (between half of it and all of it), so the
    retries of many deliveries to one receiver that was down do not arrive together."""
    delay = min(settings.webhook_max_backoff, settings.webhook_backoff * 2.0 ** (attempts - 1))
    return float(delay / 2 + random.uniform(0, delay / 2))  # noqa: S311 - spreading, not secrecy


def settle(
    db: Database, settings: Settings, claimed: Claimed, answer: Answer, *, now: float | None = None
) -> str:
    """Record an attempt's outcome: ``delivered``, ``pending`` (tried again later) or
    ``dead``; ``lost`` when the lease ran out and another dispatcher holds it now."""
    moment = time.time() if now is None else now
    attempts = claimed.attempts + 1
    if answer.delivered:
        state, due, error = "delivered", moment, None
    else:
        error = answer.error or f"HTTP {answer.status}"
        dead = attempts >= settings.webhook_max_attempts
        state, due = ("dead", moment) if dead else ("pending", moment + backoff(attempts, settings))
    row = db.write(
        lambda tx: tx.run(
            _SETTLE, id=claimed.id, claim=claimed.claim, state=state, attempts=attempts, due=due,
            status=answer.status, now=moment, error=error,
        ).single()
    )  # fmt: skip
    outcome = state if row is not None else "lost"
    host = urlsplit(claimed.url).hostname
    log.log(
        logging.INFO if answer.delivered else logging.WARNING,
        "webhook %s (%s): event %s (%s), attempt %d: %s -> %s",
        claimed.webhook, host, claimed.event_id, claimed.event, attempts,
        f"HTTP {answer.status}" if error is None else error, outcome,
    )  # fmt: skip
    return outcome
