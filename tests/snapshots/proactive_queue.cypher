
WITH datetime($__now) AS now, $__t AS t
UNWIND t.queue_tiers AS tier
WITH now, t, tier, CASE WHEN $afterKey IS NOT NULL
    THEN datetime($afterKey) + duration({hours: tier.head_hours}) END AS afterDue
CALL (now, t, tier, afterDue) {
  MATCH (s:Shipment {queueTier: tier.tier})
  WHERE 'LATE_SHIPMENT' IN $reasons AND s.promisedAt <= now
    AND s.promisedAt >= now - duration({days: t.queue_days})
    AND s.promisedAt >= coalesce(afterDue, now - duration({days: t.queue_days}))
    AND (afterDue IS NULL OR s.promisedAt > afterDue
      OR (s.promisedAt = afterDue AND s.id > $afterId))
    AND s.deliveredAt IS NULL AND NOT s.status IN ['delivered', 'returned'] AND ($__brands IS NULL OR EXISTS { MATCH (s)<-[:SHIPPED_AS]-(:Order)<-[:PLACED]-(:Customer)-[:OF_BRAND]->(sbrand:Brand) WHERE sbrand.id IN $__brands })
  MATCH (s)<-[:SHIPPED_AS]-(o:Order)<-[:PLACED]-(c:Customer) WHERE o.status IN $__counted
  WITH now, t, s, o, c, reduce(m = null, x IN COLLECT { MATCH (s)<-[:ABOUT]-(upd:Interaction) WHERE true AND upd.direction = 'outbound' AND upd.occurredAt >= s.promisedAt AND EXISTS { (who)-[:HAD]->(upd) WHERE who = c } RETURN upd.occurredAt AS at UNION MATCH (o)<-[:ABOUT]-(upd:Interaction) WHERE true AND upd.direction = 'outbound' AND upd.occurredAt >= s.promisedAt AND EXISTS { (who)-[:HAD]->(upd) WHERE who = c } RETURN upd.occurredAt AS at } | CASE WHEN m IS NULL OR x > m THEN x ELSE m END) AS last
  WHERE CASE WHEN last IS NULL THEN s.promisedAt ELSE last + duration({days: t.delivery_update_days}) END <= now
  WITH now, t, s, o, c, last ORDER BY s.queueTier, s.promisedAt, s.id LIMIT $limit
  RETURN c, s AS subject, s.promisedAt AS due, s.id AS id, 'LATE_SHIPMENT' AS reason,
    'PROACTIVE_DELIVERY_UPDATE' AS action,
    {number: o.number, carrier: s.carrier, at: s.promisedAt, last: last} AS facts
  UNION
  MATCH (r:Return {queueTier: tier.tier})
  WHERE 'REFUND_OVERDUE' IN $reasons AND r.receivedAt < now - duration({days: t.refund_due_days})
    AND r.receivedAt >= now - duration({days: t.refund_due_days + t.queue_days})
    AND r.receivedAt >= coalesce(afterDue - duration({days: t.refund_due_days}),
      now - duration({days: t.refund_due_days + t.queue_days}))
    AND (afterDue IS NULL OR r.receivedAt + duration({days: t.refund_due_days}) > afterDue
      OR (r.receivedAt + duration({days: t.refund_due_days}) = afterDue AND r.id > $afterId))
    AND r.status = 'received' AND ($__brands IS NULL OR EXISTS { MATCH (r)-[:RETURNS]->(:Order)<-[:PLACED]-(:Customer)-[:OF_BRAND]->(rbrand:Brand) WHERE rbrand.id IN $__brands })
  MATCH (r)-[:RETURNS]->(o:Order)<-[:PLACED]-(c:Customer)
  WITH now, t, r, o, c ORDER BY r.queueTier, r.receivedAt, r.id LIMIT $limit
  WITH now, r, o, c, r.receivedAt + duration({days: t.refund_due_days}) AS due
  RETURN c, r AS subject, due, r.id AS id, 'REFUND_OVERDUE' AS reason,
    'CONFIRM_REFUND_TIMING' AS action, {number: o.number, at: r.receivedAt, due: due} AS facts
  UNION
  MATCH (k:Case {queueTier: tier.tier})
  WHERE 'UNRESOLVED_CASE' IN $reasons
    AND k.openedAt <= now - duration({days: t.case_follow_up_days})
    AND k.openedAt >= now - duration({days: t.case_follow_up_days + t.queue_days})
    AND k.openedAt >= coalesce(afterDue - duration({days: t.case_follow_up_days}),
      now - duration({days: t.case_follow_up_days + t.queue_days}))
    AND (afterDue IS NULL OR k.openedAt + duration({days: t.case_follow_up_days}) > afterDue
      OR (k.openedAt + duration({days: t.case_follow_up_days}) = afterDue AND k.id > $afterId))
    AND k.status IN ['open', 'pending'] AND ($__brands IS NULL OR EXISTS { MATCH (k)<-[:OPENED]-(:Customer)-[:OF_BRAND]->(kbrand:Brand) WHERE kbrand.id IN $__brands })
  MATCH (k)<-[:OPENED]-(c:Customer)
  WITH now, t, k, c, reduce(m = null, x IN COLLECT { MATCH (k)<-[:PART_OF]-(upd:Interaction) WHERE upd.direction = 'outbound' AND EXISTS { (who)-[:HAD]->(upd) WHERE who = c } RETURN upd.occurredAt AS at } | CASE WHEN m IS NULL OR x > m THEN x ELSE m END) AS last
  WHERE CASE WHEN last > k.openedAt THEN last ELSE k.openedAt END + duration({days: t.case_follow_up_days}) <= now
  WITH now, t, k, c, last ORDER BY k.queueTier, k.openedAt, k.id LIMIT $limit
  RETURN c, k AS subject, k.openedAt + duration({days: t.case_follow_up_days}) AS due,
    k.id AS id, 'UNRESOLVED_CASE' AS reason, 'FOLLOW_UP_OPEN_CASE' AS action,
    {id: k.id, subject: k.subject, status: k.status, at: k.openedAt, last: last} AS facts
}
WITH now, c, subject, due, id, reason, action, facts,
  due - duration({hours: tier.head_hours}) AS key
