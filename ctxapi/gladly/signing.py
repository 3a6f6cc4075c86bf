"""Gladly's request signing, checked as Gladly documents it (docs/gladly.md, "Signing").

A signed request carries ``gladly-time`` (``20211025T171838Z``) and ``gladly-authorization``
(``SigningAlgorithm=hmac-sha256, SignedHeaders=content-type;gladly-time, Signature=<hex>``):

1. body hash: the hex SHA-256 of the body as received;
2. canonical request: ``METHOD\\nPATH\\nQUERY\\n``, then ``name:value\\n`` for each signed
   header in the listed order (the value trimmed, inner whitespace collapsed to one space),
   then ``\\n``, the SignedHeaders list as sent, ``\\n`` and the body hash; it is hashed (hex
   SHA-256);
3. signing key: HMAC-SHA256 of the date part of ``gladly-time`` (before ``T``) keyed with the
   shared secret, as raw bytes;
4. signature: hex HMAC-SHA256, with that key, of ``hmac-sha256\\n<gladly-time>\\n<canonical
   hash>``, compared with the sent one in constant time.

A ``gladly-time`` further than the window (``CTXAPI_GLADLY_SIGNATURE_WINDOW``) from now, in
either direction, is refused: a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

TIME_HEADER = "gladly-time"
AUTHORIZATION_HEADER = "gladly-authorization"
ALGORITHM = "hmac-sha256"
_TIME = re.compile(r"^(\d{8})T\d{6}Z$")
_SIGNED_HEADERS = re.compile(r"SignedHeaders=([^,\s]+)")
_SIGNATURE = re.compile(r"Signature=([0-9A-Fa-f]+)\s*$")
_ALGORITHM = re.compile(r"SigningAlgorithm=([^,\s]+)")
_HEADER_NAME = re.compile(r"^[a-z0-9-]+$")


class Refusal(StrEnum):
    """Why a signature was refused: logged (never sent: a 401 says no more than that)."""

    UNSIGNED = "unsigned"
    MALFORMED = "malformed"
    STALE = "stale"
    MISMATCH = "mismatch"


class SignatureRefused(Exception):
    """The request's signature is missing, malformed, stale or wrong."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class SignedRequest:
    """What a signature covers: the method, path, query string, headers and body as received.
    ``headers`` are keyed by lower-case name."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


def verify(secret: str, request: SignedRequest, *, now: datetime, window: float) -> None:
    """Return when ``request`` is signed with ``secret`` within ``window`` seconds of
    ``now``; SignatureRefused, with the reason, otherwise."""
    moment_text = request.headers.get(TIME_HEADER, "").strip()
    authorization = request.headers.get(AUTHORIZATION_HEADER, "").strip()
    if not moment_text or not authorization:
        raise SignatureRefused(Refusal.UNSIGNED)
    moment = _parse_time(moment_text)
    if abs((now - moment).total_seconds()) > window:
        raise SignatureRefused(Refusal.STALE)
    algorithm = _ALGORITHM.search(authorization)
    signed = _SIGNED_HEADERS.search(authorization)
    given = _SIGNATURE.search(authorization)
    if signed is None or given is None:
        raise SignatureRefused(Refusal.MALFORMED)
    if algorithm is not None and algorithm.group(1).lower() != ALGORITHM:
        raise SignatureRefused(Refusal.MALFORMED)
    names = signed.group(1).split(";")
    if not all(_HEADER_NAME.match(name.lower()) for name in names):
        raise SignatureRefused(Refusal.MALFORMED)
    if any(name.lower() not in request.headers for name in names):
        raise SignatureRefused(Refusal.MALFORMED)
    expected = signature(secret, request, signed.group(1), moment_text)
    if not hmac.compare_digest(expected.encode(), given.group(1).lower().encode()):
        raise SignatureRefused(Refusal.MISMATCH)


def signature(secret: str, request: SignedRequest, signed_headers: str, moment: str) -> str:
    """The hex signature of ``request`` with ``secret`` (steps 1 to 4 above)."""
    body_hash = hashlib.sha256(request.body).hexdigest()
    canonical = f"{request.method.upper()}\n{request.path}\n{request.query}\n"
    for name in signed_headers.split(";"):
        value = " ".join(request.headers[name.lower()].split())
        canonical += f"{name.lower()}:{value}\n"
    canonical += f"\n{signed_headers}\n{body_hash}"
    canonical_hash = hashlib.sha256(canonical.encode()).hexdigest()
    date = moment.partition("T")[0]
    key = hmac.new(secret.encode(), date.encode(), hashlib.sha256).digest()
    to_sign = f"{ALGORITHM}\n{moment}\n{canonical_hash}"
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _parse_time(text: str) -> datetime:
    if not _TIME.match(text):
        raise SignatureRefused(Refusal.MALFORMED)
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SignatureRefused(Refusal.MALFORMED) from None
