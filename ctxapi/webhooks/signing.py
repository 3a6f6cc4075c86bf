"""The signature of a webhook request, and its check on the receiver's side.

``Ctxapi-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``: the
timestamp is signed with the body, so a receiver that rejects old timestamps (``verify``'s
``tolerance``) rejects a replayed request, and one that compares the HMAC rejects a changed
body. docs/webhooks.md shows the same check for receivers that do not run ctxapi's code.
"""

from __future__ import annotations

import hashlib
import hmac
import time

#: How old (or how far ahead) a signature's timestamp may be, in seconds, by default.
TOLERANCE = 300


class SignatureError(ValueError):
    """A webhook request whose signature is missing, malformed, wrong or too old."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Ctxapi-Signature`` header's value."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    secret: str,
    value: str | None,
    body: bytes,
    *,
    tolerance: float = TOLERANCE,
    now: float | None = None,
) -> int:
    """Check a ``Ctxapi-Signature`` header ``value`` against the raw ``body``; the signed
    timestamp when it holds, else SignatureError (malformed, stale, or not ours)."""
    fields: dict[str, list[str]] = {}
    for part in (value or "").split(","):
        name, _, given = part.strip().partition("=")
        fields.setdefault(name, []).append(given)
    stamps = fields.get("t", [])
    if len(stamps) != 1 or not stamps[0].isdigit() or not fields.get("v1"):
        raise SignatureError("malformed signature header")
    timestamp = int(stamps[0])
    moment = time.time() if now is None else now
    if abs(moment - timestamp) > tolerance:
        raise SignatureError("stale timestamp: a replay, or a clock off by too much")
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in fields["v1"]):
        raise SignatureError("signature does not match the body")
    return timestamp
