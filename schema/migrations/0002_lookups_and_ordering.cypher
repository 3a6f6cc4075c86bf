// Agents often start from an order number.
CREATE CONSTRAINT order_number IF NOT EXISTS FOR (n:Order) REQUIRE n.number IS UNIQUE;
// Range indexes on the timestamps lists are ordered by (newest first, per customer) and on
// the fields the proactive queue filters on.
CREATE RANGE INDEX order_placed_at IF NOT EXISTS FOR (n:Order) ON (n.placedAt);
CREATE RANGE INDEX interaction_occurred_at IF NOT EXISTS FOR (n:Interaction) ON (n.occurredAt);
CREATE RANGE INDEX feedback_submitted_at IF NOT EXISTS FOR (n:Feedback) ON (n.submittedAt);
CREATE RANGE INDEX case_opened_at IF NOT EXISTS FOR (n:Case) ON (n.openedAt);
CREATE RANGE INDEX case_status IF NOT EXISTS FOR (n:Case) ON (n.status);
CREATE RANGE INDEX shipment_status_promised IF NOT EXISTS FOR (n:Shipment) ON (n.status, n.promisedAt);
CREATE RANGE INDEX return_status IF NOT EXISTS FOR (n:Return) ON (n.status);
// Customer search: names on Customer, emails and phones on Identity, one full-text index.
CREATE FULLTEXT INDEX customer_search IF NOT EXISTS FOR (n:Customer|Identity) ON EACH [n.name, n.value];
