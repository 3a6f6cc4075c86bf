"""What every resolver gets as ``info.context``: the database, the settings, the request id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ctxapi.config import Settings
from ctxapi.db import Database


@dataclass(frozen=True)
class Context:
    """The request's context, typed: resolvers reach the database and settings through
    attributes mypy checks, not through an untyped dict."""

    db: Database
    settings: Settings
    request_id: str
    #: The root fields compiled before execution (compiler.precompile), by response key:
    #: a CompiledQuery, or the ClientError its field answers with.
    compiled: Mapping[str, Any] = field(default_factory=dict)
