"""The webhooks in Neo4j (migration 0008): add, list, remove, their deliveries' state, retry.

A webhook belongs to one brand and hears only of writes to that brand's customers (the ledger
records each write's brands). Its signing secret is made here, shown once by ``add``, and
kept in the graph to sign with; nothing else prints or logs it.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, LiteralString
from urllib.parse import urlsplit

from ctxapi.db import Database
from ctxapi.store.events import Event

#: The longest webhook URL accepted.
MAX_URL = 2000
#: How many dead letters ``status`` lists per webhook (the counts are exact).
DEAD_SHOWN = 50

_BRAND: LiteralString = "MATCH (b:Brand {id: $brand}) RETURN b.id AS id"
_ADD: LiteralString = """
CREATE (h:Webhook {id: $id, url: $url, events: $events, brand: $brand, secret: $secret,
                   createdAt: $at})
"""
_LIST: LiteralString = """
MATCH (h:Webhook)
RETURN h.id AS id, h.url AS url, h.brand AS brand, h.events AS events, h.createdAt AS createdAt
ORDER BY h.createdAt, h.id
"""
_REMOVE: LiteralString = """
MATCH (h:Webhook {id: $id})
CALL (h) { MATCH (d:Delivery {webhook: h.id}) DELETE d RETURN count(d) AS dropped }
DELETE h
RETURN dropped
"""
_STATUS: LiteralString = """
MATCH (h:Webhook)
RETURN h.id AS id,
  COUNT { MATCH (d:Delivery {webhook: h.id}) WHERE d.state = 'pending' } AS pending,
  COUNT { MATCH (d:Delivery {webhook: h.id}) WHERE d.state = 'delivered' } AS delivered,
  COUNT { MATCH (d:Delivery {webhook: h.id}) WHERE d.state = 'dead' } AS dead,
  COLLECT { MATCH (d:Delivery {webhook: h.id}) WHERE d.failedAt IS NOT NULL
            RETURN d.lastError ORDER BY d.failedAt DESC LIMIT 1 }[0] AS lastError,
  COLLECT { MATCH (d:Delivery {webhook: h.id}) WHERE d.state = 'dead'
            RETURN {id: d.eventId, type: d.event, attempts: d.attempts, lastError: d.lastError}
            ORDER BY d.failedAt DESC LIMIT $shown } AS dead_letters
ORDER BY h.createdAt, h.id
"""
_RETRY: LiteralString = """
MATCH (d:Delivery {state: 'dead'})
WHERE ($event IS NULL OR d.eventId = $event) AND ($webhook IS NULL OR d.webhook = $webhook)
SET d.state = 'pending', d.attempts = 0, d.due = 0.0
RETURN count(d) AS n
"""


class WebhookError(ValueError):
    """A webhook that cannot be added as asked (a bad URL, an unknown brand)."""


@dataclass(frozen=True)
class Webhook:
    """A subscriber: where to POST, which events, of which brand's customers."""

    id: str
    url: str
    brand: str
    events: tuple[str, ...]
    created_at: str

    @property
    def host(self) -> str:
        """The URL's host: what logs and listings name (a URL's path may hold a token)."""
        return urlsplit(self.url).hostname or "?"


@dataclass(frozen=True)
class Status:
    """A webhook's deliveries: how many wait, arrived, died; the last error; dead letters."""

    webhook: Webhook
    pending: int
    delivered: int
    dead: int
    last_error: str | None
    dead_letters: list[dict[str, Any]] = field(default_factory=list)


def checked_url(url: str) -> str:
    """``url`` when it is an absolute http(s) URL without credentials, else WebhookError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("give an absolute http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise WebhookError("put no credentials in the URL: receivers check the signature")
    if len(url) > MAX_URL or parts.fragment:
        raise WebhookError(f"give a URL of at most {MAX_URL} characters, without a #fragment")
    return url


class Registry:
    """The webhooks of one graph."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, url: str, events: Sequence[Event], brand: str, at: str) -> tuple[Webhook, str]:
        """A new webhook and its signing secret (which nothing shows again)."""
        url = checked_url(url)
        if not self.db.read(_BRAND, {"brand": brand}):
            raise WebhookError(f"there is no brand {brand!r}")
        hook = Webhook("wh_" + secrets.token_hex(8), url, brand, tuple(e.value for e in events), at)
        secret = "whsec_" + secrets.token_hex(32)
        self.db.write(
            lambda tx: tx.run(
                _ADD, id=hook.id, url=url, events=list(hook.events), brand=brand,
                secret=secret, at=at,
            ).consume()
        )  # fmt: skip
        return hook, secret

    def webhooks(self) -> list[Webhook]:
        return [_webhook(row) for row in self.db.read(_LIST)]

    def remove(self, webhook: str) -> int | None:
        """Remove a webhook and the deliveries it was owed; how many, or None if not there."""
        row = self.db.write(lambda tx: tx.run(_REMOVE, id=webhook).single())
        return None if row is None else int(row["dropped"])

    def status(self) -> list[Status]:
        hooks = {hook.id: hook for hook in self.webhooks()}
        rows = self.db.read(_STATUS, {"shown": DEAD_SHOWN})
        return [
            Status(
                hooks[row["id"]],
                row["pending"],
                row["delivered"],
                row["dead"],
                row["lastError"],
                list(row["dead_letters"]),
            )
            for row in rows
            if row["id"] in hooks
        ]

    def retry(self, event: str | None = None, webhook: str | None = None) -> int:
        """Dead letters (of one event, one webhook, or all) back to pending, due now, with a
        full schedule of attempts; how many."""
        row = self.db.write(
            lambda tx: tx.run(_RETRY, event=event, webhook=webhook).single(strict=True)
        )
        return int(row["n"])


def _webhook(row: Any) -> Webhook:
    return Webhook(row["id"], row["url"], row["brand"], tuple(row["events"]), row["createdAt"])
