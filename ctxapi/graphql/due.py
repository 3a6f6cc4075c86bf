"""When a late parcel or a quiet case is due for contact: one rule for the card and the queue.

``Customer.insights`` (its facts, ctxapi.graphql.signals) and ``proactiveQueue``
(ctxapi.graphql.proactive) both read these fragments, so the next best action and the queue
item agree on what is due and when. Each function fills in the names its caller binds; the
fragments read the thresholds as ``t`` and only the customer's own contacts count (checked
from the contact: ``(who)-[:HAD]->(upd) WHERE who = c``, never by expanding the customer).

- A parcel of a live order (not cancelled, not an abandoned cart) that is not delivered is
  due at its promise; an update sent about it (an outbound contact about the parcel or its
  order, at or after the promise) makes it due again ``delivery_update_days`` after the update.
- An open case is due ``case_follow_up_days`` after it was opened, or after the last update
  sent on it (an outbound contact part of it), whichever is later.
"""

from __future__ import annotations

from typing import LiteralString


def live_order(order: LiteralString) -> LiteralString:
    """The order counts as a purchase (``$__counted``: not cancelled, not an abandoned cart)."""
    return order + ".status IN $__counted"


def parcel_last_update(
    parcel: LiteralString, order: LiteralString, customer: LiteralString
) -> LiteralString:
    """The time of the latest update sent to ``customer`` about ``parcel`` or its ``order``
    since the parcel's promise; null when none was sent."""
    mine = " AND upd.direction = 'outbound' AND upd.occurredAt >= " + parcel + ".promisedAt"
    mine += " AND EXISTS { (who)-[:HAD]->(upd) WHERE who = " + customer + " }"
    return (
        "reduce(m = null, x IN COLLECT { MATCH (" + parcel + ")<-[:ABOUT]-(upd:Interaction)"
        " WHERE true" + mine + " RETURN upd.occurredAt AS at"
        " UNION MATCH (" + order + ")<-[:ABOUT]-(upd:Interaction) WHERE true" + mine
        + " RETURN upd.occurredAt AS at } | CASE WHEN m IS NULL OR x > m THEN x ELSE m END)"
    )  # fmt: skip


def parcel_due(parcel: LiteralString, last_update: LiteralString) -> LiteralString:
    """When a parcel not delivered is due for an update, given its ``last_update``."""
    return (
        "CASE WHEN " + last_update + " IS NULL THEN " + parcel + ".promisedAt ELSE "
        + last_update + " + duration({days: t.delivery_update_days}) END"
    )  # fmt: skip


def case_last_update(case: LiteralString, customer: LiteralString) -> LiteralString:
    """The time of the latest update sent to ``customer`` on ``case``; null when none was."""
    return (
        "reduce(m = null, x IN COLLECT { MATCH (" + case + ")<-[:PART_OF]-(upd:Interaction)"
        " WHERE upd.direction = 'outbound' AND EXISTS { (who)-[:HAD]->(upd) WHERE who = "
        + customer + " }"
        " RETURN upd.occurredAt AS at } | CASE WHEN m IS NULL OR x > m THEN x ELSE m END)"
    )  # fmt: skip


def case_due(case: LiteralString, last_update: LiteralString) -> LiteralString:
    """When an open case is due for a follow-up, given its ``last_update``."""
    return (
        "CASE WHEN " + last_update + " > " + case + ".openedAt THEN " + last_update + " ELSE "
        + case + ".openedAt END + duration({days: t.case_follow_up_days})"
    )  # fmt: skip
