"""GraphQL over HTTP: the request rules, response media types and error shapes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ctxapi import create_app
from ctxapi.config import Settings
from ctxapi.db import Database, DatabaseUnavailable, QueryTimedOut
from ctxapi.graphql.view import GraphQLView
from ctxapi.limits import Limits
from ctxapi.neo4j_local import NEO4J_VERSION, free_port
from tests.conftest import UNKNOWN_KEY, keyed

GRAPHQL_RESPONSE = "application/graphql-response+json"


def test_post_runs_a_query(client: FlaskClient) -> None:
    # when
    response = client.post("/graphql", json={"query": "{ __typename apiVersion }"})
    # then
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json is not None
    assert response.json["data"] == {"__typename": "Query", "apiVersion": "0.1.0"}
    assert "errors" not in response.json


def test_the_query_reaches_the_real_neo4j(client: FlaskClient) -> None:
    # when
    response = client.post("/graphql", json={"query": "{ database { name version edition } }"})
    # then
    assert response.json is not None
    assert response.json["data"]["database"] == {
        "name": "neo4j",
        "version": NEO4J_VERSION,
        "edition": "community",
    }


def test_get_runs_a_query_with_variables(client: FlaskClient) -> None:
    # given
    query = "query Q($skip: Boolean!) { apiVersion @skip(if: $skip) __typename }"
    # when
    response = client.get(
        "/graphql",
        query_string={"query": query, "variables": '{"skip": true}', "operationName": "Q"},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    # then
    assert response.status_code == 200
    assert response.mimetype == GRAPHQL_RESPONSE
    assert response.json is not None
    assert response.json["data"] == {"__typename": "Query"}


def test_a_mutation_over_get_is_405(client: FlaskClient) -> None:
    # when
    response = client.get("/graphql", query_string={"query": "mutation { anything }"})
    # then
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.json is not None
    assert "POST" in response.json["errors"][0]["message"]


@pytest.mark.parametrize(("accept", "status"), [(GRAPHQL_RESPONSE, 400), ("application/json", 200)])
def test_a_parse_error_has_a_code_and_the_status_the_media_type_prescribes(
    client: FlaskClient, accept: str, status: int
) -> None:
    # when
    response = client.post("/graphql", json={"query": "{ apiVersion"}, headers={"Accept": accept})
    # then
    assert response.status_code == status
    assert response.mimetype == accept
    assert response.json is not None
    assert "data" not in response.json
    [error] = response.json["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert error["locations"] == [{"line": 1, "column": 13}]


def test_a_validation_error_names_the_field(client: FlaskClient) -> None:
    # when
    response = client.post(
        "/graphql", json={"query": "{ nope }"}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    # then
    assert response.status_code == 400
    assert response.json is not None
    [error] = response.json["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "nope" in error["message"]


def test_a_repeated_query_is_parsed_once(client: FlaskClient) -> None:
    # given
    view = client.application.view_functions["graphql"]
    assert isinstance(view, GraphQLView)
    body = {"query": "{ __typename apiVersion }"}
    client.post("/graphql", json=body)
    first = view.documents.get(body["query"])
    # when
    client.post("/graphql", json=body)
    # then
    assert view.documents.get(body["query"]) is first


@pytest.mark.parametrize(
    ("kwargs", "status", "fragment"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "not valid JSON"),
        ({"data": "[1, 2]", "content_type": "application/json"}, 400, "JSON object"),
        ({"json": {"variables": {}}}, 400, "`query`"),
        ({"json": {"query": "{ apiVersion }", "variables": [1]}}, 400, "`variables`"),
        ({"data": "query=x", "content_type": "text/plain"}, 415, "application/json"),
        ({"json": {"query": "{ apiVersion }" + " " * 70_000}}, 413, ""),
    ],
)
def test_malformed_requests_get_a_clear_error(
    client: FlaskClient, kwargs: dict[str, object], status: int, fragment: str
) -> None:
    # when
    response = client.post("/graphql", **kwargs)
    # then
    assert response.status_code == status
    assert response.is_json
    assert response.json is not None
    [error] = response.json["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert fragment in error["message"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_variables_that_do_not_coerce_are_bad_user_input(client: FlaskClient) -> None:
    # when
    response = client.post(
        "/graphql",
        json={"query": "query ($s: Boolean!) { apiVersion @skip(if: $s) }", "variables": {}},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    # then
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_value_outside_an_enum_as_a_variable_is_bad_user_input(client: FlaskClient) -> None:
    # when: a reason the ProactiveReason enum does not have
    response = client.post(
        "/graphql",
        json={
            "query": "query ($r: [ProactiveReason!]) { proactiveQueue(reasons: $r) { pageInfo"
            " { hasNextPage } } }",
            "variables": {"r": ["LATE"]},
        },
    )
    # then
    assert response.json is not None
    [error] = response.json["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Value 'LATE' does not exist in 'ProactiveReason' enum" in error["message"]


def test_a_stored_value_no_enum_knows_is_internal_and_logged(
    client: FlaskClient, empty_graph: Database, caplog: pytest.LogCaptureFixture
) -> None:
    # given a customer whose tier was written around the loader
    empty_graph.write(
        lambda tx: tx.run("CREATE (:Customer {id: 'odd', name: 'Odd', tier: 'platinum'})").consume()
    )
    # when
    response = client.post("/graphql", json={"query": '{ customer(id: "odd") { id tier } }'})
    # then the server's data fault is not blamed on the client, and the log says where
    assert response.json is not None
    [error] = response.json["errors"]
    assert error["extensions"]["code"] == "INTERNAL"
    assert "platinum" not in error["message"]
    assert error["path"] == ["customer", "tier"]
    assert "unexpected error at ['customer', 'tier']" in caplog.text


def _nested_orders(depth: int) -> str:
    """order → customer → orders → customer → … with ``depth`` lists."""
    inner = "id"
    for _ in range(depth):
        inner = f"orders(first: 2) {{ edges {{ node {{ id customer {{ {inner} }} }} }} }}"
    return '{ customer(id: "C-1") { ' + inner + " } }"


@pytest.mark.parametrize(
    ("document", "limit"),
    [
        (_nested_orders(5), "CTXAPI_MAX_LIST_DEPTH"),
        ('{ customer(id: "1") { ' + "name " * 900 + "} }", "CTXAPI_MAX_REPEATS"),
        (
            "{ "
            + " ".join(
                f'a{n}: customer(id: "{n}") {{ orders(first: 100) {{ edges {{ node'
                " { items { quantity } } } } }"
                for n in range(6)
            )
            + " }",
            "CTXAPI_MAX_ROWS",
        ),
        (
            '{ customer(id: "1") { '
            + " ".join(f"a{n}: identities {{ kind }}" for n in range(41))
            + " } }",
            "CTXAPI_MAX_LISTS",
        ),
    ],
)
def test_a_query_over_a_cost_limit_is_refused_before_the_database_is_asked(
    app: Flask, client: FlaskClient, document: str, limit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an API that knows the client's key already, and a record of what it asks Neo4j
    assert client.post("/graphql", json={"query": "{ apiVersion }"}).status_code == 200
    database = app.extensions["ctxapi"].db
    asked: list[str] = []
    real_read = database.read

    def recorded(text: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(text)
        return real_read(text, *args, **kwargs)

    monkeypatch.setattr(database, "read", recorded)
    # when
    response = client.post("/graphql", json={"query": document})
    # then the request is refused as too complex, naming the limit and its setting, and
    # Neo4j was not asked anything
    assert asked == []
    assert response.status_code == 400, response.json
    assert response.json is not None
    [error] = response.json["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert limit in error["message"]
    assert "the limit is" in error["message"]


def test_the_cost_limits_are_settings(settings: Settings, db: Database, api_key: str) -> None:
    # given an API that allows one level of lists, and one that allows three fields
    strict = create_app(replace(settings, limits=Limits(max_list_depth=1))).test_client()
    few = create_app(replace(settings, limits=Limits(max_fields=3))).test_client()
    strict, few = keyed(strict, api_key), keyed(few, api_key)
    nested = '{ customer(id: "C-1") { orders(first: 1) { edges { node { items { line } } } } } }'
    flat = '{ customer(id: "C-1") { identities { kind } } }'
    four = "{ a: apiVersion b: apiVersion c: apiVersion d: apiVersion }"
    # when
    refused = strict.post("/graphql", json={"query": nested}).json
    allowed = strict.post("/graphql", json={"query": flat})
    too_many = few.post("/graphql", json={"query": four}).json
    # then
    assert refused is not None
    assert too_many is not None
    message = refused["errors"][0]["message"]
    assert "nests lists 2 deep; the limit is 1 (CTXAPI_MAX_LIST_DEPTH)" in message
    assert allowed.status_code == 200, allowed.json
    assert "has 4 fields; the limit is 3 (CTXAPI_MAX_FIELDS)" in too_many["errors"][0]["message"]


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
    ],
)
def test_the_response_media_type_follows_the_spec(
    client: FlaskClient, accept: str | None, media_type: str
) -> None:
    # when
    headers = {"Accept": accept} if accept else {}
    response = client.post("/graphql", json={"query": "{ apiVersion }"}, headers=headers)
    # then
    assert response.status_code == 200
    assert response.mimetype == media_type


def test_an_unacceptable_accept_header_is_406(client: FlaskClient) -> None:
    response = client.post(
        "/graphql", json={"query": "{ apiVersion }"}, headers={"Accept": "text/csv"}
    )
    assert response.status_code == 406


def test_every_response_carries_a_request_id(client: FlaskClient) -> None:
    # when
    given = client.post(
        "/graphql", json={"query": "{ apiVersion }"}, headers={"X-Request-Id": "abc-123"}
    )
    made = client.post("/graphql", json={"query": "{ apiVersion }"})
    # then
    assert given.headers["X-Request-Id"] == "abc-123"
    assert given.json is not None
    assert given.json["extensions"]["requestId"] == "abc-123"
    assert made.json is not None
    assert len(made.json["extensions"]["requestId"]) == 32


def test_a_browser_gets_graphiql_with_its_assets(client: FlaskClient) -> None:
    # when
    page = client.get("/graphql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    # then
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "GraphiQL.createFetcher" in html
    for asset in ("graphiql.min.js", "graphiql.min.css", "react.production.min.js"):
        assert f"/graphiql/{asset}" in html
        served = client.get(f"/graphiql/{asset}")
        assert served.status_code == 200
        assert len(served.get_data()) > 1000
        served.close()


def test_unknown_paths_and_methods_answer_in_json(client: FlaskClient) -> None:
    missing = client.get("/nowhere")
    wrong_method = client.put("/graphql", json={"query": "{ apiVersion }"})
    assert missing.status_code == 404
    assert missing.is_json
    assert wrong_method.status_code == 405
    assert set(wrong_method.headers["Allow"].split(", ")) >= {"GET", "POST"}


@pytest.fixture
def unreachable_client() -> FlaskClient:
    """An app whose Neo4j address has nothing listening on it."""
    settings = Settings(neo4j_uri=f"neo4j://127.0.0.1:{free_port()}", neo4j_password="x")
    return keyed(create_app(settings).test_client(), UNKNOWN_KEY)


def test_a_database_outage_is_503_unavailable_without_internals(
    unreachable_client: FlaskClient,
) -> None:
    # when
    response = unreachable_client.post("/graphql", json={"query": "{ database { version } }"})
    # then
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json is not None
    [error] = response.json["errors"]
    assert error["extensions"]["code"] == "UNAVAILABLE"
    text = response.get_data(as_text=True)
    for leak in ("127.0.0.1", "Traceback", "ServiceUnavailable", "neo4j://"):
        assert leak not in text


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a hung database)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield int(server.getsockname()[1])


def test_readyz_gives_up_on_a_hung_database(silent_server: int) -> None:
    # given
    settings = Settings(neo4j_uri=f"bolt://127.0.0.1:{silent_server}", neo4j_password="x")
    client = create_app(settings).test_client()
    # when
    response = client.get("/readyz")
    # then
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "reason": "Neo4j did not answer in time"}


def test_a_read_past_the_query_timeout_is_a_retryable_timeout(settings: Settings) -> None:
    # given reads limited to half a second (Neo4j checks every couple of seconds)
    db = Database(replace(settings, query_timeout=0.5))
    try:
        # when a read runs for much longer
        with pytest.raises(QueryTimedOut, match=r"did not finish within 0\.5 s") as caught:
            db.read("UNWIND range(1, 300000000) AS x WITH x WHERE x % 7 = 0 RETURN count(x)")
        # then the API treats it like an outage (UNAVAILABLE, retry shortly), not a crash
        assert caught.type is QueryTimedOut
        assert "Neo" not in str(caught.value)
    finally:
        db.close()


def test_a_read_that_neo4j_terminates_is_a_retryable_unavailable(
    settings: Settings, db: Database
) -> None:
    # given a read running on the real Neo4j, and an operator terminating it meanwhile
    reader = Database(settings)
    failure: list[BaseException] = []

    def long_read() -> None:
        try:
            reader.read("UNWIND range(1, 100000000) AS x WITH x WHERE x < 0 RETURN x // long-read")
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=long_read)
    thread.start()
    deadline = time.monotonic() + 30
    terminated: list[Any] = []
    while not terminated and time.monotonic() < deadline:
        terminated = db.read(
            "SHOW TRANSACTIONS YIELD transactionId, currentQuery"
            " WHERE currentQuery CONTAINS '// long-read' AND NOT currentQuery CONTAINS 'SHOW'"
            " RETURN transactionId"
        )
        time.sleep(0.05)
    # when
    for row in terminated:
        db.read("TERMINATE TRANSACTION $id", {"id": row["transactionId"]})
    thread.join(timeout=30)
    reader.close()
    # then the reader was told Neo4j cannot serve it now, which the API answers with 503
    assert terminated
    assert len(failure) == 1
    assert isinstance(failure[0], DatabaseUnavailable), failure


def test_responses_are_not_sniffed_cached_or_referred_from(client: FlaskClient) -> None:
    # when
    answers = [client.post("/graphql", json={"query": "{ __typename }"}), client.get("/readyz")]
    # then
    for response in answers:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
