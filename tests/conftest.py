"""Fixtures: one real, throwaway Neo4j per test run (or NEO4J_URI's), the app and its clients.

With NEO4J_URI unset, the session starts its own Neo4j from the jars ctxapi fetches, in a
temporary folder on a free port, and stops it at the end, on failure and on Ctrl-C too (the
server also gets SIGTERM from Linux if this process dies). Nothing here fakes the database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from ctxapi import create_app
from ctxapi.access.keys import KeyStore, Scope
from ctxapi.config import Settings, default_home
from ctxapi.db import Database
from ctxapi.migrations import apply
from ctxapi.neo4j_local import LocalNeo4j, free_port

TEST_HEAP = "1g"
TEST_PAGECACHE = "512m"


def throwaway_neo4j(folder: Path, password: str | None = None) -> LocalNeo4j:
    """A Neo4j instance in ``folder`` on a free port, sharing the fetched jars of .ctxapi/."""
    return LocalNeo4j(
        Path(os.environ.get("CTXAPI_HOME") or default_home()),
        root=folder,
        port=free_port(),
        heap=TEST_HEAP,
        pagecache=TEST_PAGECACHE,
        password=password,
    )


def settings_for(server: LocalNeo4j, **overrides: Any) -> Settings:
    """Settings for ``server``; the audit log goes next to its data, not into .ctxapi/."""
    overrides.setdefault("audit_log", str(server.root / "audit.jsonl"))
    return Settings(neo4j_uri=server.uri, neo4j_password=server.password(), **overrides)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings that point at the test run's Neo4j."""
    if os.environ.get("NEO4J_URI"):
        yield Settings(
            neo4j_uri=os.environ["NEO4J_URI"],
            neo4j_user=os.environ.get("NEO4J_USER", "neo4j"),
            neo4j_password=os.environ.get("NEO4J_PASSWORD", ""),
            neo4j_database=os.environ.get("NEO4J_DATABASE", "neo4j"),
            audit_log=str(tmp_path_factory.mktemp("audit") / "audit.jsonl"),
        )
        return
    server = throwaway_neo4j(tmp_path_factory.mktemp("neo4j"))
    server.start(ephemeral=True, quiet=True)
    try:
        yield settings_for(server)
    finally:
        server.stop(quiet=True)


@pytest.fixture(scope="session")
def db(settings: Settings) -> Iterator[Database]:
    """The test Neo4j with the graph schema applied."""
    database = Database(settings)
    apply(database)
    yield database
    database.close()


@pytest.fixture(scope="session")
def api_key(db: Database) -> str:
    """A key with every scope for every brand: the tests' trusted caller. (Access control
    itself is tested with narrower keys in test_access.py.)"""
    secret, _ = KeyStore(db).create("tests-" + uuid.uuid4().hex[:8], list(Scope), None)
    return secret


#: A key as ctxapi spells them that no database knows: for apps whose Neo4j is not there.
UNKNOWN_KEY = "ctx_live_" + "0" * 40


def keyed(client: FlaskClient, key: str) -> FlaskClient:
    """``client`` sending ``key`` as its bearer token on every request."""
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + key
    return client


@pytest.fixture
def app(settings: Settings, db: Database) -> Flask:
    return create_app(settings)


@pytest.fixture
def client(app: Flask, api_key: str) -> FlaskClient:
    return keyed(app.test_client(), api_key)


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def clear_graph(db: Database) -> Database:
    """Remove every node but the migration records and API keys; returns ``db``."""
    db.write(
        lambda tx: tx.run(
            "MATCH (n) WHERE NOT n:Migration AND NOT n:ApiKey DETACH DELETE n"
        ).consume()
    )
    return db


@pytest.fixture
def empty_graph(db: Database) -> Database:
    """The test database with every node but the migration records removed."""
    return clear_graph(db)


def neo4j_env(settings: Settings) -> dict[str, str]:
    """Environment variables that point ctxapi's commands at the test database."""
    return {
        "NEO4J_URI": settings.neo4j_uri,
        "NEO4J_USER": settings.neo4j_user,
        "NEO4J_PASSWORD": settings.neo4j_password,
        "NEO4J_DATABASE": settings.neo4j_database,
    }
