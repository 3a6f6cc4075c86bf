// The proactive queue reads due items one customer tier at a time, in order of their due
// time. While an item can fall due (a parcel not delivered, a return received and not
// refunded, a case open or pending) it carries its customer's tier as `queueTier`; the loader
// keeps the copy in step when the item, its order or its customer changes, and removes it
// when the item is settled. So each composite index below holds only items that may be due,
// and a page reads "this tier, due in this window, in due order" and stops after first + 1.
MATCH (c:Customer)
CALL (c) {
  MATCH (c)-[:PLACED]->(:Order)-[:SHIPPED_AS]->(s:Shipment)
  WHERE s.deliveredAt IS NULL AND NOT s.status IN ['delivered', 'returned']
  SET s.queueTier = c.tier
} IN TRANSACTIONS OF 2000 ROWS;
MATCH (c:Customer)
CALL (c) {
  MATCH (c)-[:PLACED]->(:Order)<-[:RETURNS]-(r:Return {status: 'received'})
  SET r.queueTier = c.tier
} IN TRANSACTIONS OF 2000 ROWS;
MATCH (c:Customer)
CALL (c) {
  MATCH (c)-[:OPENED]->(k:Case) WHERE k.status IN ['open', 'pending']
  SET k.queueTier = c.tier
} IN TRANSACTIONS OF 2000 ROWS;
CREATE RANGE INDEX shipment_queue IF NOT EXISTS FOR (n:Shipment) ON (n.queueTier, n.promisedAt);
CREATE RANGE INDEX return_queue IF NOT EXISTS FOR (n:Return) ON (n.queueTier, n.receivedAt);
CREATE RANGE INDEX case_queue IF NOT EXISTS FOR (n:Case) ON (n.queueTier, n.openedAt);
