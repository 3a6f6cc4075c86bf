"""A real webhook receiver for the tests: an HTTP server on 127.0.0.1 that checks signatures.

It can be down (nothing listens on its port: connections are refused), answer 500 for a
number of requests, then 200; it keeps every request it got, with whether its signature held.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.store.events import Event
from ctxapi.webhooks.registry import Registry, Webhook
from ctxapi.webhooks.signing import SignatureError, verify

#: Settings for the tests: retries fast and few, so a receiver that stays down leaves a dead
#: letter within a second.
FAST = {
    "clock": "2026-11-23T12:00:00+00:00",
    "webhook_backoff": 0.05,
    "webhook_max_backoff": 0.2,
    "webhook_max_attempts": 3,
    "webhook_connect_timeout": 2.0,  # a busy machine's loopback answers well within these
    "webhook_read_timeout": 5.0,
}


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it."""

    headers: dict[str, str]
    body: bytes
    signed: bool
    answered: int

    @property
    def payload(self) -> Any:
        return orjson.loads(self.body)


class Receiver:
    """The receiver at ``url``; ``secret`` is set once the webhook is added."""

    def __init__(self) -> None:
        # While down, the port stays bound without listening (connections are refused), so no
        # other process on the machine can take it meanwhile.
        self._holder: socket.socket | None = socket.socket()
        self._holder.bind(("127.0.0.1", 0))
        self.port = self._holder.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/ctxapi?token=t0k"
        self.secret = ""
        self.failures = 0  # answer 500 to this many requests before answering 200
        self.got: list[Received] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def up(self, *, failures: int = 0) -> Receiver:
        """Listen (answering 500 to the first ``failures`` requests)."""
        self.failures = failures
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    verify(receiver.secret, self.headers.get("Ctxapi-Signature"), body)
                    signed = True
                except SignatureError:
                    signed = False
                with receiver._lock:
                    status = 500 if receiver.failures > 0 else 200
                    receiver.failures -= 1
                    receiver.got.append(Received(dict(self.headers), body, signed, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        if self._holder is not None:
            self._holder.close()
            self._holder = None
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def down(self, *, for_good: bool = False) -> Receiver:
        """Stop listening: connections to the port are refused (and with ``for_good``, the
        port is let go)."""
        if for_good and self._holder is not None:
            self._holder.close()
            self._holder = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            if for_good:
                return self
            self._holder = socket.socket()
            self._holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._holder.bind(("127.0.0.1", self.port))
        return self

    def delivered(self) -> list[Received]:
        """The requests answered 200."""
        with self._lock:
            return [one for one in self.got if one.answered == 200]

    def wait_for(self, n: int, timeout: float = 10) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.delivered()) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.delivered()


def fast_settings(settings: Settings, folder: Path) -> Settings:
    """``settings`` with ``FAST``'s retries, the audit log in ``folder``."""
    return replace(settings, audit_log=str(folder / "audit.jsonl"), **FAST)  # type: ignore[arg-type]


def no_webhooks(db: Database) -> Registry:
    """The webhooks of ``db``, none yet (nor deliveries)."""
    db.write(lambda tx: tx.run("MATCH (n) WHERE n:Webhook OR n:Delivery DETACH DELETE n").consume())
    return Registry(db)


def subscribe(hooks: Registry, receiver: Receiver, *events: Event, brand: str = "b") -> Webhook:
    """A webhook of ``brand`` for ``events`` (default: interaction.recorded) to ``receiver``,
    which learns its secret."""
    chosen = list(events or [Event.INTERACTION_RECORDED])
    hook, secret = hooks.add(receiver.url, chosen, brand, "2026-11-23T12:00:00Z")
    receiver.secret = secret
    return hook
