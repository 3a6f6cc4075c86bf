"""The proactive queue: customers to contact before they call, most urgent first.

Three kinds of item are due at a known time: a late parcel of a live order that nobody has
told the customer about lately, a received return not refunded within ``refund_due_days``, an
open case with no update sent for ``case_follow_up_days``. When a parcel or a case is due is
ctxapi.graphql.due's rule, the one the customer card's next best actions read too. An item's
key is its first due time (the promise, the refund's due date, the case's opening plus
``case_follow_up_days``) moved earlier by its customer's tier head start, and the queue is
ordered by key. Every kind is read from a range index on the customer's tier and that first
due time: while an item can fall due it carries its customer's tier as ``queueTier`` (the
loader keeps it in step, migration 0003), so the index holds only items that may be due.

``proactiveQueue`` reads each tier in due order from the cursor on, keeps the items due now
(an update sent lately is checked before the limit, so a page is still full) and stops after
``first + 1`` of them; nothing scans customers, and the last step merges at most
``3 * tiers * (first + 1)`` rows. ``proactiveCustomers`` lists each customer once, at their
most urgent item: where a customer stands depends on all their items, so it reads every item
due in the window and groups them by customer before it pages. Both are composed from the
same pieces below. See docs/insights.md.
"""

from __future__ import annotations

from typing import Any, LiteralString

import graphene

from ctxapi.access.brands import of_brands
from ctxapi.config import Settings
from ctxapi.graphql import enums
from ctxapi.graphql.compiler import resolve_entry
from ctxapi.graphql.due import (
    case_due,
    case_last_update,
    live_order,
    parcel_due,
    parcel_last_update,
)
from ctxapi.graphql.fields import Entry, entry, many, value
from ctxapi.graphql.scalars import connection, references, time
from ctxapi.graphql.shaping import decode_cursor
from ctxapi.model import ProactiveReason, may_fall_due


def _days(since: LiteralString) -> LiteralString:
    """``'<n> day(s)'``: the whole days from ``since`` to now."""
    days = "duration.inDays(" + since + ", now).days"
    return "toString(" + days + ") + CASE " + days + " WHEN 1 THEN ' day' ELSE ' days' END"


def _told(last: LiteralString, never: LiteralString) -> LiteralString:
    """When the last update (``last``) was sent, or the literal ``never``: the words the card's
    actions use too (ctxapi.rules.actions)."""
    return (
        "CASE WHEN " + last + " IS NULL THEN " + never + " ELSE 'last update sent ' + "
        "toString(date(" + last + ")) + ' (' + " + _days(last) + " + ' ago)' END"
    )


# -- the three kinds of item ------------------------------------------------------------------
# Each kind is three pieces, read with `now`, `t` (the thresholds), `tier` (one of
# t.queue_tiers) and `afterDue` (the cursor's key moved back to this tier's due time; null
# reads from the window's start):
# - _SEEK reads the kind's index for one tier in due order from the cursor on and keeps the
#   items of the key's brands that are due now; it binds the item, its customer `c` and, for
#   parcels and cases, `last`: when the last update was sent (null: never);
# - _PAGE keeps the first `$limit` of them, in the index's order (proactiveQueue only): every
#   condition comes before it, so a page is full whatever they leave out;
# - _ITEM returns the row the queue merges, with the facts its line is made of (`facts`; the
#   line itself, `_DETAIL`, is written only for the rows a page keeps).
_PARCEL_SEEK: LiteralString = (
    """
  MATCH (s:Shipment {queueTier: tier.tier})
  WHERE 'LATE_SHIPMENT' IN $reasons AND s.promisedAt <= now
    AND s.promisedAt >= now - duration({days: t.queue_days})
    AND s.promisedAt >= coalesce(afterDue, now - duration({days: t.queue_days}))
    AND (afterDue IS NULL OR s.promisedAt > afterDue
      OR (s.promisedAt = afterDue AND s.id > $afterId))
    AND """
    + may_fall_due("Shipment", "s")
    + " AND "
    + of_brands("(s)<-[:SHIPPED_AS]-(:Order)<-[:PLACED]-(:Customer)", "sbrand")
    + """
  MATCH (s)<-[:SHIPPED_AS]-(o:Order)<-[:PLACED]-(c:Customer) WHERE """
    + live_order("o")
    + """
  WITH now, t, s, o, c, """
    + parcel_last_update("s", "o", "c")
    + """ AS last
  WHERE """
    + parcel_due("s", "last")
    + " <= now"
)
_PARCEL_PAGE: LiteralString = """
  WITH now, t, s, o, c, last ORDER BY s.queueTier, s.promisedAt, s.id LIMIT $limit"""
