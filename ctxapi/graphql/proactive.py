"""The proactive queue: customers to contact before they call, most urgent first.

Three kinds of item are due at a known time: a parcel not delivered by its promised time, a
received return not refunded within ``refund_due_days``, an open case with no update sent for
``case_follow_up_days``. An item's key is its due time moved earlier by its customer's tier
head start, and the queue is ordered by key. Every branch starts from a range index on the
customer's tier and due time: while an item can fall due it carries its customer's tier as
``queueTier`` (the loader keeps it in step, migration 0003), so the index holds only items
that may be due, each tier is read in due order from the cursor on, and each read stops
after ``first + 1`` rows; nothing scans customers. The last step merges at most
``3 * tiers * (first + 1)`` rows. See docs/insights.md.
"""

from __future__ import annotations

from typing import Any, LiteralString

import graphene

from ctxapi.config import Settings
from ctxapi.graphql import enums
from ctxapi.graphql.brand_scope import of_brands
from ctxapi.graphql.compiler import resolve_entry
from ctxapi.graphql.fields import Entry, entry, many, value
from ctxapi.graphql.scalars import connection, references, time
from ctxapi.graphql.shaping import decode_cursor
from ctxapi.model import ProactiveReason, may_fall_due

QUEUE: LiteralString = (
    """
WITH datetime($__now) AS now, $__t AS t
UNWIND t.queue_tiers AS tier
WITH now, t, tier, CASE WHEN $afterKey IS NOT NULL
    THEN datetime($afterKey) + duration({hours: tier.head_hours}) END AS afterDue
CALL (now, t, tier, afterDue) {
  MATCH (s:Shipment {queueTier: tier.tier})
  WHERE 'LATE_SHIPMENT' IN $reasons AND s.promisedAt < now
    AND s.promisedAt >= now - duration({days: t.queue_days})
    AND s.promisedAt >= coalesce(afterDue, now - duration({days: t.queue_days}))
    AND (afterDue IS NULL OR s.promisedAt > afterDue
      OR (s.promisedAt = afterDue AND s.id > $afterId))
    AND """
    + may_fall_due("Shipment", "s")
    + " AND "
    + of_brands("(s)<-[:SHIPPED_AS]-(:Order)<-[:PLACED]-(:Customer)", "sbrand")
    + """
  WITH s ORDER BY s.queueTier, s.promisedAt, s.id LIMIT $limit
  MATCH (s)<-[:SHIPPED_AS]-(o:Order)<-[:PLACED]-(c:Customer)
  RETURN c, s AS subject, s.promisedAt AS due, s.id AS id, 'LATE_SHIPMENT' AS reason,
    'PROACTIVE_DELIVERY_UPDATE' AS action,
    'parcel for order ' + o.number + ' (' + s.carrier + ') promised for '
      + toString(date(s.promisedAt)) + ' is not delivered' AS detail
  UNION
  MATCH (r:Return {queueTier: tier.tier})
  WHERE 'REFUND_OVERDUE' IN $reasons AND r.receivedAt < now - duration({days: t.refund_due_days})
    AND r.receivedAt >= now - duration({days: t.refund_due_days + t.queue_days})
    AND r.receivedAt >= coalesce(afterDue - duration({days: t.refund_due_days}),
      now - duration({days: t.refund_due_days + t.queue_days}))
    AND (afterDue IS NULL OR r.receivedAt + duration({days: t.refund_due_days}) > afterDue
      OR (r.receivedAt + duration({days: t.refund_due_days}) = afterDue AND r.id > $afterId))
    AND """
    + may_fall_due("Return", "r")
    + " AND "
    + of_brands("(r)-[:RETURNS]->(:Order)<-[:PLACED]-(:Customer)", "rbrand")
    + """
  WITH r, t ORDER BY r.queueTier, r.receivedAt, r.id LIMIT $limit
  MATCH (r)-[:RETURNS]->(o:Order)<-[:PLACED]-(c:Customer)
  RETURN c, r AS subject, r.receivedAt + duration({days: t.refund_due_days}) AS due, r.id AS id,
    'REFUND_OVERDUE' AS reason, 'CONFIRM_REFUND_TIMING' AS action,
    'return of order ' + o.number + ' received ' + toString(date(r.receivedAt))
      + ', refund not paid' AS detail
  UNION
  MATCH (k:Case {queueTier: tier.tier})
  WHERE 'UNRESOLVED_CASE' IN $reasons
    AND k.openedAt < now - duration({days: t.case_follow_up_days})
    AND k.openedAt >= now - duration({days: t.case_follow_up_days + t.queue_days})
    AND k.openedAt >= coalesce(afterDue - duration({days: t.case_follow_up_days}),
      now - duration({days: t.case_follow_up_days + t.queue_days}))
    AND (afterDue IS NULL OR k.openedAt + duration({days: t.case_follow_up_days}) > afterDue
      OR (k.openedAt + duration({days: t.case_follow_up_days}) = afterDue AND k.id > $afterId))
    AND """
    + may_fall_due("Case", "k")
    + " AND "
    + of_brands("(k)<-[:OPENED]-(:Customer)", "kbrand")
    + """
    AND NOT EXISTS { MATCH (k)<-[:PART_OF]-(i:Interaction {direction: 'outbound'})
        <-[:HAD]-(:Customer)-[:OPENED]->(k)
      WHERE i.occurredAt >= now - duration({days: t.case_follow_up_days}) }
  WITH k, t ORDER BY k.queueTier, k.openedAt, k.id LIMIT $limit
  MATCH (k)<-[:OPENED]-(c:Customer)
  RETURN c, k AS subject, k.openedAt + duration({days: t.case_follow_up_days}) AS due,
    k.id AS id, 'UNRESOLVED_CASE' AS reason, 'FOLLOW_UP_OPEN_CASE' AS action,
    'case ' + k.id + ' (' + k.subject + ') ' + k.status + ' since ' + toString(date(k.openedAt))
      + ', no update sent for ' + toString(t.case_follow_up_days) + ' days' AS detail
}
WITH now, c, subject, due, id, reason, action, detail,
  due - duration({hours: tier.head_hours}) AS key
ORDER BY key, id LIMIT $limit
WITH {customer: c, subject: subject, due: due, id: id, reason: reason, action: action,
  detail: detail, key: key, priority: duration.inSeconds(key, now).hours} AS root
"""
)