ORDER BY key, id LIMIT $limit
WITH *, CASE reason
  WHEN 'LATE_SHIPMENT' THEN 'parcel for order ' + facts.number + ' (' + facts.carrier
    + ') promised for ' + toString(date(facts.at)) + ' (' + toString(duration.inDays(facts.at, now).days) + CASE duration.inDays(facts.at, now).days WHEN 1 THEN ' day' ELSE ' days' END + ' ago), not delivered; ' + CASE WHEN facts.last IS NULL THEN 'nobody has told the customer' ELSE 'last update sent ' + toString(date(facts.last)) + ' (' + toString(duration.inDays(facts.last, now).days) + CASE duration.inDays(facts.last, now).days WHEN 1 THEN ' day' ELSE ' days' END + ' ago)' END
  WHEN 'REFUND_OVERDUE' THEN 'return of order ' + facts.number + ' received '
    + toString(date(facts.at)) + ', refund not paid (due ' + toString(date(facts.due)) + ', ' + toString(duration.inDays(facts.due, now).days) + CASE duration.inDays(facts.due, now).days WHEN 1 THEN ' day' ELSE ' days' END + ' overdue)'
  ELSE 'case ' + facts.id + ' (' + facts.subject + ') ' + facts.status + ' since '
    + toString(date(facts.at)) + ' (' + toString(duration.inDays(facts.at, now).days) + CASE duration.inDays(facts.at, now).days WHEN 1 THEN ' day' ELSE ' days' END + '); ' + CASE WHEN facts.last IS NULL THEN 'no update sent' ELSE 'last update sent ' + toString(date(facts.last)) + ' (' + toString(duration.inDays(facts.last, now).days) + CASE duration.inDays(facts.last, now).days WHEN 1 THEN ' day' ELSE ' days' END + ' ago)' END
END AS detail, null AS dueItems
WITH {customer: c, subject: subject, due: due, id: id, reason: reason,
  action: action, detail: detail, key: key, dueItems: dueItems,
  priority: duration.inSeconds(key, now).hours} AS root
 RETURN {n: {k0: COLLECT { WITH root.customer AS n1 WITH * LIMIT 1 RETURN {k0: n1.id, k1: n1.name, k2: n1.tier} }[0], k1: root.reason, k2: root.action, k3: root.detail, k4: root.priority, k5: COLLECT { WITH root.subject AS n2 WITH n2, [l IN labels(n2) WHERE l IN ['Order', 'Shipment', 'Return', 'Product', 'Case', 'Interaction', 'Feedback']][0] AS n2_type WITH * LIMIT 1 RETURN {k0: toLower(n2_type), k1: n2.id} }[0]}, c: [toString(root.key), root.id]} AS result
// parameters: __brands, __counted, __now, __pii, __t, afterId, afterKey, limit, reasons
