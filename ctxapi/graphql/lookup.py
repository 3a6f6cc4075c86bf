"""What the customer entry points look up: their arguments normalized into parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from graphene.utils.str_converters import to_camel_case

from ctxapi.config import Settings
from ctxapi.graphql.errors import ClientError
from ctxapi.identity import IdentityError, normalize
from ctxapi.model import IdentityKind

_INPUT_KINDS = {
    "email": IdentityKind.EMAIL,
    "phone": IdentityKind.PHONE,
    "handle": IdentityKind.SOCIAL,
    "chat": IdentityKind.CHAT,
    "messaging": IdentityKind.MESSAGING,
    "external_id": IdentityKind.EXTERNAL,
}
_PHONE = re.compile(r"^\+?[\d\s().\-/]{7,}$")
_LUCENE_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~*?:\\/&|])')


def lucene_query(text: str) -> str:
    """Every word of ``text`` as an escaped prefix term, all required."""
    words = [_LUCENE_SPECIAL.sub(r"\\\1", word.lower()) for word in text.split()]
    if not words:
        raise ClientError("`query` needs at least one word")
    return " AND ".join(word + "*" for word in words)


class IdentityInputError(ValueError):
    """An ``IdentityInput`` that names no single identifier, or one that does not normalize;
    ``field`` is the input field at fault (None: the input as a whole)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def identity_key(identity: Mapping[str, Any], phone_region: str) -> tuple[str, str]:
    """An ``IdentityInput`` (snake_case keys) → the normalized (kind, value) it names, as the
    loader normalizes it; IdentityInputError when it names none, several, or a bad one."""
    given = {k: v for k, v in identity.items() if v is not None and k in _INPUT_KINDS}
    if len(given) != 1:
        raise IdentityInputError(
            "give exactly one of " + ", ".join(map(to_camel_case, _INPUT_KINDS))
        )
    [(field, value)] = given.items()
    kind = _INPUT_KINDS[field]
    try:
        return kind.value, normalize(kind, value, region=identity.get("region") or phone_region)
    except IdentityError as error:
        raise IdentityInputError(str(error), to_camel_case(field)) from None


def by_identity(arguments: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """``customerBy``'s identity input → the normalized (kind, value) it looks up."""
    try:
        kind, key = identity_key(arguments["identity"], settings.phone_region)
    except IdentityInputError as error:
        raise ClientError(f"{error.field}: {error}" if error.field else str(error)) from None
    return {"key": key, "kind": kind}


def search(arguments: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """``searchCustomers``' arguments → the full-text query and the exact identifiers."""
    first = arguments["first"]
    if first is None or not 1 <= first <= 100:
        raise ClientError("`first` must be between 1 and 100")
    text = arguments["query"].strip()
    return {
        "key": lucene_query(text),
        "limit": first,
        "email": _exactly(IdentityKind.EMAIL, text, settings) if "@" in text else None,
        "phone": _exactly(IdentityKind.PHONE, text, settings) if _PHONE.match(text) else None,
        "number": text if text and not any(c.isspace() for c in text) else None,
    }


def _exactly(kind: IdentityKind, text: str, settings: Settings) -> str | None:
    """``text`` normalized as an identity of ``kind``, or None when it is not one."""
    try:
        return normalize(kind, text, region=settings.phone_region)
    except IdentityError:
        return None
