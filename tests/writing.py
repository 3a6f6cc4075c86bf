"""The small world the write-back tests write to, and keys to write with."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ctxapi.access.keys import KeyStore, Scope
from ctxapi.config import Settings
from ctxapi.db import Database
from tests.conftest import keyed
from tests.world import World, day, load

NOW = "2026-11-23T12:00:00+00:00"
#: An agent desktop's key: reads (personal data too) and writes contacts.
AGENT_SCOPES = [Scope.CONTEXT_READ, Scope.PII_READ, Scope.INTERACTIONS_WRITE]


def build_world(
    db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Database:
    """Two customers of brand b sharing a landline, one of sister brand s; a case each, an
    order each (C-A's with a late parcel), an agent and a product."""
    w = World()
    w.add("brands", id="s", name="Sister")
    w.customer("C-A")
    w.customer("C-B")
    w.customer("C-S", brand="s")
    w.add("identities", customer="C-A", kind="email", value="ann@example.com")
    w.add("identities", customer="C-A", kind="phone", value="+14155550100")
    w.add("identities", customer="C-B", kind="phone", value="+14155550100")
    w.add("identities", customer="C-B", kind="email", value="bob@example.com")
    w.add("agents", id="AG-1", name="Agent One")
    w.add("agents", id="AG-2", name="Agent Two")
    w.add("products", id="P-1", name="Tent")
    w.add("cases", id="K-A", customer="C-A", subject="Late tent", status="open",
          openedAt=day(6))  # fmt: skip
    w.add("cases", id="K-B", customer="C-B", subject="Refund", status="open", openedAt=day(6))
    for oid, cid in (("O-A", "C-A"), ("O-B", "C-B")):
        w.add("orders", id=oid, customer=cid, number="N" + oid, placedAt=day(10),
              status="shipped", total="10.00", currency="EUR",
              items=[{"product": "P-1", "quantity": 1, "unitPrice": "10.00"}])  # fmt: skip
    w.add("shipments", id="SH-A", order="O-A", carrier="DHL", status="in_transit",
          promisedAt=day(3))  # fmt: skip
    w.add("shipments", id="SH-B", order="O-B", carrier="DHL", status="in_transit",
          promisedAt=day(3))  # fmt: skip
    return load(w, db, settings, tmp_path_factory)


def client_with(
    app: Flask, db: Database, scopes: list[Scope], brands: list[str] | None
) -> FlaskClient:
    """A test client of ``app`` with a new key of ``scopes`` for ``brands``."""
    secret, _ = KeyStore(db).create("w-" + uuid.uuid4().hex[:10], scopes, brands)
    return keyed(app.test_client(), secret)


def together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` on threads released at the same moment; their results in order."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        start.wait()
        results[n] = calls[n]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
