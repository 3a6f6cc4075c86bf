"""`ctxapi serve` under gunicorn: slow clients freeze nothing, and logs carry no client data."""

from __future__ import annotations

import inspect
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from gunicorn.config import Config
from gunicorn.workers import gthread

from ctxapi import create_app
from ctxapi.cli import _close_worker_driver
from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.graphql import lookup
from ctxapi.http import Redact
from ctxapi.neo4j_local import free_port
from ctxapi.serving import ThreadWorker
from tests.conftest import neo4j_env
from tests.seeding import seed_load, write_lines

pytestmark = pytest.mark.slow

CTXAPI = str(Path(sys.executable).with_name("ctxapi"))

# What a client sends that must never reach a log, and the spellings it could take there:
# as sent, normalized (lower case, E.164), URL-encoded in a request line.
EMAIL = "Ann.Privacy@Example.COM"
PHONE = "(415) 555-0123"
SINCE = "2031-07-19T13:37:42+05:30:15"  # a zone offset with seconds: Neo4j cannot parse it
SECRETS = ("ann.privacy", "555-0123", "5550123", "2031-07-19")

WHO = (
    "query Who($identity: IdentityInput!, $since: DateTime) {"
    " customerBy(identity: $identity) { id interactions(since: $since) { edges { node { id } } } }"
    " }"
)


@dataclass
class Served:
    """A real `ctxapi serve` in a process group of its own, its output going to files."""

    base: str
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()


@contextmanager
def serving(settings: Settings, folder: Path, *arguments: str, **env: str) -> Iterator[Served]:
    """Serve on a free 127.0.0.1 port until /readyz says 200; stop it (SIGTERM) afterwards."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "CTXAPI_"))}
    environ.update(neo4j_env(settings), HOST="127.0.0.1", **env)
    environ.setdefault("CTXAPI_AUDIT_LOG", str(folder / "audit.jsonl"))
    stdout, stderr = folder / "stdout.log", folder / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [CTXAPI, "serve", "--port", str(port), *arguments],
            env=environ,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    served = Served(f"http://127.0.0.1:{port}", process, stdout, stderr)
    try:
        _wait_ready(served, timeout=180)  # a fresh Neo4j plans the committed queries cold
        yield served
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_ready(served: Served, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert served.process.poll() is None, served.output()
        try:
            if _request(served.base + "/readyz")[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"{served.base}/readyz did not turn 200 within {timeout}s")


def _request(
    url: str, body: dict[str, Any] | None = None, timeout: float = 5, key: str | None = None
) -> tuple[int, dict[str, Any]]:
    assert url.startswith("http://127.0.0.1:")
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key is not None:
        headers["Authorization"] = "Bearer " + key
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _slow_client(port: int) -> socket.socket:
    """A connection that starts a request and never finishes its headers (slow loris)."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=2)
    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return connection


# -- slow clients --------------------------------------------------------------------------
def test_ten_slow_clients_freeze_neither_health_nor_graphql(
    settings: Settings, db: Database, tmp_path: Path, api_key: str
) -> None:
    # given: the default workers and threads, and ten clients stalled mid-request
    with serving(settings, tmp_path) as served, ExitStack() as slow:
        port = int(served.base.rsplit(":", 1)[1])
        for _ in range(10):
            connection = slow.enter_context(closing(_slow_client(port)))
            time.sleep(0.05)
            connection.sendall(b"X-Slow: 1\r\n")  # a little more, never the blank line
        time.sleep(1)
        # when
        latencies = []
        for _ in range(5):
            started = time.perf_counter()
            status, body = _request(served.base + "/healthz", timeout=2)
            latencies.append(time.perf_counter() - started)
            assert (status, body) == (200, {"status": "ok"})
        edition = {"query": "{ database { edition } }"}
        status, body = _request(served.base + "/graphql", edition, key=api_key)
        ready = _request(served.base + "/readyz", timeout=2)[0]
    # then
    assert max(latencies) < 0.1, latencies
    assert status == 200
    assert body["data"] == {"database": {"edition": "community"}}
    assert ready == 200


