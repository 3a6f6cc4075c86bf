"""Cypher for ``Customer.insights``: the facts the rules of ``ctxapi.rules`` judge.

``INSIGHTS_FACTS`` is one fixed fragment that binds ``{c}`` to one map of a customer's facts:
money per currency, the latest contacts, cases (open first) with their first contacts and last
update, parcels, returns, feedback and carts. Each list is bounded by the window and a cap
from the thresholds (``$__t.contacts_cap`` …), so a customer with 10,000 contacts costs what
one with 200 does, beyond reading their contacts' times once. ``ctxapi.rules.facts`` types
the map. When a parcel or a case is due comes from ``ctxapi.graphql.due``, the fragments the
proactive queue reads too. Times travel as text (``toString``): the driver decodes a
temporal value a hundred times slower than a string, and a heavy customer's facts hold
hundreds. A link back to the customer is written ``(who) WHERE who = cu``:
with ``(cu)`` in the pattern, Neo4j may expand from the customer, over all their contacts,
once per case.

``SHARED_FACTS`` is what the customer has in common with other customers (identifiers,
problem reports); it stays Cypher and is compiled like any field, as it lists customers.
Thresholds arrive as the map parameter ``$__t`` and the clock as ``$__now``, so the text never
changes.
"""

from __future__ import annotations

from typing import LiteralString

from ctxapi.access.brands import in_brands
from ctxapi.graphql.due import (
    case_due,
    case_last_update,
    live_order,
    parcel_due,
    parcel_last_update,
)
from ctxapi.graphql.scalars import REFERENCE_LABEL
from ctxapi.model import OPEN_CASES, ReferenceType

#: Other customers (shared identities, the same problem) count only within the key's brands.
_OTHER_IN_BRANDS = in_brands("other")

_REFERENCE_TYPES: dict[LiteralString, LiteralString] = {
    "Order": "'order'",
    "Shipment": "'shipment'",
    "Return": "'return'",
    "Product": "'product'",
    "Case": "'case'",
    "Interaction": "'interaction'",
    "Feedback": "'feedback'",
}
if {v.strip("'") for v in _REFERENCE_TYPES.values()} != {t.value for t in ReferenceType}:
    raise ValueError("the reference types of ctxapi.graphql.signals are out of step")


def _ref(var: LiteralString, label: LiteralString) -> LiteralString:
    """The API's ``Reference`` of the node ``var`` (a ``label``) as a map, labelled like
    ``Reference.label``."""
    return (
        "{type: " + _REFERENCE_TYPES[label] + ", id: " + var + ".id, label: "
        + REFERENCE_LABEL.replace("{v}", var) + "}"
    )  # fmt: skip


