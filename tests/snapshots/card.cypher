MATCH (root:Customer {id: $key}) WHERE ($__brands IS NULL OR EXISTS { MATCH (root)-[:OF_BRAND]->(rootbrand:Brand) WHERE rootbrand.id IN $__brands }) RETURN {k0: root.id, k1: root.name, k2: root.tier, k3: COLLECT { MATCH (root)-[:OF_BRAND]->(n1:Brand) WITH * LIMIT 1 RETURN {k0: n1.name} }[0], k4: COLLECT { MATCH (root)-[:MERGED_INTO]->(n2:Customer) WHERE ($__brands IS NULL OR EXISTS { MATCH (n2)-[:OF_BRAND]->(n2brand:Brand) WHERE n2brand.id IN $__brands }) WITH * LIMIT 1 RETURN {k0: n2.id, k1: n2.name} }[0], k5: COLLECT { MATCH (n3:Identity)-[n3_l:IDENTIFIES]->(root) WITH * ORDER BY n3_l.confidence DESC, n3.value DESC RETURN {k0: n3.kind, k1: n3.value, k2: COUNT { (n3)-[:IDENTIFIES]->(n3who:Customer) WHERE ($__brands IS NULL OR EXISTS { MATCH (n3who)-[:OF_BRAND]->(n3whobrand:Brand) WHERE n3whobrand.id IN $__brands }) } - 1} }, k6: COLLECT { WITH root AS n4 WITH * LIMIT 1 RETURN {k0: COUNT { (n4)-[:PLACED]->(o:Order) WHERE o.status IN $__counted }, k1: [reduce(total = 0, x IN COLLECT { MATCH (n4)-[:PLACED]->(o:Order) WHERE o.status IN $__counted RETURN o.totalMinor } | total + x) - reduce(total = 0, x IN COLLECT { MATCH (n4)-[:PLACED]->(:Order)<-[:RETURNS]-(r:Return) WHERE r.status = 'refunded' RETURN r.refundMinor } | total + x), COLLECT { MATCH (n4)-[:PLACED]->(o:Order) RETURN o.currency LIMIT 1 }[0]], k2: toString(COLLECT { MATCH (n4)-[:HAD]->(i:Interaction) WITH i ORDER BY i.occurredAt DESC LIMIT 1 RETURN i.occurredAt }[0]), k3: COUNT { (n4)-[:OPENED]->(k:Case) WHERE k.status IN ['open', 'pending'] }} }[0], k7: {rows: COLLECT { MATCH (root)-[:PLACED]->(n5:Order) WITH * ORDER BY n5.placedAt DESC, n5.id DESC LIMIT $p0 RETURN {n: {k0: n5.number, k1: toString(n5.placedAt), k2: n5.status, k3: [n5.totalMinor, n5.currency], k4: COLLECT { MATCH (n5)-[n6_l:CONTAINS]->(n6:Product) WITH n6, n6_l, n5.currency AS n6_cur WITH * ORDER BY n6_l.line, n6.id RETURN {k0: n6_l.quantity, k1: COLLECT { WITH n6 AS n7 WITH * LIMIT 1 RETURN {k0: n7.name} }[0]} }, k5: COLLECT { MATCH (n5)-[:SHIPPED_AS]->(n8:Shipment) WITH * ORDER BY n8.shippedAt, n8.id RETURN {k0: n8.id, k1: n8.carrier, k2: n8.trackingNumber, k3: n8.status, k4: toString(n8.promisedAt), k5: toString(n8.deliveredAt), k6: n8.condition, k7: CASE WHEN n8.promisedAt IS NULL THEN false WHEN n8.deliveredAt IS NOT NULL THEN n8.deliveredAt > n8.promisedAt ELSE n8.promisedAt < datetime() END} }, k6: COLLECT { MATCH (n5)<-[:RETURNS]-(n9:Return) WITH * ORDER BY n9.requestedAt DESC, n9.id DESC RETURN {k0: n9.id, k1: n9.reason, k2: n9.status, k3: [n9.refundMinor, n9.currency], k4: toString(n9.refundedAt)} }}, c: [toString(n5.placedAt), n5.id]} }, total: null}, k8: {rows: COLLECT { MATCH (root)-[:HAD]->(n10:Interaction) WITH * ORDER BY n10.occurredAt DESC, n10.id DESC LIMIT $p1 RETURN {n: {k0: n10.id, k1: n10.channel, k2: n10.direction, k3: toString(n10.occurredAt), k4: n10.summary, k5: n10.status, k6: COLLECT { MATCH (n10)-[:HANDLED_BY]->(n11:Agent) WITH * LIMIT 1 RETURN {k0: n11.name} }[0]}, c: [toString(n10.occurredAt), n10.id]} }, total: null}, k9: COLLECT { MATCH (root)-[:OPENED]->(n12:Case) WITH * WHERE n12.status IN $p2 WITH * ORDER BY n12.openedAt DESC, n12.id DESC RETURN {k0: n12.id, k1: n12.subject, k2: n12.status, k3: n12.priority, k4: toString(n12.openedAt), k5: COLLECT { MATCH (n12)<-[:PART_OF]-(i:Interaction) WHERE EXISTS { (n12)<-[:OPENED]-(:Customer)-[:HAD]->(i) } WITH DISTINCT i.channel AS channel ORDER BY channel RETURN channel }, k6: COLLECT { MATCH (n12)<-[:PART_OF]-(n13:Interaction) WHERE EXISTS { (n12)<-[:OPENED]-(:Customer)-[:HAD]->(n13) } WITH * ORDER BY n13.occurredAt DESC, n13.id DESC RETURN {k0: n13.id} }} }, k10: COLLECT { WITH root AS n14 WITH * LIMIT 1 RETURN {k0: COLLECT { 
CALL (n14) {
  WITH n14 AS cu, datetime($__now) AS now, $__t AS t
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
      RETURN {ref: {type: 'interaction', id: i.id, label: coalesce(i.number, i.trackingNumber, i.name, i.subject, i.reason, i.id)}, channel: i.channel, direction: i.direction,
        at: toString(i.occurredAt), respondedAt: toString(i.respondedAt), topic: i.topic,
        status: i.status,
        selfService: i.selfService, sentiment: i.sentiment, summary: i.summary,
        case: COLLECT { MATCH (i)-[:PART_OF]->(k:Case)<-[:OPENED]-(who) WHERE who = cu
          RETURN k.id }[0]} },
    cases: COLLECT { MATCH (cu)-[:OPENED]->(k:Case)
      WHERE k.openedAt >= since OR k.status IN ['open', 'pending']
      WITH * ORDER BY CASE WHEN k.status IN ['open', 'pending'] THEN 0 ELSE 1 END, k.openedAt DESC, k.id DESC
      LIMIT $__t.cases_cap
      WITH *, reduce(m = null, x IN COLLECT { MATCH (k)<-[:PART_OF]-(upd:Interaction) WHERE upd.direction = 'outbound' AND EXISTS { (who)-[:HAD]->(upd) WHERE who = cu } RETURN upd.occurredAt AS at } | CASE WHEN m IS NULL OR x > m THEN x ELSE m END) AS lastUpdate
      RETURN {ref: {type: 'case', id: k.id, label: coalesce(k.number, k.trackingNumber, k.name, k.subject, k.reason, k.id)}, id: k.id, subject: k.subject, status: k.status,
        openedAt: toString(k.openedAt), resolvedAt: toString(k.resolvedAt),
        lastUpdate: toString(lastUpdate), followUpDue: toString(CASE WHEN lastUpdate > k.openedAt THEN lastUpdate ELSE k.openedAt END + duration({days: t.case_follow_up_days})),
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
      WITH *, CASE WHEN s.deliveredAt IS NULL THEN reduce(m = null, x IN COLLECT { MATCH (s)<-[:ABOUT]-(upd:Interaction) WHERE true AND upd.direction = 'outbound' AND upd.occurredAt >= s.promisedAt AND EXISTS { (who)-[:HAD]->(upd) WHERE who = cu } RETURN upd.occurredAt AS at UNION MATCH (o)<-[:ABOUT]-(upd:Interaction) WHERE true AND upd.direction = 'outbound' AND upd.occurredAt >= s.promisedAt AND EXISTS { (who)-[:HAD]->(upd) WHERE who = cu } RETURN upd.occurredAt AS at } | CASE WHEN m IS NULL OR x > m THEN x ELSE m END) END AS lastUpdate
      RETURN {ref: {type: 'shipment', id: s.id, label: coalesce(s.number, s.trackingNumber, s.name, s.subject, s.reason, s.id)}, order: {type: 'order', id: o.id, label: coalesce(o.number, o.trackingNumber, o.name, o.subject, o.reason, o.id)}, number: o.number,
        orderStatus: o.status, live: o.status IN $__counted, carrier: s.carrier, status: s.status,
        promisedAt: toString(s.promisedAt), deliveredAt: toString(s.deliveredAt),
        condition: s.condition, lastUpdate: toString(lastUpdate),
        updateDue: CASE WHEN s.deliveredAt IS NULL THEN toString(CASE WHEN lastUpdate IS NULL THEN s.promisedAt ELSE lastUpdate + duration({days: t.delivery_update_days}) END) END,
        total: o.totalMinor, currency: o.currency} },
    returns: COLLECT { MATCH (cu)-[:PLACED]->(o:Order)<-[:RETURNS]-(r:Return)
      WHERE r.status = 'received' OR coalesce(r.refundedAt, r.receivedAt, r.requestedAt) >= since
      WITH * ORDER BY CASE WHEN r.status = 'received' THEN 0 ELSE 1 END,
        coalesce(r.refundedAt, r.receivedAt, r.requestedAt) DESC, r.id DESC
      LIMIT $__t.returns_cap
      RETURN {ref: {type: 'return', id: r.id, label: coalesce(r.number, r.trackingNumber, r.name, r.subject, r.reason, r.id)}, order: {type: 'order', id: o.id, label: coalesce(o.number, o.trackingNumber, o.name, o.subject, o.reason, o.id)}, number: o.number,
        status: r.status, reason: r.reason, requestedAt: toString(r.requestedAt),
        receivedAt: toString(r.receivedAt), refundedAt: toString(r.refundedAt),
        total: o.totalMinor,
        currency: o.currency} },
    feedback: COLLECT { MATCH (cu)-[:GAVE]->(f:Feedback)
      WITH * ORDER BY f.submittedAt DESC, f.id DESC LIMIT $__t.feedback_cap
      RETURN {ref: {type: 'feedback', id: f.id, label: coalesce(f.number, f.trackingNumber, f.name, f.subject, f.reason, f.id)}, kind: f.kind, score: f.score, at: toString(f.submittedAt),
        comment: f.comment, bought: NOT EXISTS { MATCH (f)-[:RATES]->(:Product) }
          OR EXISTS { MATCH (f)-[:RATES]->(:Product)<-[:CONTAINS]-(o:Order)<-[:PLACED]-(cu)
            WHERE o.status IN $__counted }} },
    carts: COLLECT { MATCH (cu)-[:PLACED]->(o:Order {status: 'abandoned'})
      WHERE o.placedAt >= now - duration({days: t.cart_days})
      WITH * ORDER BY o.placedAt DESC, o.id DESC LIMIT 10
      RETURN {ref: {type: 'order', id: o.id, label: coalesce(o.number, o.trackingNumber, o.name, o.subject, o.reason, o.id)}, number: o.number, at: toString(o.placedAt),
        items: COUNT { MATCH (o)-[:CONTAINS]->() },
        boughtSince: EXISTS { MATCH (cu)-[:PLACED]->(later:Order)
          WHERE later.placedAt > o.placedAt AND later.status IN $__counted }} }
  } AS n15
}
 RETURN n15 }[0], k1: COLLECT { 
CALL (n14) {
  WITH n14 AS cu, datetime($__now) AS now, $__t AS t
  RETURN {identities:
    COLLECT { MATCH (cu)<-[:IDENTIFIES]-(id:Identity)
      WITH id, COLLECT { MATCH (id)-[:IDENTIFIES]->(other:Customer) WHERE other <> cu AND ($__brands IS NULL OR EXISTS { MATCH (other)-[:OF_BRAND]->(otherbrand:Brand) WHERE otherbrand.id IN $__brands })
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
        WHERE other <> cu AND ($__brands IS NULL OR EXISTS { MATCH (other)-[:OF_BRAND]->(otherbrand:Brand) WHERE otherbrand.id IN $__brands }) AND i.occurredAt >= now - duration({days: t.shared_problem_days})
          AND i.topic IN t.product_problem_topics
        RETURN other, i.occurredAt AS at
        UNION
        MATCH (p)<-[:ABOUT]-(i:Interaction)<-[:HAD]-(other:Customer)
        WHERE other <> cu AND ($__brands IS NULL OR EXISTS { MATCH (other)-[:OF_BRAND]->(otherbrand:Brand) WHERE otherbrand.id IN $__brands }) AND i.occurredAt >= now - duration({days: t.shared_problem_days})
          AND (i.sentiment <= t.problem_sentiment OR i.topic IN t.product_problem_topics)
        RETURN other, i.occurredAt AS at
        UNION
        MATCH (p)<-[:RATES]-(f:Feedback)<-[:GAVE]-(other:Customer)
        WHERE other <> cu AND ($__brands IS NULL OR EXISTS { MATCH (other)-[:OF_BRAND]->(otherbrand:Brand) WHERE otherbrand.id IN $__brands }) AND f.submittedAt >= now - duration({days: t.shared_problem_days})
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
        WHERE other <> cu AND ($__brands IS NULL OR EXISTS { MATCH (other)-[:OF_BRAND]->(otherbrand:Brand) WHERE otherbrand.id IN $__brands }) AND i.occurredAt >= now - duration({days: t.shared_problem_days})
        RETURN {other: other, at: i.occurredAt} } AS reports
      WITH o, s, size(COLLECT { UNWIND reports AS x RETURN DISTINCT x.other }) AS others,
        reduce(m = null, x IN reports | CASE WHEN m IS NULL
            OR x.at > m THEN x.at ELSE m END) AS lastAt
      WITH o, s, others, lastAt WHERE others > 0
      RETURN {about: s, others: others, lastAt: lastAt,
        detail: toString(others) + ' other customer(s) contacted us about the parcel for order '
            + o.number} }
  } AS n16
}
 WITH * LIMIT 1 RETURN {k0: COLLECT { UNWIND n16.identities AS n17 WITH * RETURN {k0: n17.identity.kind, k1: n17.identity.value, k2: size(n17.others)} }} }[0]} }[0], k11: root.id} AS result
// parameters: __brands, __counted, __now, __pii, __t, key, p0, p1, p2
