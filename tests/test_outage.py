"""Neo4j going away under traffic: stopped, then paused. Clients get quick 503s with
Retry-After, /readyz always answers in time and follows Neo4j back.

One real Neo4j of this test's own (it is stopped and paused), the API served by gunicorn with
two workers, and client threads sending the headline query with insights and probing /readyz
throughout. The bounds are the issue's: a request started while Neo4j is away answers 503 with
Retry-After within 2 s, none takes over 3 s, /readyz answers within 1.5 s and says 200 within
5 s of Neo4j answering again.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ctxapi.access.keys import KeyStore, Scope
from ctxapi.config import PROJECT_ROOT
from ctxapi.db import Database
from ctxapi.migrations import apply
from tests.conftest import settings_for, throwaway_neo4j
from tests.test_serving import Served, serving

HEADLINE = (PROJECT_ROOT / "schema" / "queries" / "customer_context.graphql").read_text()


@dataclass(frozen=True)
class Answer:
    """One request: what, when it started and how long it took, and what came back."""

    path: str
    started: float
    seconds: float
    status: int  # 0: no HTTP answer at all
    retry_after: str | None


@dataclass
class Traffic:
    """Client threads sending requests until stopped; every answer is kept."""

    served: Served
    key: str
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self, queries: int = 3) -> None:
        body = {
            "query": HEADLINE,
            "variables": {"email": "nobody@example.com", "withInsights": True},
        }
        for _ in range(queries):
            self._threads.append(threading.Thread(target=self._loop, args=("/graphql", body)))
        self._threads.append(threading.Thread(target=self._loop, args=("/readyz", None)))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _loop(self, path: str, body: dict[str, object] | None) -> None:
        while not self._stop.is_set():
            self.answers.append(self.send(path, body))
            if body is None:
                time.sleep(0.2)

    def send(self, path: str, body: dict[str, object] | None = None) -> Answer:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 (127.0.0.1 only)
            self.served.base + path,
            data=data,
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": "Bearer " + self.key,
            },
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                response.read()
                status, retry = response.status, response.headers.get("Retry-After")
        except urllib.error.HTTPError as error:
            error.read()
            status, retry = error.code, error.headers.get("Retry-After")
        except OSError:
            status, retry = 0, None
        return Answer(path, started, time.monotonic() - started, status, retry)

    def between(self, start: float, end: float, path: str) -> list[Answer]:
        """The answers to requests to ``path`` started in [start, end)."""
        return [a for a in self.answers if a.path == path and start <= a.started < end]

    def first_ok_after(self, moment: float, path: str, timeout: float) -> float:
        """Seconds from ``moment`` until a request to ``path`` started after it got 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            oks = [a for a in self.between(moment, deadline, path) if a.status == 200]
            if oks:
                return min(a.started + a.seconds for a in oks) - moment
            time.sleep(0.1)
        raise AssertionError(f"{path} did not answer 200 within {timeout} s")


def test_neo4j_stopped_then_paused_under_traffic(tmp_path: Path) -> None:
    # given the API serving from a Neo4j of its own, under traffic
    neo4j = throwaway_neo4j(tmp_path / "neo4j")
    neo4j.start(ephemeral=True, quiet=True)
    try:
        settings = settings_for(neo4j)
        database = Database(settings)
        apply(database)
        key, _ = KeyStore(database).create("outage", [Scope.CONTEXT_READ], None)
        database.close()
        with serving(settings, tmp_path, "--workers", "2") as served:
            traffic = Traffic(served, key)
            traffic.start()
            time.sleep(3)

            # when Neo4j is stopped, then started again
            stopped = time.monotonic()
            neo4j.stop(quiet=True)
            time.sleep(3)
            neo4j.start(ephemeral=True, quiet=True)
            answering = time.monotonic()
            ready_after_start = traffic.first_ok_after(answering, "/readyz", 30)
            traffic.first_ok_after(answering, "/graphql", 180)  # plans warm again

            # and then paused (a long GC, a partition: it neither answers nor refuses)
            pid = neo4j.pid()
            assert pid is not None
            paused = time.monotonic()
            os.kill(pid, signal.SIGSTOP)
            try:
                time.sleep(6)
            finally:
                os.kill(pid, signal.SIGCONT)
            resumed = time.monotonic()
            ready_after_pause = traffic.first_ok_after(resumed, "/readyz", 30)
            traffic.first_ok_after(resumed, "/graphql", 60)
            traffic.stop()
    finally:
        neo4j.stop(quiet=True)

    # then every probe of /readyz answered within 1.5 s, and said 200 within 5 s of Neo4j back
    probes = [a for a in traffic.answers if a.path == "/readyz"]
    assert max(a.seconds for a in probes) <= 1.5, sorted(a.seconds for a in probes)[-5:]
    assert ready_after_start <= 5, ready_after_start
    assert ready_after_pause <= 5, ready_after_pause
    for start, end in ((stopped, answering), (paused, resumed)):
        # and no request overlapping the outage took over 3 s
        during = [
            a for a in traffic.answers if a.path == "/graphql" and start - 3 <= a.started < end
        ]
        slow = [
            (round(a.started - start, 2), round(a.seconds, 2), a.status)
            for a in during
            if a.seconds > 3
        ]
        assert max(a.seconds for a in during) <= 3, (round(end - start, 2), slow)
        # and those started while Neo4j was away were told so within 2 s, with Retry-After
        away = traffic.between(start + 2, end, "/graphql")
        assert away, "no request was sent while Neo4j was away"
        assert {(a.status, a.retry_after) for a in away} <= {(503, "5"), (200, None)}
        assert any(a.status == 503 for a in away)
        assert max(a.seconds for a in away) <= 2, sorted(a.seconds for a in away)[-5:]