INSIGHTS_FACTS: LiteralString = (
    """
CALL ({v}) {
  WITH {v} AS cu, datetime($__now) AS now, $__t AS t
  WITH cu, now, t, now - duration({days: t.window_days}) AS since
  WITH *, COLLECT { MATCH (cu)-[:PLACED]->(o:Order) WHERE o.status IN $__counted
      RETURN [o.currency, coalesce(o.totalMinor, 0), o.placedAt] } AS placed
  WITH *, [cur IN reduce(cs = [], x IN placed | CASE WHEN x[0] IN cs THEN cs ELSE cs + [x[0]] END)
    | {currency: cur, orders: size([x IN placed WHERE x[0] = cur]),
      gross: reduce(g = 0, x IN placed | g + CASE WHEN x[0] = cur THEN x[1] ELSE 0 END),
      last: toString(reduce(m = null, x IN placed | CASE WHEN x[0] = cur AND (m IS NULL OR x[2] > m)
        THEN x[2] ELSE m END)),
      lastYear: size([x IN placed WHERE x[0] = cur AND x[2] >= now - duration({days: 365})])}]
    AS totals
  RETURN {
    now: toString(now),
    tier: cu.tier,
    totals: totals,
    refunds: COLLECT { MATCH (cu)-[:PLACED]->(o:Order)<-[:RETURNS]-(r:Return {status: 'refunded'})
      RETURN [o.currency, coalesce(r.refundMinor, 0)] },
    contacts: COLLECT { MATCH (cu)-[:HAD]->(i:Interaction) WHERE i.occurredAt >= since
      WITH * ORDER BY i.occurredAt DESC, i.id DESC LIMIT $__t.contacts_cap
      RETURN {ref: """
    + _ref("i", "Interaction")
    + """, channel: i.channel, direction: i.direction,
        at: toString(i.occurredAt), respondedAt: toString(i.respondedAt), topic: i.topic,
        status: i.status,
        selfService: i.selfService, sentiment: i.sentiment, summary: i.summary,
        case: COLLECT { MATCH (i)-[:PART_OF]->(k:Case)<-[:OPENED]-(who) WHERE who = cu
          RETURN k.id }[0]} },
    cases: COLLECT { MATCH (cu)-[:OPENED]->(k:Case)
      WHERE k.openedAt >= since OR k.status IN """
    + OPEN_CASES
    + """
      WITH * ORDER BY CASE WHEN k.status IN """
    + OPEN_CASES
    + """ THEN 0 ELSE 1 END, k.openedAt DESC, k.id DESC
      LIMIT $__t.cases_cap
      WITH *, """
    + case_last_update("k", "cu")
    + """ AS lastUpdate
      RETURN {ref: """
    + _ref("k", "Case")
    + """, id: k.id, subject: k.subject, status: k.status,
        openedAt: toString(k.openedAt), resolvedAt: toString(k.resolvedAt),
        lastUpdate: toString(lastUpdate), followUpDue: toString("""
    + case_due("k", "lastUpdate")
    + """),
        contactCount: COUNT { MATCH (k)<-[:PART_OF]-(x:Interaction)<-[:HAD]-(who) WHERE who = cu },
        contacts: COLLECT { MATCH (k)<-[:PART_OF]-(x:Interaction)<-[:HAD]-(who) WHERE who = cu
          WITH x ORDER BY x.occurredAt, x.id LIMIT $__t.case_contacts_cap
          RETURN [x.channel, coalesce(x.selfService, false)] },
        rated: EXISTS { MATCH (k)<-[:RATES]-(:Feedback)<-[:GAVE]-(who) WHERE who = cu }
          OR EXISTS { MATCH (k)<-[:PART_OF]-(:Interaction)<-[:RATES]-(:Feedback)<-[:GAVE]-(who)
            WHERE who = cu }} },
    parcels: COLLECT { MATCH (cu)-[:PLACED]->(o:Order)-[:SHIPPED_AS]->(s:Shipment)
      WHERE s.promisedAt >= since OR s.deliveredAt >= since
      WITH * ORDER BY CASE WHEN s.deliveredAt IS NULL THEN 0 ELSE 1 END,
        coalesce(s.deliveredAt, s.promisedAt) DESC, s.id DESC
      LIMIT $__t.parcels_cap
      WITH *, CASE WHEN s.deliveredAt IS NULL THEN """
    + parcel_last_update("s", "o", "cu")
    + """ END AS lastUpdate
      RETURN {ref: """
    + _ref("s", "Shipment")
    + """, order: """
    + _ref("o", "Order")
    + """, number: o.number,
        orderStatus: o.status, live: """
    + live_order("o")
    + """, carrier: s.carrier, status: s.status,
        promisedAt: toString(s.promisedAt), deliveredAt: toString(s.deliveredAt),
        condition: s.condition, lastUpdate: toString(lastUpdate),
        updateDue: CASE WHEN s.deliveredAt IS NULL THEN toString("""
    + parcel_due("s", "lastUpdate")
    + """) END,
        total: o.totalMinor, currency: o.currency} },
    returns: COLLECT { MATCH (cu)-[:PLACED]->(o:Order)<-[:RETURNS]-(r:Return)
      WHERE r.status = 'received' OR coalesce(r.refundedAt, r.receivedAt, r.requestedAt) >= since
      WITH * ORDER BY CASE WHEN r.status = 'received' THEN 0 ELSE 1 END,
        coalesce(r.refundedAt, r.receivedAt, r.requestedAt) DESC, r.id DESC
      LIMIT $__t.returns_cap
      RETURN {ref: """
    + _ref("r", "Return")
    + """, order: """
    + _ref("o", "Order")
    + """, number: o.number,
        status: r.status, reason: r.reason, requestedAt: toString(r.requestedAt),
        receivedAt: toString(r.receivedAt), refundedAt: toString(r.refundedAt),
        total: o.totalMinor,
        currency: o.currency} },
    feedback: COLLECT { MATCH (cu)-[:GAVE]->(f:Feedback)
      WITH * ORDER BY f.submittedAt DESC, f.id DESC LIMIT $__t.feedback_cap
      RETURN {ref: """
    + _ref("f", "Feedback")
    + """, kind: f.kind, score: f.score, at: toString(f.submittedAt),
        comment: f.comment, bought: NOT EXISTS { MATCH (f)-[:RATES]->(:Product) }
          OR EXISTS { MATCH (f)-[:RATES]->(:Product)<-[:CONTAINS]-(o:Order)<-[:PLACED]-(cu)
            WHERE o.status IN $__counted }} },
    carts: COLLECT { MATCH (cu)-[:PLACED]->(o:Order {status: 'abandoned'})
      WHERE o.placedAt >= now - duration({days: t.cart_days})
      WITH * ORDER BY o.placedAt DESC, o.id DESC LIMIT 10
      RETURN {ref: """
    + _ref("o", "Order")
    + """, number: o.number, at: toString(o.placedAt),
        items: COUNT { MATCH (o)-[:CONTAINS]->() },
        boughtSince: EXISTS { MATCH (cu)-[:PLACED]->(later:Order)
          WHERE later.placedAt > o.placedAt AND later.status IN $__counted }} }
  } AS {c}
}
"""
)


