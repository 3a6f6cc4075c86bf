"""`ctxapi run`, what `make run` calls: Neo4j, schema and API up; Ctrl-C takes it all down."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from neo4j import GraphDatabase

from ctxapi.config import default_home
from ctxapi.neo4j_local import NEO4J_VERSION, LocalNeo4j, free_port
from tests.conftest import TEST_HEAP, TEST_PAGECACHE

pytestmark = pytest.mark.slow

CTXAPI = str(Path(sys.executable).with_name("ctxapi"))


def _get(
    url: str, body: dict[str, object] | None = None, key: str | None = None
) -> tuple[int, dict[str, object]]:
    data = json.dumps(body).encode() if body is not None else None
    assert url.startswith("http://127.0.0.1:")
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = "Bearer " + key
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _wait_ready(base: str, process: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        try:
            if _get(f"{base}/readyz")[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"{base}/readyz did not turn 200 within {timeout}s")


def test_run_serves_the_api_and_ctrl_c_stops_everything_it_started(tmp_path: Path) -> None:
    # given: a home of its own that shares the fetched jars
    (tmp_path / "neo4j").symlink_to(default_home() / "neo4j", target_is_directory=True)
    bolt_port, http_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")},
        "CTXAPI_HOME": str(tmp_path),
        "CTXAPI_NEO4J_PORT": str(bolt_port),
        "CTXAPI_NEO4J_HEAP": TEST_HEAP,
        "CTXAPI_NEO4J_PAGECACHE": TEST_PAGECACHE,
        "CTXAPI_WORKERS": "2",
        "PORT": str(http_port),
    }
    base = f"http://127.0.0.1:{http_port}"
    # when
    process = subprocess.Popen(
        [CTXAPI, "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_ready(base, process, timeout=180)
        local = LocalNeo4j(tmp_path, port=bolt_port)
        neo4j_pid = local.pid()
        # then: the API answers, over a real gunicorn and the Neo4j it started, to the
        # development key it made (kept private in its home) and to nobody without a key
        key = (tmp_path / "dev-key").read_text().strip()
        assert (tmp_path / "dev-key").stat().st_mode & 0o077 == 0
        version: dict[str, object] = {"query": "{ __typename database { version } }"}
        status, body = _get(f"{base}/graphql", version, key=key)
        assert status == 200
        assert body["data"] == {"__typename": "Query", "database": {"version": NEO4J_VERSION}}
        assert _get(f"{base}/graphql", version)[0] == 401
        # and GraphiQL sends the key for the developer
        page = urllib.request.Request(base + "/graphql", headers={"Accept": "text/html"})  # noqa: S310
        with urllib.request.urlopen(page, timeout=5) as response:  # noqa: S310
            assert key in response.read().decode()
        assert neo4j_pid is not None
        # and the empty graph got the demo stories
        with GraphDatabase.driver(local.uri, auth=("neo4j", local.password())) as driver:
            records, _, _ = driver.execute_query(
                "MATCH (:Identity {kind: 'email', value: 'sofia.marquez@example.com'})"
                "-[:IDENTIFIES]->(c:Customer) RETURN c.tier AS tier, COUNT { (:Customer) } AS all"
            )
        assert [dict(record) for record in records] == [{"tier": "vip", "all": 14}]
        # when: Ctrl-C, as a terminal sends it, to the whole foreground process group
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # then: ctxapi exited cleanly and its Neo4j is gone
    assert process.returncode == 0, output
    assert "Stopping Neo4j" in output
    assert "loading the demo data" in output
    assert f"Development key (every scope, brand northwind): {key}" in output
    assert not Path(f"/proc/{neo4j_pid}").exists()
    assert not (tmp_path / "local" / "run" / "neo4j.pid").exists()
