"""Webhooks: events of committed writes POSTed, signed, to the integrations that subscribe.

``registry`` keeps the webhooks and reports on their deliveries; the ledger
(``ctxapi.store.ledger``) makes a delivery in the transaction of each write; ``delivery`` claims
and sends them (``signing`` signs); ``due`` announces proactive queue items that fell due;
``dispatcher`` runs both; ``commands`` is ``ctxapi webhooks``. See docs/webhooks.md.
"""