SHARED_FACTS: LiteralString = (
    """
CALL ({v}) {
  WITH {v} AS cu, datetime($__now) AS now, $__t AS t
  RETURN {identities:
    COLLECT { MATCH (cu)<-[:IDENTIFIES]-(id:Identity)
      WITH id, COLLECT { MATCH (id)-[:IDENTIFIES]->(other:Customer) WHERE other <> cu AND """
    + _OTHER_IN_BRANDS
    + """
        WITH other ORDER BY other.id RETURN other } AS others
      WITH id, others WHERE size(others) > 0
      WITH id, others ORDER BY id.kind, id.value
      RETURN {identity: id, others: others} },
  problems:

    COLLECT {
      MATCH (cu)-[:PLACED]->(o:Order)-[:CONTAINS]->(p:Product)
      WHERE o.placedAt >= now - duration({days: t.shared_order_days})
        AND o.status <> 'cancelled'
      WITH DISTINCT p
      WITH p, COLLECT { CALL (p, cu, now, t) {
        MATCH (p)<-[:CONTAINS]-(:Order)<-[:ABOUT]-(i:Interaction)<-[:HAD]-(other:Customer)
        WHERE other <> cu AND """
    + _OTHER_IN_BRANDS
    + """ AND i.occurredAt >= now - duration({days: t.shared_problem_days})
          AND i.topic IN t.product_problem_topics
        RETURN other, i.occurredAt AS at
        UNION
        MATCH (p)<-[:ABOUT]-(i:Interaction)<-[:HAD]-(other:Customer)
        WHERE other <> cu AND """
    + _OTHER_IN_BRANDS
    + """ AND i.occurredAt >= now - duration({days: t.shared_problem_days})
          AND (i.sentiment <= t.problem_sentiment OR i.topic IN t.product_problem_topics)
        RETURN other, i.occurredAt AS at
        UNION
        MATCH (p)<-[:RATES]-(f:Feedback)<-[:GAVE]-(other:Customer)
        WHERE other <> cu AND """
    + _OTHER_IN_BRANDS
    + """ AND f.submittedAt >= now - duration({days: t.shared_problem_days})
          AND f.kind = 'review' AND f.score <= t.review_negative_max
        RETURN other, f.submittedAt AS at
      } RETURN {other: other, at: at} } AS reports
      WITH p, size(COLLECT { UNWIND reports AS x RETURN DISTINCT x.other }) AS others,
        reduce(m = null, x IN reports | CASE WHEN m IS NULL
            OR x.at > m THEN x.at ELSE m END) AS lastAt
      WITH p, others, lastAt WHERE others > 0
      WITH p, others, lastAt ORDER BY others DESC, p.id LIMIT 5
      RETURN {about: p, others: others, lastAt: lastAt,
        detail: toString(others) + ' other customer(s) reported a problem with ' + p.name
          + ' since ' + toString(date(now - duration({days: t.shared_problem_days})))} } +
    COLLECT {
      MATCH (cu)-[:PLACED]->(o:Order)-[:SHIPPED_AS]->(s:Shipment)
      WHERE s.shippedAt >= now - duration({days: t.shared_order_days})
      WITH o, s, COLLECT { MATCH (s)<-[:ABOUT]-(i:Interaction)<-[:HAD]-(other:Customer)
        WHERE other <> cu AND """
    + _OTHER_IN_BRANDS
    + """ AND i.occurredAt >= now - duration({days: t.shared_problem_days})
        RETURN {other: other, at: i.occurredAt} } AS reports
      WITH o, s, size(COLLECT { UNWIND reports AS x RETURN DISTINCT x.other }) AS others,
        reduce(m = null, x IN reports | CASE WHEN m IS NULL
            OR x.at > m THEN x.at ELSE m END) AS lastAt
      WITH o, s, others, lastAt WHERE others > 0
      RETURN {about: s, others: others, lastAt: lastAt,
        detail: toString(others) + ' other customer(s) contacted us about the parcel for order '
            + o.number} }
  } AS {c}
}
"""
)