_PARCEL_ITEM: LiteralString = """
  RETURN c, s AS subject, s.promisedAt AS due, s.id AS id, 'LATE_SHIPMENT' AS reason,
    'PROACTIVE_DELIVERY_UPDATE' AS action,
    {number: o.number, carrier: s.carrier, at: s.promisedAt, last: last} AS facts"""

_REFUND_SEEK: LiteralString = (
    """
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
  MATCH (r)-[:RETURNS]->(o:Order)<-[:PLACED]-(c:Customer)"""
)
_REFUND_PAGE: LiteralString = """
  WITH now, t, r, o, c ORDER BY r.queueTier, r.receivedAt, r.id LIMIT $limit"""
_REFUND_ITEM: LiteralString = """
  WITH now, r, o, c, r.receivedAt + duration({days: t.refund_due_days}) AS due
  RETURN c, r AS subject, due, r.id AS id, 'REFUND_OVERDUE' AS reason,
    'CONFIRM_REFUND_TIMING' AS action, {number: o.number, at: r.receivedAt, due: due} AS facts"""

_CASE_SEEK: LiteralString = (
    """
  MATCH (k:Case {queueTier: tier.tier})
  WHERE 'UNRESOLVED_CASE' IN $reasons
    AND k.openedAt <= now - duration({days: t.case_follow_up_days})
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
  MATCH (k)<-[:OPENED]-(c:Customer)
  WITH now, t, k, c, """
    + case_last_update("k", "c")
    + """ AS last
  WHERE """
    + case_due("k", "last")
    + " <= now"
)
_CASE_PAGE: LiteralString = """
  WITH now, t, k, c, last ORDER BY k.queueTier, k.openedAt, k.id LIMIT $limit"""
_CASE_ITEM: LiteralString = """
  RETURN c, k AS subject, k.openedAt + duration({days: t.case_follow_up_days}) AS due,
    k.id AS id, 'UNRESOLVED_CASE' AS reason, 'FOLLOW_UP_OPEN_CASE' AS action,
    {id: k.id, subject: k.subject, status: k.status, at: k.openedAt, last: last} AS facts"""

#: An item's fact line, from its ``reason`` and ``facts`` (and ``now``).
_DETAIL: LiteralString = (
    """CASE reason
  WHEN 'LATE_SHIPMENT' THEN 'parcel for order ' + facts.number + ' (' + facts.carrier
    + ') promised for ' + toString(date(facts.at)) + ' (' + """
    + _days("facts.at")
    + """ + ' ago), not delivered; ' + """
    + _told("facts.last", "'nobody has told the customer'")
    + """
  WHEN 'REFUND_OVERDUE' THEN 'return of order ' + facts.number + ' received '
    + toString(date(facts.at)) + ', refund not paid (due ' + toString(date(facts.due)) + ', ' + """
    + _days("facts.due")
    + """ + ' overdue)'
  ELSE 'case ' + facts.id + ' (' + facts.subject + ') ' + facts.status + ' since '
    + toString(date(facts.at)) + ' (' + """
    + _days("facts.at")
    + """ + '); ' + """
    + _told("facts.last", "'no update sent'")
    + """
END"""
)

#: The seeks of parcels, refunds and cases: ctxapi.webhooks.due announces what they find.
SEEKS = (_PARCEL_SEEK, _REFUND_SEEK, _CASE_SEEK)


def _items(paged: bool) -> LiteralString:
    """The items due now of each tier (of each kind the first ``$limit`` in due order when
    ``paged``, else all), one row each: ``c``, ``subject``, ``due``, ``id``, ``reason``,
    ``action``, ``facts`` (``_DETAIL`` makes its line) and the item's ``key``; ``now`` is
    kept."""
    parcels, refunds, cases = (_PARCEL_PAGE, _REFUND_PAGE, _CASE_PAGE) if paged else ("", "", "")
    return (
        "CALL (now, t, tier, afterDue) {"
        + _PARCEL_SEEK + parcels + _PARCEL_ITEM
        + "\n  UNION" + _REFUND_SEEK + refunds + _REFUND_ITEM
        + "\n  UNION" + _CASE_SEEK + cases + _CASE_ITEM
        + """
}
WITH now, c, subject, due, id, reason, action, facts,
  due - duration({hours: tier.head_hours}) AS key
"""
    )  # fmt: skip


