"""The check of a request's key: ``Authorization: Bearer ctx_live_…`` → its Access.

Each process keeps what Neo4j said about a key (found or not) for ``key_cache_seconds``
(CTXAPI_KEY_CACHE_SECONDS, 10 by default): a cached check is a SHA-256 and a dict look-up,
microseconds; a revoked or rotated key stops working in every instance within that time.
"""

from __future__ import annotations

import time
from threading import Lock
from typing import Any

from ctxapi.access.keys import Access, KeyStore, Scope, fingerprint, looks_like_key
from ctxapi.graphql.errors import ClientError, ErrorCode
from ctxapi.unavailable import DatabaseUnavailable, QueryTimedOut

#: While Neo4j is away or warming up after a restart, a key found this many seconds past its
#: cache time is still trusted: its request goes on to its own query (which answers 503 at
#: once while Neo4j is away) instead of waiting on a look-up that a starting Neo4j accepts
#: and does not answer. A revocation made just before an outage may so wait this much longer.
STALE_SECONDS = 60.0
#: How many keys a process remembers, found and not found apart (so a flood of made-up keys
#: never pushes out the real ones), before it forgets the oldest half of that kind.
CACHE_SIZE = 10_000


class Unauthenticated(ClientError):
    """No key, a malformed one, or one Neo4j does not know (or knows as revoked): 401."""

    def __init__(self, message: str, *, given: bool) -> None:
        super().__init__(message, ErrorCode.UNAUTHENTICATED)
        #: Was a key sent at all (RFC 6750: ``error="invalid_token"`` only when one was)?
        self.given = given

    def challenge(self) -> str:
        """The ``WWW-Authenticate`` header of the 401."""
        if self.given:
            return 'Bearer realm="ctxapi", error="invalid_token"'
        return 'Bearer realm="ctxapi"'


class Forbidden(ClientError):
    """A known key without the scope the request needs: 403."""

    def __init__(self, scope: Scope, name: str) -> None:
        super().__init__(
            f"this key ({name}) lacks the scope {scope.value} that this request needs",
            ErrorCode.FORBIDDEN,
        )
        self.scope = scope


class Authenticator:
    """Finds the Access of an Authorization header, through a short-lived cache."""

    def __init__(self, store: KeyStore, ttl: float) -> None:
        self.store = store
        self.ttl = ttl
        self._found: dict[str, tuple[float, Access]] = {}
        self._unknown: dict[str, float] = {}
        self._lock = Lock()

    def authenticate(self, header: str | None) -> Access:
        """The request's Access; Unauthenticated when there is none."""
        if not header:
            raise Unauthenticated("send an API key: Authorization: Bearer ctx_live_…", given=False)
        scheme, _, key = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Unauthenticated(
                "the Authorization header must read Bearer ctx_live_…", given=True
            )
        if not looks_like_key(key.strip()):
            raise Unauthenticated("the API key is not valid (unknown or revoked)", given=True)
        access = self._lookup(key.strip())
        if access is None:
            raise Unauthenticated("the API key is not valid (unknown or revoked)", given=True)
        return access

    def _lookup(self, key: str) -> Access | None:
        digest = fingerprint(key)
        now = time.monotonic()
        with self._lock:
            found, unknown = self._found.get(digest), self._unknown.get(digest, 0.0)
        if found is not None and found[0] > now:
            return found[1]
        if unknown > now:
            return None
        database = self.store.db
        if found is not None and found[0] + STALE_SECONDS > now and database.settling:
            return found[1]
        database.unless_away()  # an outage answers 503 at once, not after a wait
        # Back from an outage: no longer than a held query waits for its plan.
        timeout = database.settings.warming_wait if database.settling else None
        try:
            access = self.store.find(key, timeout=timeout)
        except QueryTimedOut:
            raise DatabaseUnavailable("the key check did not finish in time") from None
        with self._lock:
            if access is None:
                _bounded(self._unknown)[digest] = now + self.ttl
                self._found.pop(digest, None)
            else:
                _bounded(self._found)[digest] = (now + self.ttl, access)
                self._unknown.pop(digest, None)
        return access

    def forget(self) -> None:
        """Drop every cached answer (tests, and an operator's revocation in this process)."""
        with self._lock:
            self._found.clear()
            self._unknown.clear()


def _bounded(cache: dict[str, Any]) -> dict[str, Any]:
    """``cache`` with room for one more: its oldest half forgotten when full."""
    if len(cache) >= CACHE_SIZE:
        for stale in list(cache)[: CACHE_SIZE // 2]:
            del cache[stale]
    return cache