def test_each_request_counts_its_own_queries_while_threads_share_a_worker(
    settings: Settings, db: Database, tmp_path: Path, api_key: str
) -> None:
    # given: one worker whose threads serve requests at the same time (timings in extensions)
    one = '{ customer(id: "nobody") { id } }'
    two = '{ a: customer(id: "nobody") { id } b: customer(id: "no one") { id } }'
    documents = [one, two] * 20
    with (
        serving(settings, tmp_path, "--workers", "1", "--threads", "8", CTXAPI_DEBUG="1") as s,
        ThreadPoolExecutor(8) as pool,
    ):
        # when: requests with one and with two root fields, eight at a time
        bodies = list(
            pool.map(lambda q: _request(s.base + "/graphql", {"query": q}, key=api_key), documents)
        )
    # then: the per-request query log (a ContextVar) never mixed two requests
    counts = [body["extensions"]["cypher"]["queries"] for _status, body in bodies]
    assert counts == [1, 2] * 20
    assert all(status == 200 for status, _body in bodies)


def test_the_threaded_worker_builds_on_what_gunicorn_has() -> None:
    # The main loop of gunicorn's gthread calls these, on its own thread (gunicorn 27).
    def parameters(name: str) -> list[str]:
        return list(inspect.signature(getattr(gthread.ThreadWorker, name)).parameters)

    assert parameters("enqueue_req") == ["self", "conn"]
    assert parameters("finish_request") == ["self", "conn", "fs"]
    assert parameters("set_accept_enabled") == ["self", "enabled"]


def test_a_worker_closes_its_driver_when_it_exits(settings: Settings, db: Database) -> None:
    # given: a threaded worker whose app has connected to Neo4j
    app = create_app(settings)

    class Application:
        def wsgi(self) -> Any:
            return app

    worker = ThreadWorker(0, os.getpid(), [], Application(), 30, Config(), logging.getLogger())
    worker.load_wsgi()
    worker.tmp.close()
    database = app.extensions["ctxapi"].db
    database.ping()
    driver = database.driver
    # when: gunicorn calls the worker_exit hook
    _close_worker_driver(None, worker)
    # then
    assert driver._closed
    assert database._driver is None


# -- logs ----------------------------------------------------------------------------------
@pytest.fixture
def ann(empty_graph: Database, settings: Settings, tmp_path: Path) -> Database:
    """A customer with an email, a phone number and one contact."""
    folder = tmp_path / "ann"
    write_lines(folder, "brands.jsonl", '{"id": "northwind", "name": "Northwind"}')
    write_lines(folder, "customers.jsonl", '{"id": "C-ANN", "brand": "northwind", "name": "Ann"}')
    write_lines(
        folder,
        "identities.jsonl",
        json.dumps({"customer": "C-ANN", "kind": "email", "value": EMAIL}),
        json.dumps({"customer": "C-ANN", "kind": "phone", "value": PHONE}),
    )
    interaction = {
        "id": "INT-ANN",
        "customer": "C-ANN",
        "channel": "email",
        "direction": "inbound",
        "occurredAt": "2026-11-02T10:00:00Z",
        "summary": "Asked about a parcel.",
        "status": "resolved",
    }
    write_lines(folder, "interactions.jsonl", json.dumps(interaction))
    outcome = seed_load(settings, tmp_path, folder)
    assert outcome.exit_code == 0, outcome.output
    return empty_graph


def _requests() -> list[tuple[str, dict[str, Any] | None]]:
    """(query string, JSON body) of GETs and POSTs that name Ann, and bad variables."""
    literal = '{ customerBy(identity: {email: "%s"}) { id } }' % EMAIL  # noqa: UP031
    by_email = {"identity": {"email": EMAIL}}
    return [
        (_get(literal), None),
        (_get(WHO, {"identity": {"phone": PHONE}}), None),
        ("", {"query": WHO, "variables": by_email}),
        # bad variables: a zone offset with seconds; a phone number that is not text
        ("", {"query": WHO, "variables": {**by_email, "since": SINCE}}),
        (_get(WHO, {"since": SINCE}), None),
        (_get(WHO, {"identity": {"phone": 4155550123}}), None),
    ]


def _get(query: str, variables: dict[str, Any] | None = None) -> str:
    given = {"variables": json.dumps(variables)} if variables is not None else {}
    return urllib.parse.urlencode({"query": query, **given})


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text.lower()]


