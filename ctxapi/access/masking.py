"""PII as a key without ``pii:read`` sees it: enough to recognise, not enough to use.

A field declares what it holds (``value(…, pii=Pii.IDENTIFIER)``); the compiler then shapes
it through ``mask`` for such a key. The values are the normalized spellings the graph keeps
(ctxapi.identity), so their form says what they are:

- an email: the first letter and the domain, ``s***@example.com``;
- a phone number (E.164): its country code and last four digits, ``+1 ••• ••• 0100``;
- ``app:id``, ``network:handle``, ``system:id``: the prefix and the id's first character,
  ``x:a***`` (a messaging id that is a phone number is masked as one,
  ``whatsapp:+34 ••• ••• 4567``);
- a street line: ``•••``; a postal code: its first two characters, ``28•••``.
"""

from __future__ import annotations

import re
from enum import StrEnum

import phonenumbers

_E164 = re.compile(r"^\+\d{6,15}$")
_PREFIXED = re.compile(r"^([a-z][a-z0-9_.-]*):(.+)$")
HIDDEN = "•••"


class Pii(StrEnum):
    """What a personal field holds, and so how it is masked."""

    IDENTIFIER = "identifier"  # an identity's value: email, phone, handle, chat, messaging, id
    STREET = "street"
    POSTAL_CODE = "postal_code"


def mask(kind: Pii, value: str | None) -> str | None:
    """``value`` as a key without pii:read sees it (None stays None)."""
    if value is None:
        return None
    if kind is Pii.STREET:
        return HIDDEN
    if kind is Pii.POSTAL_CODE:
        return value[:2] + HIDDEN if len(value) > 3 else HIDDEN
    return _identifier(value)


def _identifier(value: str) -> str:
    if _E164.match(value):
        return _phone(value)
    prefixed = _PREFIXED.match(value)
    if prefixed is not None:
        app, rest = prefixed.groups()
        return app + ":" + (_phone(rest) if _E164.match(rest) else rest[:1] + "***")
    local, at, domain = value.rpartition("@")
    if at and local:
        return local[:1] + "***@" + domain
    return value[:1] + "***"


def _phone(e164: str) -> str:
    try:
        code = str(phonenumbers.parse(e164).country_code)
    except phonenumbers.NumberParseException:
        code = e164[1:2]
    return "+" + code + " " + HIDDEN + " " + HIDDEN + " " + e164[-4:]
