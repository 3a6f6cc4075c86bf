"""A per-API-key rate limit: ``limit`` requests per ``period`` seconds, in bursts of ``limit``.

GCRA (the generic cell rate algorithm, a token bucket kept as one number): each key has a
theoretical arrival time (TAT); a request is allowed when the TAT it would push forward stays
within one burst of now. A fresh key may spend its whole budget at once, then one request every
``period / limit`` seconds. A refused request costs nothing.

The budget is per instance: the state lives in an anonymous shared memory mapping made before
gunicorn forks its workers (``RateLimiter.shared``), so the workers of one instance share it,
but instances share nothing. The stack has no shared store but Neo4j, and a Neo4j write per
request would cost more than the query it guards. Behind a balancer spreading a key's requests
over N instances, the key's effective budget is up to N times ``limit``.
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import multiprocessing
import os
import struct
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

NS = 1_000_000_000
#: A slot: the key's fingerprint (0: never used) and its TAT in integer nanoseconds.
SLOT = struct.Struct("<Qq")
#: Slots looked at for one key (its own, then the next ones); past that, one is evicted.
PROBES = 16
#: Seconds to wait for the lock before failing open (see ``RateLimiter.check``).
LOCK_TIMEOUT = 1.0
#: Seconds a process stops waiting for the lock after it once failed to get it.
FAIL_OPEN_SECONDS = 30.0


@dataclass(frozen=True)
class Decision:
    """What ``check`` decided; ``headers`` turns it into response headers."""

    allowed: bool
    limit: int  # 0: unlimited
    remaining: int  # whole requests left in the burst after this one
    reset: int  # whole seconds (rounded up) until the bucket is full again
    retry_after: int  # whole seconds (rounded up) before a retry may pass; 0 when allowed


UNLIMITED = Decision(allowed=True, limit=0, remaining=0, reset=0, retry_after=0)


class RateLimiter:
    """GCRA state for up to ``slots`` keys at once, shared with the processes forked later.

    Made in the gunicorn master before the workers fork (``shared``), one limiter serves all
    the workers of the instance; made in a worker (or anywhere after the fork), it counts for
    that process only. The mapping (``mmap`` of fd -1: MAP_SHARED | MAP_ANONYMOUS) and the
    lock (a POSIX semaphore) are both inherited across fork.
    """

    def __init__(self, slots: int = 4096, lock_timeout: float = LOCK_TIMEOUT) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, not {slots}")
        self.slots = slots
        self._memory = mmap.mmap(-1, slots * SLOT.size, flags=mmap.MAP_SHARED)
        # The fork context's lock: its semaphore is unlinked at once and needs no resource
        # tracker process, whatever the default start method.
        self._lock = multiprocessing.get_context("fork").Lock()
        self._lock_timeout = lock_timeout
        self._salt = os.urandom(16)  # fingerprints nobody outside can aim at one probe window
        self._open_until = 0.0  # time.monotonic() before which checks do not wait for it

    @classmethod
    def shared(cls, slots: int = 4096) -> RateLimiter:
        """A limiter for the workers of this instance: call it in the master, before the fork."""
        return cls(slots)

    def check(
        self, key_id: str, limit: int, period: float = 60.0, now: float | None = None
    ) -> Decision:
        """Count one request of ``key_id`` against ``limit`` per ``period`` seconds.

        ``limit <= 0`` means unlimited: allowed, touching no state (``UNLIMITED``). ``now`` is
        in seconds of ``time.monotonic()``, the default; CLOCK_MONOTONIC is system-wide on
        Linux (per boot, not per process), so forked workers compare each other's times.

        Fails open (allowed, remaining 0) when the lock is not had in ``lock_timeout``
        seconds (a worker killed holding it, or one stalled that long): logged, and for
        ``FAIL_OPEN_SECONDS`` this process does not wait for it; then it tries again.
        """
        if limit <= 0:
            return UNLIMITED
        if period <= 0:
            raise ValueError(f"period must be positive, not {period}")
        now_ns = time.monotonic_ns() if now is None else round(now * NS)
        # Integer nanoseconds: with floats, 7 steps of 60/7 s overshoot 60 s and the 7th
        # request of a burst would be refused.
        interval = max(1, round(period * NS) // limit)
        burst = interval * limit
        fingerprint = self._fingerprint(key_id)
        if time.monotonic() < self._open_until or not self._lock.acquire(
            timeout=self._lock_timeout
        ):
            self._fail_open()
            return Decision(allowed=True, limit=limit, remaining=0, reset=0, retry_after=0)
        try:
            slot, stored = self._find(fingerprint, now_ns)
            tat = max(stored, now_ns)
            allowed = tat + interval - burst <= now_ns
            if allowed:
                tat += interval
                SLOT.pack_into(self._memory, slot * SLOT.size, fingerprint, tat)
        finally:
            self._lock.release()
        return Decision(
            allowed=allowed,
            limit=limit,
            remaining=max(0, (now_ns + burst - tat) // interval),
            reset=_seconds(tat - now_ns),
            retry_after=0 if allowed else max(1, _seconds(tat + interval - burst - now_ns)),
        )

    def _fingerprint(self, key_id: str) -> int:
        digest = hashlib.blake2b(key_id.encode(), digest_size=8, key=self._salt).digest()
        return int.from_bytes(digest, "little") or 1  # 0 marks a slot never used

    def _find(self, fingerprint: int, now_ns: int) -> tuple[int, int]:
        """The slot for ``fingerprint`` and its TAT (``now_ns`` if it has none); lock held.

        Looks at ``PROBES`` slots from the key's own (linear probing). Its slot if there;
        else the first unused or full-bucket one (TAT <= now: the same as no state); else
        the one nearest to full (oldest TAT), whose key gets a full bucket back: a full table
        forgives, it never refuses a key that has not spent its budget.
        """
        start = fingerprint % self.slots
        free: int | None = None
        oldest, oldest_tat = start, None
        for step in range(min(PROBES, self.slots)):
            slot = (start + step) % self.slots
            held, tat = SLOT.unpack_from(self._memory, slot * SLOT.size)
            if held == fingerprint:
                return slot, tat
            if free is None and (held == 0 or tat <= now_ns):
                free = slot
            if oldest_tat is None or tat < oldest_tat:
                oldest, oldest_tat = slot, tat
        return (oldest if free is None else free), now_ns

    def _fail_open(self) -> None:
        if time.monotonic() >= self._open_until:
            self._open_until = time.monotonic() + FAIL_OPEN_SECONDS
            log.error(
                "rate limiter lock not acquired in %g s (a worker died holding it?): "
                "rate limits are off in process %d for %g s (restart the instance if this "
                "repeats)",
                self._lock_timeout,
                os.getpid(),
                FAIL_OPEN_SECONDS,
            )


def _seconds(ns: int) -> int:
    """Nanoseconds as whole seconds, rounded up; 0 for none or less."""
    return max(0, -(-ns // NS))


def headers(decision: Decision) -> dict[str, str]:
    """The IETF draft's ``RateLimit-Limit``, ``-Remaining`` and ``-Reset`` headers, with
    ``Retry-After`` when refused; none for an unlimited key (a limit of 0 would read as none)."""
    if decision.limit <= 0:
        return {}
    fields = {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset),
    }
    if not decision.allowed:
        fields["Retry-After"] = str(decision.retry_after)
    return fields
