"""What the desktop's browser tests share: the served app with the demo stories, a desktop of
another origin that frames the card, Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ctxapi.access.keys import KeyStore
from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.neo4j_local import free_port
from tests.conftest import clear_graph
from tests.seeding import seed_load
from tests.world import World, day
from tests.writing import AGENT_SCOPES, NOW

DEMO_DIR = Path(__file__).parents[1] / "seed" / "demo"
CHROMIUM = "/usr/bin/chromium"
#: Customers added to the demo's brand, each with a late parcel: the queue has a second page.
EXTRA_LATE = 24


@dataclass
class Desk:
    """The served app, an agent's key for the demo brand, and two desktops' origins."""

    base: str
    key: str
    allowed_parent: str
    refused_parent: str

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        """POST ``query`` with the agent's key; the response body."""
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(  # noqa: S310 - the test's own server
            self.base + "/graphql",
            data=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": "Bearer " + self.key,
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())  # type: ignore[no-any-return]

    def card(self, query: str) -> str:
        """The card's URL for ``query`` (e.g. ``phone=…``), the key in its fragment."""
        return f"{self.base}/card?{query}#key={self.key}"


def demo_world(db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The demo stories on their day, and ``EXTRA_LATE`` more late parcels of their brand."""
    clear_graph(db)
    outcome = seed_load(settings, tmp_path_factory.mktemp("rejects"), DEMO_DIR)
    assert outcome.exit_code == 0, outcome.output
    w = World()
    for n in range(EXTRA_LATE):
        cid = w.customer(f"Q-{n:02d}", brand="northwind")
        w.add("orders", id=f"QO-{n:02d}", customer=cid, number=f"Q{n:04d}", placedAt=day(12),
              status="shipped", total="25.00", currency="EUR")  # fmt: skip
        w.add("shipments", id=f"QS-{n:02d}", order=f"QO-{n:02d}", carrier="DHL",
              status="in_transit", promisedAt=day(4 + n / 10))  # fmt: skip
    folder = w.write(tmp_path_factory.mktemp("late"))
    outcome = seed_load(settings, tmp_path_factory.mktemp("rejects"), folder)
    assert outcome.exit_code == 0, outcome.output


def agent_key(db: Database) -> str:
    """A desktop's key: reads (personal data too) and writes contacts, of the demo brand."""
    secret, _ = KeyStore(db).create("desk-" + uuid.uuid4().hex[:8], AGENT_SCOPES, ["northwind"])
    return secret


PARENT_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>A desktop</title></head>
<body><h1>Agent desktop</h1>
<iframe id="card" title="Customer card" width="380" height="700" src="{src}"></iframe>
<script>
  window.messages = [];
  const frame = document.getElementById("card");
  window.addEventListener("message", (event) => {{
    if (event.origin !== "{ctxapi}") return;
    window.messages.push(event.data);
    if (event.data.type === "ctxapi:ready") {{
      frame.contentWindow.postMessage({{type: "ctxapi:init", key: "{key}"}}, "{ctxapi}");
    }}
  }});
</script></body></html>
"""


@contextmanager
def desktop(card_url: str, origin: str, key: str) -> Iterator[str]:
    """A desktop page on ``origin`` (a port of its own on ``localhost``) that frames
    ``card_url`` and gives it ``key`` by ``postMessage`` when it is ready; yields its URL."""
    ctxapi = "/".join(card_url.split("/")[:3])
    page = PARENT_PAGE.format(src=card_url, ctxapi=ctxapi, key=key).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    port = int(origin.rsplit(":", 1)[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield origin + "/"
    finally:
        server.shutdown()
        server.server_close()


def parent_origin() -> str:
    """An origin of a desktop: ``localhost`` (not ctxapi's 127.0.0.1) on a free port."""
    return f"http://localhost:{free_port()}"


__all__ = ["CHROMIUM", "NOW", "Desk", "agent_key", "demo_world", "desktop", "parent_origin"]
