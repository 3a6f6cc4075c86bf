// The ledger of API writes (ctxapi/store/ledger.py): one Write per mutation that changed the
// graph, created in the change's own transaction. Its id is the API key's id and the client's
// idempotency key, so a replay finds it and two concurrent requests with one key cannot both
// write. `at` orders it for readers of the outbox (webhooks, live cards); `customers` finds a
// customer's writes when the customer is erased.
CREATE CONSTRAINT write_id IF NOT EXISTS FOR (w:Write) REQUIRE w.id IS UNIQUE;
CREATE INDEX write_at IF NOT EXISTS FOR (w:Write) ON (w.at);
CREATE INDEX write_customers IF NOT EXISTS FOR (w:Write) ON (w.customers);
CREATE CONSTRAINT note_id IF NOT EXISTS FOR (n:Note) REQUIRE n.id IS UNIQUE;
