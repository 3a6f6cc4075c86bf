"""Cypher for ``Customer.insights``: every signal of docs/insights.md, computed in the graph.

``INSIGHTS_FACTS`` is one fixed fragment. It runs once per customer inside the context query (so
selecting insights adds no round trip), binds the customer's facts step by step — value,
effort, experiences, sentiment — derives the churn risk and the next best actions from them,
and returns one map that the types of ``ctxapi.graphql.insights`` project like any other
node. Thresholds arrive as the map parameter ``$__t`` and the clock as ``$__now``, so the
text never changes.
"""

from __future__ import annotations

from typing import LiteralString

from ctxapi.graphql.brand_scope import in_brands
from ctxapi.model import CLOSED_CASES, FAILED_CONTACTS, OPEN_CASES

#: Other customers (shared identities, the same problem) count only within the key's brands.
_OTHER_IN_BRANDS = in_brands("other")

INSIGHTS_FACTS: LiteralString = (
    """
CALL ({v}) {
  WITH {v} AS cu, datetime($__now) AS now, $__t AS t
  WITH cu, now, t, now - duration({days: t.window_days}) AS since
  WITH cu, now, t, since,
    COLLECT { MATCH (cu)-[:PLACED]->(o:Order) WHERE o.status IN $__counted RETURN o } AS placed,
    COLLECT { MATCH (cu)-[:PLACED]->(:Order)<-[:RETURNS]-(r:Return {status: 'refunded'})
      RETURN coalesce(r.refundMinor, 0) } AS refunds,
    COLLECT { MATCH (cu)-[:OPENED]->(k:Case)
      WHERE k.openedAt >= since OR k.status IN """
    + OPEN_CASES
    + """
      WITH k, COLLECT { MATCH (k)<-[:PART_OF]-(i:Interaction)<-[:HAD]-(cu)
        WITH i ORDER BY i.occurredAt, i.id RETURN i } AS contacts
      RETURN {node: k, open: k.status IN """
    + OPEN_CASES
    + """, contacts: size(contacts),
        switches: size([x IN range(1, size(contacts) - 1)
          WHERE contacts[x].channel <> contacts[x - 1].channel]),
        botToAgent: size(contacts) > 1 AND coalesce(contacts[0].selfService, false)
          AND any(x IN contacts WHERE NOT coalesce(x.selfService, false)),
        hours: CASE WHEN k.resolvedAt IS NOT NULL
          THEN duration.inSeconds(k.openedAt,
              k.resolvedAt).seconds / 3600.0 END} } AS caseFacts,
    COUNT { MATCH (cu)-[:HAD]->(i:Interaction)
      WHERE i.occurredAt >= since AND i.direction = 'inbound' AND EXISTS {
        MATCH (cu)-[:HAD]->(j:Interaction) WHERE j.direction = 'inbound' AND j.topic = i.topic
          AND j.occurredAt < i.occurredAt
          AND j.occurredAt >= i.occurredAt - duration({days: t.repeat_contact_days}) } } AS repeats,
    COLLECT { MATCH (cu)-[:HAD]->(i:Interaction)
      WHERE i.occurredAt >= now - duration({days: 30}) AND i.selfService
        AND i.status IN """
    + FAILED_CONTACTS
    + """
      WITH i ORDER BY i.occurredAt DESC RETURN i } AS failedBots,
    COLLECT { MATCH (cu)-[:HAD]->(i:Interaction)
      WHERE i.occurredAt >= since AND i.direction = 'inbound'
        AND NOT coalesce(i.selfService, false) AND i.respondedAt IS NOT NULL
      RETURN duration.inSeconds(i.occurredAt, i.respondedAt).seconds / 60.0 } AS responses
  WITH *, size(placed) AS orders,
    reduce(x = 0, o IN placed | x + coalesce(o.totalMinor, 0)) AS gross,
    reduce(x = 0, r IN refunds | x + r) AS refunded,
    reduce(x = null, o IN placed | CASE WHEN x IS NULL OR o.placedAt > x THEN o.placedAt
      ELSE x END) AS lastOrderAt,
    placed[0].currency AS currency,
    size([o IN placed WHERE o.placedAt >= now - duration({days: 365})]) AS ordersLastYear,
    size(caseFacts) AS cases,
    reduce(x = 0, k IN caseFacts | x + k.contacts) AS caseContacts,
    reduce(x = 0, k IN caseFacts | x + k.switches) AS switches,
    size([k IN caseFacts WHERE k.botToAgent]) AS botToAgent,
    [k IN caseFacts WHERE k.hours IS NOT NULL | k.hours] AS hours,
    [k IN caseFacts WHERE k.open AND (k.contacts >= t.escalate_contacts
      OR k.switches >= t.escalate_switches)] AS hardCases,
    CASE WHEN size(responses) = 0 THEN null
      ELSE reduce(x = 0.0, m IN responses | x + m) / size(responses) END AS firstResponseMinutes
  WITH *, CASE WHEN size(hours) = 0 THEN null
    ELSE reduce(x = 0.0, h IN hours | x + h) / size(hours) END AS resolutionHours
  WITH *, gross - refunded AS net,
    CASE WHEN lastOrderAt IS NULL THEN null ELSE duration.inDays(lastOrderAt,
        now).days END AS daysSinceOrder,
    CASE WHEN cases = 0 THEN null ELSE toFloat(caseContacts) / cases END AS contactsPerCase,
    COLLECT { MATCH (cu)-[:HAD]->(i:Interaction) WHERE i.status = 'unanswered'
        AND i.direction = 'inbound'
      AND i.occurredAt >= now - duration({days: t.question_days})
      WITH i ORDER BY i.occurredAt DESC RETURN i } AS unanswered
  WITH *,
    COLLECT {
      CALL (cu, since, now, t) {
        MATCH (cu)-[:OPENED]->(k:Case) WHERE k.status IN """
    + OPEN_CASES
    + """
        RETURN {kind: 'UNRESOLVED_CASE', at: k.openedAt, node: k, ongoing: true,
          label: 'unresolved case ' + k.id,
          detail: 'case ' + k.id + ' ' + k.status + ' since ' + toString(date(k.openedAt))
              + ': ' + k.subject} AS e
        UNION
        MATCH (cu)-[:GAVE]->(f:Feedback) WHERE f.submittedAt >= since
          AND ((f.kind = 'csat' AND f.score <= t.csat_negative_max)
            OR (f.kind = 'nps' AND f.score <= t.nps_detractor_max)
            OR (f.kind = 'review' AND f.score <= t.review_negative_max)
            OR (f.kind = 'ces' AND f.score <= t.ces_negative_max))
        RETURN {kind: CASE f.kind WHEN 'nps' THEN 'NPS_DETRACTOR' WHEN 'csat' THEN 'LOW_CSAT'
            WHEN 'ces' THEN 'HIGH_EFFORT_SCORE' ELSE 'LOW_REVIEW' END,
          at: f.submittedAt, node: f, ongoing: false,
          label: toUpper(f.kind) + ' ' + toString(f.score),
          detail: toUpper(f.kind) + ' ' + toString(f.score) + coalesce(': "' + f.comment + '"',
              '')} AS e
        UNION
        MATCH (cu)-[:PLACED]->(o:Order)-[:SHIPPED_AS]->(s:Shipment)
        WHERE s.promisedAt >= since AND s.status <> 'returned'
          AND (s.deliveredAt > s.promisedAt OR (s.deliveredAt IS NULL AND s.promisedAt < now))
        RETURN {kind: 'LATE_DELIVERY', at: s.promisedAt, node: s,
            ongoing: s.deliveredAt IS NULL,
          label: 'late delivery of ' + o.number,
          detail: 'order ' + o.number + CASE WHEN s.deliveredAt IS NULL
            THEN ' not delivered, promised for ' + toString(date(s.promisedAt))
            ELSE ' delivered ' + toString(toInteger(ceil(
              duration.inSeconds(s.promisedAt, s.deliveredAt).seconds / 86400.0)))
              + ' day(s) late' END} AS e
        UNION
        MATCH (cu)-[:PLACED]->(o:Order)-[:SHIPPED_AS]->(s:Shipment {condition: 'damaged'})
        WHERE s.deliveredAt >= since
        RETURN {kind: 'DAMAGED_DELIVERY', at: s.deliveredAt, node: s, ongoing: false,
          label: 'damaged delivery of ' + o.number,
          detail: 'order ' + o.number + ' arrived damaged on '
              + toString(date(s.deliveredAt))} AS e
        UNION
        MATCH (cu)-[:PLACED]->(o:Order)<-[:RETURNS]-(r:Return {status: 'rejected'})
        WHERE coalesce(r.receivedAt, r.requestedAt) >= since
        RETURN {kind: 'REFUSED_RETURN', at: coalesce(r.receivedAt, r.requestedAt), node: r,
          label: 'refused return of ' + o.number,
          ongoing: false, detail: 'return of order ' + o.number + ' refused: ' + r.reason} AS e
      }
      RETURN e
    } AS negatives,
    COLLECT {
      CALL (cu, since, t) {
        MATCH (cu)-[:PLACED]->(:Order)-[:SHIPPED_AS]->(s:Shipment)
        WHERE s.deliveredAt >= since AND s.deliveredAt <= s.promisedAt
          AND coalesce(s.condition, 'ok') = 'ok'
        RETURN s.deliveredAt AS at
        UNION ALL
        MATCH (cu)-[:GAVE]->(f:Feedback) WHERE f.submittedAt >= since
          AND ((f.kind = 'csat' AND f.score >= t.csat_positive_min)
            OR (f.kind = 'nps' AND f.score >= t.nps_promoter_min)
            OR (f.kind = 'review' AND f.score >= t.review_positive_min)
            OR (f.kind = 'ces' AND f.score >= t.ces_positive_min))
        RETURN f.submittedAt AS at
        UNION ALL
        MATCH (cu)-[:HAD]->(i:Interaction)
        WHERE i.occurredAt >= since AND i.sentiment >= t.positive_sentiment
        RETURN i.occurredAt AS at
        UNION ALL
        MATCH (cu)-[:PLACED]->(:Order)<-[:RETURNS]-(r:Return {status: 'refunded'})
        WHERE r.refundedAt >= since
        RETURN r.refundedAt AS at
      }
      RETURN at
    } AS positives,
    COLLECT {
      CALL (cu) {
        MATCH (cu)-[:HAD]->(i:Interaction) WHERE i.sentiment IS NOT NULL
        RETURN i.occurredAt AS at, toFloat(i.sentiment) AS score, i AS node
        UNION
        MATCH (cu)-[:GAVE]->(f:Feedback)
        RETURN f.submittedAt AS at, f AS node, CASE
          WHEN f.kind = 'nps' AND f.score >= 9 THEN (f.score - 8) / 2.0
          WHEN f.kind = 'nps' AND f.score >= 7 THEN 0.0
          WHEN f.kind = 'nps' THEN (f.score - 7) / 7.0
          WHEN f.kind = 'ces' THEN (f.score - 4) / 3.0
          ELSE (f.score - 3) / 2.0 END AS score
      }
      WITH at, score, node ORDER BY at DESC, node.id DESC LIMIT $__points
      RETURN {at: at, score: score, node: node}
    } AS points
  WITH *, COLLECT { UNWIND negatives AS n
      WITH n WHERE n.ongoing OR size([p IN positives WHERE p > n.at]) < t.recovery_ratio
      RETURN n ORDER BY n.ongoing DESC, n.at DESC } AS open,
    size(points) AS npoints
  WITH *, points[..(npoints + 1) / 2] AS latest, points[(npoints + 1) / 2..] AS earlier
  WITH *, CASE WHEN npoints = 0 THEN null ELSE reduce(s = 0.0, p IN latest | s
      + p.score) / size(latest) END AS current,
    CASE WHEN size(earlier) = 0 THEN null ELSE reduce(s = 0.0, p IN earlier | s
        + p.score) / size(earlier) END AS previous
  WITH *, CASE WHEN previous IS NULL THEN 'UNKNOWN'
      WHEN current - previous >= t.sentiment_change THEN 'IMPROVING'
      WHEN previous - current >= t.sentiment_change THEN 'WORSENING' ELSE 'STEADY' END AS direction
  WITH *,
    [x IN [
      CASE WHEN cu.tier IN t.vip_tiers THEN 'tier ' + cu.tier END,
      CASE WHEN net >= t.vip_lifetime_value THEN 'lifetime value above the VIP threshold' END,
      CASE WHEN ordersLastYear >= t.vip_orders_per_year
        THEN toString(ordersLastYear) + ' orders in the last 12 months' END
    ] WHERE x IS NOT NULL] AS vipBecause,
    round(0.3 * CASE WHEN contactsPerCase IS NULL OR contactsPerCase <= 1 THEN 0.0
        WHEN contactsPerCase >= 4 THEN 1.0 ELSE (contactsPerCase - 1) / 3.0 END
      + 0.25 * CASE WHEN switches >= 3 THEN 1.0 ELSE switches / 3.0 END
      + 0.2 * CASE WHEN repeats >= 2 THEN 1.0 ELSE repeats / 2.0 END
      + 0.15 * CASE WHEN botToAgent >= 2 THEN 1.0 ELSE botToAgent / 2.0 END
      + 0.1 * CASE WHEN size(unanswered) > 0 THEN 1.0 ELSE 0.0 END, 2) AS effort,
    COLLECT { MATCH (cu)-[:GAVE]->(f:Feedback {kind: 'nps'}) WHERE f.submittedAt >= since
      WITH f ORDER BY f.submittedAt DESC LIMIT 1 RETURN f }[0] AS lastNps
  WITH *, [x IN [
      CASE WHEN size(open) > 0 THEN {code: 'OPEN_NEGATIVES',
        weight: CASE WHEN t.weights.open_negative * size(open) > t.weights.open_negatives_max
          THEN t.weights.open_negatives_max ELSE t.weights.open_negative * size(open) END,
        detail: toString(size(open)) + ' open negative experience(s): '
          + reduce(s = '', n IN open | s + CASE s WHEN '' THEN '' ELSE ', ' END + n.label)} END,
      CASE WHEN lastNps.score <= t.nps_detractor_max THEN {code: 'DETRACTOR',
          weight: t.weights.detractor,
        detail: 'latest NPS answer is ' + toString(lastNps.score) + ' (a detractor) on '
            + toString(date(lastNps.submittedAt))} END,
      CASE WHEN current <= t.negative_sentiment
          OR direction = 'WORSENING' THEN {code: 'SENTIMENT',
        weight: t.weights.sentiment, detail: 'sentiment ' + toLower(direction)
            + ', latest average '
          + toString(round(current, 2))} END,
      CASE WHEN effort > 0 THEN {code: 'EFFORT', weight: round(t.weights.effort * effort, 3),
        detail: 'effort score ' + toString(effort)} END,
      CASE WHEN daysSinceOrder >= t.lapsed_days THEN {code: 'LAPSED', weight: t.weights.lapsed,
          detail: 'no order for ' + toString(daysSinceOrder) + ' days'}
        WHEN daysSinceOrder >= t.lapsed_days / 2 THEN {code: 'COOLING',
            weight: t.weights.cooling,
          detail: 'no order for ' + toString(daysSinceOrder) + ' days'} END
    ] WHERE x IS NOT NULL] AS factors
  WITH *, COLLECT { UNWIND factors AS x WITH x ORDER BY x.weight DESC, x.code RETURN x }
    AS factors,
    reduce(s = 0.0, x IN factors | s + x.weight) AS total
  WITH *, CASE WHEN total > 1 THEN 1.0 ELSE round(total, 2) END AS risk
  WITH *,
    COLLECT { MATCH (cu)-[:PLACED]->(o:Order)-[:SHIPPED_AS]->(s:Shipment)
      WHERE s.deliveredAt IS NULL AND s.status <> 'returned' AND s.promisedAt < now
          AND s.promisedAt >= since
      WITH o, s, duration.inDays(s.promisedAt, now).days AS late,
        COLLECT { MATCH (cu)-[:HAD]->(i:Interaction)-[:ABOUT]->(x) WHERE (x = s OR x = o)
          AND i.direction = 'outbound' AND i.occurredAt >= s.promisedAt
          WITH i ORDER BY i.occurredAt DESC LIMIT 1 RETURN i.occurredAt }[0] AS told
      ORDER BY s.promisedAt
      RETURN {kind: 'PROACTIVE_DELIVERY_UPDATE',
          priority: CASE WHEN told IS NULL THEN 90 ELSE 55 END,
        reason: 'parcel for order ' + o.number + ' (' + s.carrier + ') was promised for '
          + toString(date(s.promisedAt)) + ', ' + toString(late)
              + ' day(s) ago, and is not delivered; '
          + CASE WHEN told IS NULL THEN 'nobody has told the customer'
            ELSE 'last update sent ' + toString(date(told)) END,
        about: [s, o]} } AS lateActions,
    COLLECT { MATCH (cu)-[:PLACED]->(o:Order)<-[:RETURNS]-(r:Return {status: 'received'})
      WITH o, r, r.receivedAt + duration({days: t.refund_due_days}) AS due
      RETURN {kind: 'CONFIRM_REFUND_TIMING', priority: CASE WHEN due < now THEN 70 ELSE 45 END,
        reason: 'return of order ' + o.number + ' received '
          + coalesce(toString(date(r.receivedAt)), 'on a date not recorded')
          + ', refund not paid yet' + CASE WHEN due IS NULL THEN ''
            WHEN due < now THEN ', overdue since ' + toString(date(due))
            ELSE ', due by ' + toString(date(due)) END,
        about: [r, o]} } AS refundActions,
    COLLECT { MATCH (cu)-[:PLACED]->(o:Order {status: 'abandoned'})
      WHERE o.placedAt >= now - duration({days: t.cart_days})
        AND NOT EXISTS { MATCH (cu)-[:PLACED]->(later:Order) WHERE later.placedAt > o.placedAt
          AND later.status IN $__counted }
      RETURN {kind: 'RECOVER_ABANDONED_CART', priority: 60,
        reason: 'cart ' + o.number + ' abandoned on ' + toString(date(o.placedAt)) + ' with '
          + toString(COUNT { (o)-[:CONTAINS]->() }) + ' item(s), nothing ordered since',
        about: [o]} } AS cartActions,
    COLLECT { MATCH (cu)-[:OPENED]->(k:Case) WHERE k.status IN """
    + CLOSED_CASES
    + """
        AND k.resolvedAt >= now - duration({days: t.feedback_request_days})
        AND NOT EXISTS { MATCH (k)<-[:RATES]-(:Feedback) }
        AND NOT EXISTS { MATCH (k)<-[:PART_OF]-(:Interaction)<-[:RATES]-(:Feedback) }
      WITH k ORDER BY k.resolvedAt DESC
      RETURN {kind: 'REQUEST_FEEDBACK', priority: 30,
        reason: 'case ' + k.id + ' (' + k.subject + ') resolved ' + toString(date(k.resolvedAt))
          + ' and nobody asked how it went', about: [k]} } AS feedbackActions
  WITH *, [x IN [
      CASE WHEN size(vipBecause) > 0 AND size(open) > 0 THEN {kind: 'APOLOGIZE_AND_COMPENSATE',
        priority: 100, reason: 'VIP (' + reduce(s = '', v IN vipBecause | s
            + CASE s WHEN '' THEN '' ELSE ', ' END + v)
          + ') with ' + toString(size(open)) + ' open negative experience(s): '
          + reduce(s = '', n IN open | s + CASE s WHEN '' THEN '' ELSE '; ' END + n.label)
          + '; apologize and offer an incentive', about: [n IN open | n.node]} END,
      CASE WHEN size(hardCases) > 0
          OR size(failedBots) >= t.escalate_self_service_failures THEN {
        kind: 'ESCALATE_TO_LIVE_AGENT', priority: 80,
        reason: CASE WHEN size(hardCases) > 0 THEN reduce(s = '', h IN hardCases | s
            + CASE s WHEN '' THEN '' ELSE '; ' END + 'open case ' + h.node.id + ' took '
            + toString(h.contacts) + ' contacts and ' + toString(h.switches)
                + ' channel switch(es)')
          ELSE toString(size(failedBots)) + ' self-service contacts failed in 30 days' END
          + '; give it to one senior agent who owns it to the end',
        about: CASE WHEN size(hardCases) > 0 THEN [h IN hardCases | h.node]
          ELSE failedBots END} END,
      CASE WHEN size(unanswered) > 0 THEN {kind: 'ANSWER_OPEN_QUESTION', priority: 75,
        reason: toString(size(unanswered)) + ' question(s) unanswered, the oldest from '
          + toString(date(last(unanswered).occurredAt)) + ': ' + last(unanswered).summary,
        about: unanswered} END
    ] WHERE x IS NOT NULL] + lateActions + refundActions + cartActions
        + feedbackActions AS actions
  WITH *, COLLECT { UNWIND actions AS x
    WITH x ORDER BY x.priority DESC, x.kind, x.about[0].id RETURN x } AS actions
  WITH *,
    COLLECT { MATCH (cu)<-[:IDENTIFIES]-(id:Identity)
      WITH id, COLLECT { MATCH (id)-[:IDENTIFIES]->(other:Customer) WHERE other <> cu AND """
    + _OTHER_IN_BRANDS
    + """
        WITH other ORDER BY other.id RETURN other } AS others
      WITH id, others WHERE size(others) > 0
      WITH id, others ORDER BY id.kind, id.value
      RETURN {identity: id, others: others} } AS sharedIdentities,
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
          AND i.sentiment <= t.problem_sentiment
        RETURN other, i.occurredAt AS at
        UNION
        MATCH (p)<-[:ABOUT]-(i:Interaction)<-[:HAD]-(other:Customer)
        WHERE other <> cu AND """
    + _OTHER_IN_BRANDS
    + """ AND i.occurredAt >= now - duration({days: t.shared_problem_days})
          AND i.sentiment <= t.problem_sentiment
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
            + o.number} } AS problems
  RETURN {
    asOf: now,
    value: {net: net, gross: gross, refunded: refunded, currency: currency, orders: orders,
      lastYear: ordersLastYear, lastOrderAt: lastOrderAt, days: daysSinceOrder, tier: cu.tier,
      because: vipBecause},
    effort: {score: effort, level: CASE WHEN effort >= t.effort_high THEN 'high'
        WHEN effort >= t.effort_high / 2 THEN 'medium' ELSE 'low' END,
      cases: cases, perCase: round(contactsPerCase, 2), switches: switches, repeats: repeats,
      botToAgent: botToAgent, botFailures: size(failedBots), unanswered: size(unanswered),
      firstResponse: round(firstResponseMinutes, 1), resolution: round(resolutionHours, 1)},
    recovery: {positives: size(positives), negatives: size(negatives), ratio: t.recovery_ratio,
      balance: size(positives) - t.recovery_ratio * size(negatives), open: open},
    sentiment: {direction: direction, current: round(current, 2), previous: round(previous, 2),
      points: points},
    churn: {score: risk, level: CASE WHEN risk >= t.risk_high THEN 'high'
        WHEN risk >= t.risk_medium THEN 'medium' ELSE 'low' END, factors: factors},
    actions: actions,
    shared: {identities: sharedIdentities, problems: problems}
  } AS {c}
}
"""
)