_TIERS: LiteralString = """
WITH datetime($__now) AS now, $__t AS t
UNWIND t.queue_tiers AS tier
"""
_ROOT: LiteralString = """WITH {customer: c, subject: subject, due: due, id: id, reason: reason,
  action: action, detail: detail, key: key, dueItems: dueItems,
  priority: duration.inSeconds(key, now).hours} AS root
"""

#: proactiveQueue: each tier and kind read in due order from the cursor on, ``$limit`` rows
#: at most, merged by key.
QUEUE: LiteralString = (
    _TIERS
    + """WITH now, t, tier, CASE WHEN $afterKey IS NOT NULL
    THEN datetime($afterKey) + duration({hours: tier.head_hours}) END AS afterDue
"""
    + _items(paged=True)
    + "ORDER BY key, id LIMIT $limit\nWITH *, "
    + _DETAIL
    + " AS detail, null AS dueItems\n"
    + _ROOT
)

#: proactiveCustomers: every item due in the window, grouped by customer (the most urgent
#: first), then the customers after the cursor in order of their most urgent item.
CUSTOMERS: LiteralString = (
    _TIERS
    + "WITH now, t, tier, null AS afterDue\n"
    + _items(paged=False)
    + """ORDER BY key, id
WITH now, c, collect({subject: subject, due: due, id: id, reason: reason, action: action,
  facts: facts, key: key})[0] AS top, count(*) AS dueItems
WHERE $afterKey IS NULL OR top.key > datetime($afterKey)
  OR (top.key = datetime($afterKey) AND top.id > $afterId)
WITH now, c, top.subject AS subject, top.due AS due, top.id AS id, top.reason AS reason,
  top.action AS action, top.facts AS facts, top.key AS key, dueItems
ORDER BY key, id LIMIT $limit
WITH *, """
    + _DETAIL
    + " AS detail\n"
    + _ROOT
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
        graphene.String,
        "{v}.detail",
        required=True,
        description="The facts, in one line: what is late or open since when, and the last"
        " update sent, e.g. `case CS-1 (damaged item) open since 2026-11-11 (12 days); no"
        " update sent`.",
    )
    due_at = time(
        "due",
        required=True,
        description="When it first became due: the promise, the refund's due date, or the"
        " case's opening plus case_follow_up_days. An update sent later takes the item out"
        " of the queue until it is due again, but does not move this.",
    )
    priority = value(
        graphene.Int,
        "{v}.priority",
        required=True,
        description="Hours since dueAt, counting the tier head start: higher is more urgent.",
    )
    due_items = value(
        graphene.Int,
        "{v}.dueItems",
        description="How many items of this customer are due now (of the `reasons` asked"
        " for), this one included. Counted by proactiveCustomers; null in proactiveQueue.",
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
CUSTOMERS_ENTRY = Entry(CUSTOMERS, _queue_params, needs=("__now", "__t"))


def _arguments() -> dict[str, Any]:
    """The arguments both root fields take (one set of objects per field)."""
    return {
        "first": graphene.Int(default_value=20, description="How many (0 to 100)."),
        "after": graphene.String(description="Cursor (endCursor of the previous page)."),
        "reasons": graphene.List(
            graphene.NonNull(enums.ProactiveReason), description="Only these."
        ),
    }


class ProactiveQueries(graphene.ObjectType):
    """Work for agents before the phone rings."""

    proactive_queue = entry(
        ProactiveItemConnection,
        QUEUE_ENTRY,
        resolve_entry,
        required=True,
        **_arguments(),
        description="Customers to contact before they call, most urgent first. A customer"
        " with several due items appears once per item (proactiveCustomers lists each"
        " customer once); totalCount is not computed (null).",
    )
    proactive_customers = entry(
        ProactiveItemConnection,
        CUSTOMERS_ENTRY,
        resolve_entry,
        required=True,
        **_arguments(),
        description="Each customer to contact before they call, once, at their most urgent"
        " item (the items of proactiveQueue), most urgent first, with dueItems. Exact across"
        " pages, and dearer than proactiveQueue: every page reads every item due within the"
        " queue window (queue_days) of every tier and groups them by customer before it"
        " pages. totalCount is not computed (null).",
    )
