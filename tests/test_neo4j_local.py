"""The local Neo4j that ctxapi runs itself: start, stop, status, and what goes wrong."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError

from ctxapi import create_app
from ctxapi.access.keys import KeyStore, Scope
from ctxapi.db import Database
from ctxapi.neo4j_local import LocalNeo4j, Neo4jLocalError, fetch, free_port, require_tool
from tests.api import ready
from tests.conftest import keyed, settings_for, throwaway_neo4j

pytestmark = pytest.mark.slow

#: The installed console script, next to this interpreter.
CTXAPI = str(Path(sys.executable).with_name("ctxapi"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNeo4j]:
    """A second throwaway instance that these tests start, kill and restart at will."""
    instance = throwaway_neo4j(tmp_path_factory.mktemp("lifecycle"))
    instance.start(ephemeral=True, quiet=True)
    yield instance
    instance.stop(quiet=True)


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port``, read from /proc/net."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_bolt_listens_on_loopback_only_with_authentication(server: LocalNeo4j) -> None:
    # then: 127.0.0.1, as IPv4 (0100007F) or IPv4-mapped IPv6
    addresses = _listening_addresses(server.port)
    assert addresses
    assert all(a.endswith("0100007F") for a in addresses), addresses
    # and a wrong password is refused while the generated one works
    assert len(server.password()) >= 20
    assert oct(server.password_file.stat().st_mode & 0o777) == "0o600"
    with (
        GraphDatabase.driver(server.uri, auth=("neo4j", "wrong")) as driver,
        pytest.raises(AuthError, match=r"(?i)unauthorized|authentication"),
    ):
        driver.verify_connectivity()


def test_a_second_start_is_a_no_op(server: LocalNeo4j) -> None:
    # given
    pid = server.pid()
    # when
    started = server.start(quiet=True)
    # then
    assert started is False
    assert server.pid() == pid
    assert server.status().running


def test_a_stale_pid_file_is_cleaned(tmp_path: Path) -> None:
    # given: a pid file naming a process that is not this instance's Neo4j
    instance = throwaway_neo4j(tmp_path)
    instance.pid_file.parent.mkdir(parents=True)
    instance.pid_file.write_text(f"{os.getpid()}\n")
    # when
    status = instance.status()
    # then
    assert not status.running
    assert not instance.pid_file.exists()


def test_a_taken_port_is_named_in_the_error(tmp_path: Path) -> None:
    # given
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        port = squatter.getsockname()[1]
        instance = LocalNeo4j(tmp_path, port=port)
        # when / then
        with pytest.raises(Neo4jLocalError, match=f"Port {port} on 127.0.0.1 is already in use"):
            instance.start(quiet=True)


def test_a_missing_tool_is_one_line_saying_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given
    monkeypatch.setenv("PATH", "/nonexistent")
    # when / then
    with pytest.raises(Neo4jLocalError) as error:
        require_tool("mvn", "Apache Maven (Debian: maven)")
    assert "\n" not in str(error.value)
    assert "install Apache Maven" in str(error.value)


def test_a_crashed_server_is_reported_down_then_up_after_restart(server: LocalNeo4j) -> None:
    # given: the API is serving against this instance, to a key of its own
    with closing(Database(settings_for(server))) as database:
        key, _ = KeyStore(database).create("crash", [Scope.CONTEXT_READ], None)
    client = keyed(create_app(settings_for(server)).test_client(), key)
    assert ready(client).status_code == 200
    # when: Neo4j dies
    server.kill()
    # then
    down = client.get("/readyz")
    assert down.status_code == 503
    assert not server.status().running
    # when: it is started again, with the same data and password
    assert server.start(ephemeral=True, quiet=True) is True
    # then: the same app recovers by itself (re-planning in the background meanwhile)
    assert client.get("/readyz").status_code == 200
    response = client.post("/graphql", json={"query": "{ database { edition } }"})
    assert response.status_code == 200


def test_start_failure_shows_the_log(tmp_path: Path) -> None:
    # given: an initialised instance, then a heap the JVM cannot reserve, so the server dies
    instance = throwaway_neo4j(tmp_path)
    instance._initialise(fetch(instance.home))
    instance.heap = "100TiB"
    # when / then
    with pytest.raises(Neo4jLocalError) as error:
        instance.start(ephemeral=True, quiet=True, timeout=60)
    assert "Neo4j exited with status" in str(error.value)
    assert f"last lines of {instance.console_file}" in str(error.value)
    assert "heap" in str(error.value).lower()
    assert instance.pid() is None


def test_the_cli_reports_status_with_an_exit_code(tmp_path: Path) -> None:
    # given
    env = {**os.environ, "CTXAPI_HOME": str(tmp_path), "CTXAPI_NEO4J_PORT": str(free_port())}
    # when
    done = subprocess.run(
        [CTXAPI, "neo4j", "status"], env=env, capture_output=True, text=True, check=False
    )
    # then
    assert done.returncode == 3
    assert done.stdout.startswith("stopped")


def test_a_given_password_wins_even_one_that_looks_like_an_option(tmp_path: Path) -> None:
    # given
    given = "-given-by-NEO4J_PASSWORD"
    instance = throwaway_neo4j(tmp_path, password=given)
    # when
    instance.start(ephemeral=True, quiet=True)
    try:
        # then
        with GraphDatabase.driver(instance.uri, auth=("neo4j", given)) as driver:
            driver.verify_connectivity()
        assert instance.password_file.read_text().strip() == given
    finally:
        instance.stop(quiet=True)
    # and: what it left at rest (store, transactions, logs, ctxapi's files) is the user's only
    assert (instance.root / "data" / "transactions").is_dir()
    assert instance.console_file.exists()
    shared = _readable_by_others(instance.root)
    assert not shared, "readable by group or others:\n" + "\n".join(shared)
    assert instance.home.stat().st_mode & 0o077 == 0, f"{instance.home} is not 0700"


def _readable_by_others(folder: Path) -> list[str]:
    """Files and folders in ``folder`` (itself too) with a group or other permission bit."""
    return [
        f"{oct(mode & 0o777)} {path}"
        for path in [folder, *sorted(folder.rglob("*"))]
        if not path.is_symlink() and (mode := path.stat().st_mode) & 0o077
    ]
