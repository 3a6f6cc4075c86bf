"""Is Neo4j there at all? A Bolt handshake on a fresh socket tells a paused or cut-off server
from a slow query.

A read that waits gets no word from the driver until Neo4j answers: the driver has no read
timeout, and a server that is paused (a long GC, SIGSTOP) or behind a network partition never
answers. Neo4j's network threads answer the handshake even while its query threads plan or
run, so a handshake unanswered within ``timeout`` means Neo4j is away, not busy.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

_MAGIC = b"\x60\x60\xb0\x17"
# Four proposals of a version range each ([0, range, minor, major]): Bolt 5.0-5.8, then 4.1-4.4.
_HANDSHAKE = _MAGIC + bytes([0, 8, 8, 5, 0, 3, 4, 4]) + bytes(8)
_DEFAULT_PORT = 7687


class Liveness:
    """Handshakes with the server of one Neo4j URI, at most one at a time; a result is kept for
    ``ttl`` seconds so that many waiting reads cost one probe."""

    def __init__(self, uri: str, *, timeout: float = 1.0, ttl: float = 1.0) -> None:
        parts = urlsplit(uri)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or _DEFAULT_PORT
        self.tls = parts.scheme.endswith(("+s", "+ssc"))
        self.verify = not parts.scheme.endswith("+ssc")
        self.timeout = timeout
        self.ttl = ttl
        self._lock = threading.Lock()
        self._checked_at = -float("inf")
        self._alive = True

    def alive(self) -> bool:
        """Whether Neo4j answered a handshake within ``timeout`` (now, or within ``ttl``)."""
        with self._lock:
            if time.monotonic() - self._checked_at >= self.ttl:
                self._alive = self._handshake()
                self._checked_at = time.monotonic()
            return self._alive

    def _handshake(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as raw:
                raw.settimeout(self.timeout)
                if not self.tls:
                    return _answered(raw)
                context = ssl.create_default_context()
                if not self.verify:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                with context.wrap_socket(raw, server_hostname=self.host) as secured:
                    return _answered(secured)
        except OSError:
            return False


def _answered(connection: socket.socket) -> bool:
    """Send the handshake; any four-byte answer (a version, or "none of those") is Neo4j's."""
    connection.sendall(_HANDSHAKE)
    answer = b""
    while len(answer) < 4:
        chunk = connection.recv(4 - len(answer))
        if not chunk:
            return False
        answer += chunk
    return True
