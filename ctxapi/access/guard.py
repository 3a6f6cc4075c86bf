"""The check of a request's key: ``Authorization: Bearer ctx_live_…`` → its Access.

Each process keeps what Neo4j said about a key (found or not) for ``key_cache_seconds``
(CTXAPI_KEY_CACHE_SECONDS, 10 by default): a cached check is a SHA-256 and a dict look-up,
microseconds; a revoked or rotated key stops working in every instance within that time.
"""

from __future__ import annotations

import time
from threading import Lock

from ctxapi.access.keys import Access, KeyStore, Scope, fingerprint, looks_like_key
from ctxapi.graphql.errors import ClientError, ErrorCode

#: How many keys a process remembers (found or not) before it forgets the oldest half.
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
        self._cache: dict[str, tuple[float, Access | None]] = {}
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
            cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        self.store.db.unless_away()  # an outage answers 503 at once, not after a wait
        access = self.store.find(key)
        with self._lock:
            if len(self._cache) >= CACHE_SIZE:
                for stale in list(self._cache)[: CACHE_SIZE // 2]:
                    del self._cache[stale]
            self._cache[digest] = (now + self.ttl, access)
        return access

    def forget(self) -> None:
        """Drop every cached answer (tests, and an operator's revocation in this process)."""
        with self._lock:
            self._cache.clear()
