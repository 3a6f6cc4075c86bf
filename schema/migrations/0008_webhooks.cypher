// Webhooks (ctxapi/webhooks, docs/webhooks.md). A Webhook is one subscriber: its URL, the
// events it wants, the one brand whose customers it hears about, and its signing secret. A
// Delivery is one event owed to one webhook, made by the ledger in the transaction of the write
// that caused it (ctxapi/store/ledger.py); its id is the webhook's id and the event's id, so
// it exists once. Dispatchers claim pending deliveries whose `due` (unix seconds) has come,
// in due order, from the (state, due) index.
CREATE CONSTRAINT webhook_id IF NOT EXISTS FOR (h:Webhook) REQUIRE h.id IS UNIQUE;
CREATE CONSTRAINT delivery_id IF NOT EXISTS FOR (d:Delivery) REQUIRE d.id IS UNIQUE;
CREATE RANGE INDEX delivery_due IF NOT EXISTS FOR (d:Delivery) ON (d.state, d.due);
CREATE INDEX delivery_webhook IF NOT EXISTS FOR (d:Delivery) ON (d.webhook);
CREATE INDEX delivery_event IF NOT EXISTS FOR (d:Delivery) ON (d.eventId);
CREATE INDEX write_event_id IF NOT EXISTS FOR (w:Write) ON (w.eventId);
