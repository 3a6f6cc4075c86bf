MATCH (:Identity {kind: $kind, value: $key})-[:IDENTIFIES]->(root:Customer) WHERE ($__brands IS NULL OR EXISTS { MATCH (root)-[:OF_BRAND]->(rootbrand:Brand) WHERE rootbrand.id IN $__brands }) WITH root ORDER BY root.id LIMIT 11 RETURN {k0: root.id, k1: root.name, k2: root.tier, k3: COLLECT { MATCH (n1:Identity)-[n1_l:IDENTIFIES]->(root) WITH * ORDER BY n1_l.confidence DESC, n1.value DESC RETURN {k0: n1.kind, k1: n1.value, k2: COUNT { (n1)-[:IDENTIFIES]->(n1who:Customer) WHERE ($__brands IS NULL OR EXISTS { MATCH (n1who)-[:OF_BRAND]->(n1whobrand:Brand) WHERE n1whobrand.id IN $__brands }) } - 1} }, k4: COLLECT { WITH root AS n2 WITH * LIMIT 1 RETURN {k0: [reduce(total = 0, x IN COLLECT { MATCH (n2)-[:PLACED]->(o:Order) WHERE o.status IN $__counted RETURN o.totalMinor } | total + x) - reduce(total = 0, x IN COLLECT { MATCH (n2)-[:PLACED]->(:Order)<-[:RETURNS]-(r:Return) WHERE r.status = 'refunded' RETURN r.refundMinor } | total + x), COLLECT { MATCH (n2)-[:PLACED]->(o:Order) RETURN o.currency LIMIT 1 }[0]], k1: COUNT { (n2)-[:PLACED]->(o:Order) WHERE o.status IN $__counted }, k2: toString(COLLECT { MATCH (n2)-[:PLACED]->(o:Order) WHERE o.status IN $__counted WITH o ORDER BY o.placedAt DESC LIMIT 1 RETURN o.placedAt }[0]), k3: toString(COLLECT { MATCH (n2)-[:HAD]->(i:Interaction) WITH i ORDER BY i.occurredAt DESC LIMIT 1 RETURN i.occurredAt }[0]), k4: COUNT { (n2)-[:OPENED]->(k:Case) WHERE k.status IN ['open', 'pending'] }} }[0], k5: {rows: COLLECT { MATCH (root)-[:PLACED]->(n3:Order) WITH * ORDER BY n3.placedAt DESC, n3.id DESC LIMIT $p0 RETURN {n: {k0: n3.number, k1: toString(n3.placedAt), k2: n3.status, k3: [n3.totalMinor, n3.currency], k4: COLLECT { MATCH (n3)-[n4_l:CONTAINS]->(n4:Product) WITH n4, n4_l, n3.currency AS n4_cur WITH * ORDER BY n4_l.line, n4.id RETURN {k0: n4_l.quantity, k1: COLLECT { WITH n4 AS n5 WITH * LIMIT 1 RETURN {k0: n5.id, k1: n5.name} }[0]} }, k5: COLLECT { MATCH (n3)-[:SHIPPED_AS]->(n6:Shipment) WITH * ORDER BY n6.shippedAt, n6.id RETURN {k0: n6.carrier, k1: n6.status, k2: toString(n6.promisedAt), k3: toString(n6.deliveredAt), k4: n6.trackingNumber, k5: n6.condition, k6: CASE WHEN n6.promisedAt IS NULL THEN false WHEN n6.deliveredAt IS NOT NULL THEN n6.deliveredAt > n6.promisedAt ELSE n6.promisedAt < datetime() END} }, k6: COLLECT { MATCH (n3)<-[:RETURNS]-(n7:Return) WITH * ORDER BY n7.requestedAt DESC, n7.id DESC RETURN {k0: n7.status, k1: n7.reason, k2: [n7.refundMinor, n7.currency], k3: toString(n7.refundedAt)} }}, c: [toString(n3.placedAt), n3.id]} }, total: null}, k6: {rows: COLLECT { MATCH (root)-[:HAD]->(n8:Interaction) WITH * ORDER BY n8.occurredAt DESC, n8.id DESC LIMIT $p1 RETURN {n: {k0: n8.channel, k1: n8.direction, k2: toString(n8.occurredAt), k3: n8.summary, k4: n8.status, k5: COLLECT { MATCH (n8)-[:HANDLED_BY]->(n9:Agent) WITH * LIMIT 1 RETURN {k0: n9.name} }[0], k6: COLLECT { MATCH (n8)-[:PART_OF]->(n10:Case) MATCH (n8who:Customer)-[:HAD]->(n8) WHERE (n10:Product OR EXISTS { MATCH (n8who)-[:PLACED|OPENED|HAD|GAVE]->(n10) } OR EXISTS { MATCH (n8who)-[:PLACED]->(:Order)-[:SHIPPED_AS]->(n10) } OR EXISTS { MATCH (n8who)-[:PLACED]->(:Order)<-[:RETURNS]-(n10) }) WITH * LIMIT 1 RETURN {k0: n10.id, k1: n10.status} }[0]}, c: [toString(n8.occurredAt), n8.id]} }, total: null}, k7: COLLECT { MATCH (root)-[:OPENED]->(n11:Case) WITH * WHERE n11.status IN $p2 WITH * ORDER BY n11.openedAt DESC, n11.id DESC RETURN {k0: n11.id, k1: n11.subject, k2: n11.status, k3: n11.priority, k4: COLLECT { MATCH (n11)<-[:PART_OF]-(i:Interaction) WHERE EXISTS { (n11)<-[:OPENED]-(:Customer)-[:HAD]->(i) } WITH DISTINCT i.channel AS channel ORDER BY channel RETURN channel }} }, k8: {rows: COLLECT { MATCH (root)-[:GAVE]->(n12:Feedback) WITH * ORDER BY n12.submittedAt DESC, n12.id DESC LIMIT $p3 RETURN {n: {k0: n12.kind, k1: n12.score, k2: n12.comment, k3: toString(n12.submittedAt)}, c: [toString(n12.submittedAt), n12.id]} }, total: null}, k9: COLLECT { WITH root AS n13 WITH * LIMIT 1 RETURN {k0: COLLECT { 
CALL (n13) {
  WITH n13 AS cu, datetime($__now) AS now, $__t AS t
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
  } AS n14
}
 RETURN n14 }[0], k1: COLLECT { 
CALL (n13) {
  WITH n13 AS cu, datetime($__now) AS now, $__t AS t
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
  } AS n15
}
 WITH * LIMIT 1 RETURN {k0: COLLECT { UNWIND n15.identities AS n16 WITH * RETURN {k0: n16.identity.kind, k1: n16.identity.value, k2: size(n16.others)} }, k1: COLLECT { UNWIND n15.problems AS n17 WITH * RETURN {k0: n17.detail} }} }[0]} }[0], k10: root.id} AS result, root.id AS id
// parameters: __brands, __counted, __now, __pii, __t, key, kind, p0, p1, p2, p3