class ProactiveItem(graphene.ObjectType):
    """A customer to contact now, why, and what to do."""

    customer = many(
        "ctxapi.graphql.customer.Customer",
        "WITH {v}.customer AS {c}",
        required=True,
        description="Who.",
    )
    reason = value(
        enums.ProactiveReason, "{v}.reason", required=True, description="Why they are queued."
    )
    action = value(enums.ActionKind, "{v}.action", required=True, description="What to do.")
    detail = value(
        graphene.String, "{v}.detail", required=True, description="The facts, in one line."
    )
    due_at = time("due", required=True, description="When it became due.")
    priority = value(
        graphene.Int,
        "{v}.priority",
        required=True,
        description="Hours overdue, counting the tier head start: higher is more urgent.",
    )
    about = references(
        "{v}.subject", one=True, required=True, description="The parcel, return or case."
    )


ProactiveItemConnection = connection(ProactiveItem, "proactive contact", "most urgent first")


def _queue_params(arguments: dict[str, Any], _settings: Settings) -> dict[str, Any]:
    reasons = arguments.get("reasons")
    after = arguments.get("after")
    after_key, after_id = decode_cursor(after) if after else (None, None)
    first = arguments.get("first")
    return {
        "reasons": list(ProactiveReason) if reasons is None else reasons,
        "afterKey": after_key,
        "afterId": after_id,
        "limit": first + 1 if isinstance(first, int) else None,
    }


QUEUE_ENTRY = Entry(QUEUE, _queue_params, needs=("__now", "__t"))


class ProactiveQueries(graphene.ObjectType):
    """Work for agents before the phone rings."""

    proactive_queue = entry(
        ProactiveItemConnection,
        QUEUE_ENTRY,
        resolve_entry,
        required=True,
        first=graphene.Int(default_value=20, description="How many (0 to 100)."),
        after=graphene.String(description="Cursor (endCursor of the previous page)."),
        reasons=graphene.List(graphene.NonNull(enums.ProactiveReason), description="Only these."),
        description="Customers to contact before they call, most urgent first. A customer"
        " with several due items appears once per item; totalCount is not computed (null).",
    )