def test_the_server_logs_no_email_phone_or_variable(
    settings: Settings, ann: Database, tmp_path: Path, api_key: str
) -> None:
    # given
    with serving(settings, tmp_path) as served:
        # when
        answers = []
        for query_string, body in _requests():
            url = served.base + "/graphql" + ("?" + query_string if query_string else "")
            answers.append(_request(url, body, key=api_key))
    # then: the requests did reach the app and were answered
    assert [status for status, _ in answers[:3]] == [200, 200, 200]
    assert answers[0][1]["data"] == {"customerBy": {"id": "C-ANN"}}
    assert answers[1][1]["data"]["customerBy"]["id"] == "C-ANN"
    assert all("errors" in body for _, body in answers[3:])
    # and everything the server wrote names paths, not what was sent
    output = served.output()
    assert output.count('"GET /graphql"') == 4, output
    assert output.count('"POST /graphql"') == 2, output
    request_ids = [body["extensions"]["requestId"] for _, body in answers]
    assert all(request_id in output for request_id in request_ids), output
    assert _leaks(output) == [], output


@pytest.mark.parametrize(("mode", "lines"), [("errors", 1), ("off", 0)])
def test_the_access_log_keeps_only_failures_or_nothing(
    settings: Settings, ann: Database, tmp_path: Path, api_key: str, mode: str, lines: int
) -> None:
    # given a server whose access log is off the hot path
    query = {"query": "{ apiVersion }"}
    with serving(settings, tmp_path, CTXAPI_ACCESS_LOG=mode) as served:
        # when two requests succeed and one is refused
        answers = [_request(served.base + "/graphql", query, key=api_key) for _ in range(2)]
        answers.append(_request(served.base + "/graphql", query, key="ctx_live_" + "0" * 40))
    # then only the refused one has a line ("errors"), or none has ("off")
    assert [status for status, _ in answers] == [200, 200, 401]
    assert served.stdout.read_text().count('"POST /graphql"') == lines, served.output()
    if lines:
        assert '"POST /graphql" 401' in served.stdout.read_text()


def test_an_internal_error_is_logged_with_its_stack_but_not_its_message(
    client: FlaskClient,
    ann: Database,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: a failure whose message quotes the client's value, as Neo4j's errors do
    def failing(kind: str, value: str, *, region: str) -> str:
        raise RuntimeError(f"cannot read {value!r} as {kind}")

    caplog.set_level(logging.INFO)  # the neo4j driver's DEBUG records quote every parameter
    caplog.set_level(logging.DEBUG, logger="ctxapi")
    client.post("/graphql", json=_requests()[3][1])  # the bad variable, however it fails
    monkeypatch.setattr(lookup, "normalize", failing)
    # when
    answers = [
        client.post("/graphql", json=body) if body else client.get("/graphql?" + query_string)
        for query_string, body in _requests()[:3]
    ]
    # then: the client is told INTERNAL with the request id, the log says where it failed
    for response in answers:
        assert response.json is not None
        assert response.json["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert "Traceback (most recent call last)" in caplog.text
    assert "builtins.RuntimeError" in caplog.text
    assert "lookup.py" in caplog.text
    # and nothing the client sent
    assert _leaks(caplog.text) == [], caplog.text


def test_a_redacted_record_keeps_types_places_and_paths_only() -> None:
    # given: a chained failure whose messages quote a client's values, and a URI argument
    try:
        try:
            raise KeyError(EMAIL)
        except KeyError as error:
            raise RuntimeError(PHONE) from error
    except RuntimeError as error:
        caught = error
    record = logging.LogRecord(
        "ctxapi",
        logging.ERROR,
        __file__,
        1,
        "request to %s failed",
        ("/graphql?" + _get(WHO, {"since": SINCE}),),
        (RuntimeError, caught, caught.__traceback__),
    )
    # when
    Redact().filter(record)
    text = logging.Formatter().format(record)
    # then
    assert record.getMessage() == "request to /graphql failed"
    assert "builtins.KeyError" in text
    assert "builtins.RuntimeError" in text
    assert "raise RuntimeError(PHONE) from error" in text
    assert _leaks(text) == [], text
