"""Identity normalization: one spelling per identifier, shared by the loader and the API.

An identity is ``(kind, value)``; the value is normalized so that any spelling of the same
email, phone number or handle finds the same node:

- ``email``: trimmed, lowercased.                         ``Ann@Example.COM`` → ``ann@example.com``
- ``phone``: E.164, parsed with a default region.          ``(415) 555-0100`` → ``+14155550100``
- ``social``: ``network:handle``, both lowercased, no @.    ``Twitter:@Ann_B`` → ``twitter:ann_b``
- ``chat``, ``messaging``: ``app:id``, app lowercased, id as given (ids may be case-sensitive);
  a messaging id that is a phone number (WhatsApp, Signal …) becomes E.164.
- ``external``: ``system:id``, system lowercased, id as given. ``Shopify:9001`` → ``shopify:9001``
"""

from __future__ import annotations

import re

import phonenumbers

from ctxapi.model import IdentityKind

KINDS = tuple(kind.value for kind in IdentityKind)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PREFIXED = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_.-]*)\s*:\s*(\S.*?)\s*$")


class IdentityError(ValueError):
    """An identifier that cannot be normalized; the message says why."""


def normalize(kind: str, value: str, *, region: str = "US") -> str:
    """The normalized spelling of ``value`` as an identity of ``kind``."""
    if kind not in KINDS:
        raise IdentityError(f"unknown identity kind {kind!r} (one of {', '.join(KINDS)})")
    if not isinstance(value, str) or not value.strip():
        raise IdentityError("an identity value must be a non-empty string")
    if kind == "email":
        email = value.strip().lower()
        if not _EMAIL.match(email):
            raise IdentityError(f"{value!r} is not an email address")
        return email
    if kind == "phone":
        return normalize_phone(value, region=region)
    prefix, rest = _split_prefix(kind, value)
    if kind == "social":
        handle = rest.lstrip("@").lower()
        if not handle:
            raise IdentityError(f"{value!r} has no handle after the network")
        return f"{prefix}:{handle}"
    if kind == "messaging" and re.fullmatch(r"[+\d][\d\s().-]{5,}", rest):
        return f"{prefix}:{normalize_phone(rest, region=region)}"
    return f"{prefix}:{rest}"


def normalize_phone(value: str, *, region: str = "US") -> str:
    """E.164 form of a phone number; numbers without a country code use ``region``."""
    try:
        number = phonenumbers.parse(value, region.upper())
    except phonenumbers.NumberParseException as error:
        raise IdentityError(f"{value!r} is not a phone number ({error})") from None
    if not phonenumbers.is_possible_number(number):
        raise IdentityError(f"{value!r} is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _split_prefix(kind: str, value: str) -> tuple[str, str]:
    match = _PREFIXED.match(value)
    if match is None:
        what = {"social": "network", "external": "system"}.get(kind, "app")
        raise IdentityError(f"a {kind} identity is written {what}:id, got {value!r}")
    return match.group(1).lower(), match.group(2)
