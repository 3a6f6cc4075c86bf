"""What every resolver gets as ``info.context``: the database, the settings, the request's
access, and what it read of personal data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from ctxapi.access.keys import Access
from ctxapi.config import Settings
from ctxapi.db import Database


@dataclass
class PiiReads:
    """The personal fields a request read unmasked, and whose (for the audit log)."""

    fields: set[str] = field(default_factory=set)
    customers: set[str] = field(default_factory=set)
    _lock: Lock = field(default_factory=Lock, repr=False)

    def record(self, fields: Iterable[str], customers: Iterable[str]) -> None:
        """Note one root field's reads (root fields may resolve on several threads)."""
        customers = set(customers)
        if not customers:
            return
        with self._lock:
            self.fields.update(fields)
            self.customers.update(customers)


@dataclass(frozen=True)
class Context:
    """The request's context, typed: resolvers reach the database and settings through
    attributes mypy checks, not through an untyped dict."""

    db: Database
    settings: Settings
    request_id: str
    #: Who asks: the scopes and brands of the request's API key.
    access: Access
    #: The root fields compiled before execution (compiler.precompile), by response key:
    #: a CompiledQuery, or the ClientError its field answers with.
    compiled: Mapping[str, Any] = field(default_factory=dict)
    reads: PiiReads = field(default_factory=PiiReads)
    #: The audit log (ctxapi.access.audit.AuditLog): mutations note their writes in it.
    audit: Any = None
