"""What every resolver gets as ``info.context``: the database, the settings, the request id."""

from __future__ import annotations

from dataclasses import dataclass

from ctxapi.config import Settings
from ctxapi.db import Database


@dataclass(frozen=True)
class Context:
    """The request's context, typed: resolvers reach the database and settings through
    attributes mypy checks, not through an untyped dict."""

    db: Database
    settings: Settings
    request_id: str
