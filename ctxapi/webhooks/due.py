"""``queue.item_due``: a proactive queue item that fell due, announced once per occurrence.

A late parcel, an overdue refund or a quiet case falls due as time passes, with no write to
announce it. A dispatcher scans for the items due now with the proactive queue's own seeks
(``ctxapi.graphql.proactive.SEEKS``: the same rule, window and index), of every brand, and
writes a ledger ``Write`` for each (key id ``ctxapi``, event ``queue.item_due``, its customer)
whose id is the item and the time it fell due: ``ctxapi/queue.item_due/<reason>/<item>/<due>``.
The unique constraint on that id makes each occurrence one event, however many dispatchers
scan, however often. A parcel or case that an update answered and that falls due again later
(``delivery_update_days``, ``case_follow_up_days`` after the update) is a new occurrence.

The clock is the settings' (``CTXAPI_NOW`` fixes it). The first scan of a graph announces every
item due within the queue window (``queue_days``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, LiteralString

from neo4j import ManagedTransaction
from neo4j.exceptions import ConstraintError

from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.graphql.due import case_due, parcel_due
from ctxapi.graphql.proactive import SEEKS
from ctxapi.model import COUNTED_ORDER_STATUSES, ProactiveReason
from ctxapi.store.erasure import zulu
from ctxapi.store.events import Event
from ctxapi.store.ledger import record

#: Items written per transaction.
BATCH = 100
_PARCELS, _REFUNDS, _CASES = SEEKS
_SCAN: LiteralString = (
    """
WITH datetime($__now) AS now, $__t AS t
UNWIND t.queue_tiers AS tier
WITH now, t, tier, null AS afterDue
CALL (now, t, tier, afterDue) {"""
    + _PARCELS
    + "\n  RETURN c.id AS customer, s.id AS item, 'LATE_SHIPMENT' AS reason, "
    + parcel_due("s", "last")
    + " AS due\n  UNION"
    + _REFUNDS
    + "\n  RETURN c.id AS customer, r.id AS item, 'REFUND_OVERDUE' AS reason,"
    " r.receivedAt + duration({days: t.refund_due_days}) AS due\n  UNION"
    + _CASES
    + "\n  RETURN c.id AS customer, k.id AS item, 'UNRESOLVED_CASE' AS reason, "
    + case_due("k", "last")
    + """ AS due
}
RETURN customer, item, reason, due.epochSeconds AS seconds, due
ORDER BY due, item
"""
)
_SEEN: LiteralString = "UNWIND $ids AS id MATCH (w:Write {id: id}) RETURN collect(w.id) AS ids"


def occurrence(reason: str, item: str, seconds: int) -> str:
    """The ledger id of one item falling due at one time."""
    return f"ctxapi/{Event.QUEUE_ITEM_DUE.value}/{reason}/{item}/{seconds}"


def scan(db: Database, settings: Settings) -> int:
    """Announce the queue items due now that were not announced before; how many."""
    parameters = {
        "__now": settings.now(),
        "__t": settings.insights.parameter,
        "__brands": None,
        "__counted": [status.value for status in COUNTED_ORDER_STATUSES],
        "reasons": [reason.value for reason in ProactiveReason],
        "afterId": None,
    }
    rows = db.read(_SCAN, parameters)
    at = datetime.fromisoformat(settings.now())
    made = 0
    for start in range(0, len(rows), BATCH):
        made += _announce(db, rows[start : start + BATCH], at)
    return made


def _announce(db: Database, rows: Sequence[Any], at: datetime) -> int:
    items = {occurrence(row["reason"], row["item"], row["seconds"]): row for row in rows}

    def work(tx: ManagedTransaction) -> int:
        seen = set(tx.run(_SEEN, ids=list(items)).single(strict=True)["ids"])
        request = "due-" + uuid.uuid4().hex
        for id, row in items.items():
            if id in seen:
                continue
            due = zulu(row["due"].to_native().astimezone(UTC))
            result = {"item": {"id": row["item"]}, "reason": row["reason"], "dueAt": due}
            record(
                tx, id=id, operation="queueItemDue", request_hash="-", result=result,
                key_id="ctxapi", key_name="ctxapi", request_id=request,
                event=Event.QUEUE_ITEM_DUE, customers=[row["customer"]], brands=[], at=at,
                data={"customers": [row["customer"]]} | result,
            )  # fmt: skip
        return len(items) - len(seen)

    for _attempt in range(3):
        try:
            return db.write(work)
        except ConstraintError:
            continue  # another dispatcher announced some of them first: look again
    return db.write(work)
