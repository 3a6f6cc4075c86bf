"""The compiled fast path answers exactly as graphql-core does.

Every committed query, and a generated corpus of selections over the schema (aliases,
fragments, ``@skip``/``@include``, ``__typename``, arguments that are mistakes), is sent to two
apps over the same graph: one with the fast path, one without (``CTXAPI_FAST_PATH=off``). The
two bodies must be equal byte for byte, with the same status, and the same audit records.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from ctxapi.app import create_app
from ctxapi.cli import DEMO_DIR
from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.graphql.schema import schema as graphene_schema
from ctxapi.warmup import COMMITTED, QUERIES
from tests.api import ready
from tests.conftest import clear_graph, keyed
from tests.seeding import seed_load

SCHEMA: GraphQLSchema = graphene_schema.graphql_schema
CLOCK = "2026-11-23T12:00:00+00:00"


def _demo(file: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in (DEMO_DIR / file).read_text().splitlines() if line]


CUSTOMERS = [record["id"] for record in _demo("customers.jsonl")]
IDENTITIES = [(record["kind"], record["value"]) for record in _demo("identities.jsonl")]
ORDERS = [record["number"] for record in _demo("orders.jsonl")]


@pytest.fixture(scope="module")
def demo(db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Database:
    """The demo stories, as written (on their own clock)."""
    clear_graph(db)
    outcome = seed_load(settings, tmp_path_factory.mktemp("rejects"), DEMO_DIR)
    assert outcome.exit_code == 0, outcome.output
    return db


@pytest.fixture(scope="module")
def both(
    demo: Database, settings: Settings, api_key: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[FlaskClient, FlaskClient, Path]:
    """(fast, graphql-core) clients with the trusted key, and the audit log they share."""
    audit = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    # The corpus's selections are each planned cold, some on a busy host: never cut them.
    on = replace(settings, clock=CLOCK, audit_log=str(audit), query_timeout=120.0)
    fast = keyed(create_app(on).test_client(), api_key)
    slow = keyed(create_app(replace(on, fast_path=False)).test_client(), api_key)
    assert ready(fast).status_code == 200
    assert ready(slow).status_code == 200
    return fast, slow, audit


def _executions(path: str) -> float:
    return REGISTRY.get_sample_value("ctxapi_graphql_executions_total", {"path": path}) or 0.0


def _pii_reads(audit: Path) -> list[dict[str, Any]]:
    if not audit.exists():
        return []
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    return [record for record in records if record["event"] == "pii.read"]


def _compare(
    both: tuple[FlaskClient, FlaskClient, Path], query: str, variables: dict[str, Any]
) -> tuple[bytes, int]:
    """Send the request down both paths; assert the same status, type, body and audit
    records; return the body and the status."""
    fast, slow, audit = both
    request = {"query": query, "variables": variables}
    before = len(_pii_reads(audit))
    headers = {"X-Request-Id": "fast-path-compared"}
    answered = fast.post("/graphql", json=request, headers=headers)
    after_fast = _pii_reads(audit)[before:]
    expected = slow.post("/graphql", json=request, headers=headers)
    after_slow = _pii_reads(audit)[before + len(after_fast) :]
    assert answered.status_code == expected.status_code
    assert answered.mimetype == expected.mimetype
    assert answered.data == expected.data, (query, variables)
    drop = ("at",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in after_fast] == [
        {k: v for k, v in r.items() if k not in drop} for r in after_slow
    ]
    return answered.data, answered.status_code


# -- the committed queries ---------------------------------------------------------------------
def _committed_variables(file: str) -> list[dict[str, Any]]:
    """Variables for a committed query that find someone, several, nobody, or are wrong."""
    emails = [value for kind, value in IDENTITIES if kind == "email"]
    if file == "customer_context.graphql":
        found = [
            {"email": email, "withInsights": flag} for email in emails for flag in (False, True)
        ]
        return [*found, {"email": "nobody@example.com"}, {"email": 42}]
    if file == "card.graphql":
        return [{"id": cid} for cid in CUSTOMERS] + [{"id": "nobody"}]
    if file == "search_customers.graphql":
        return [{"query": word} for word in ("sofia", "müller", ORDERS[0], "zz-nobody")]
    return [{"after": None}, {"after": "not-a-cursor"}]


@pytest.mark.parametrize("file", sorted({file for _name, file, _v in COMMITTED}))
def test_every_committed_query_answers_the_same_byte_for_byte(
    both: tuple[FlaskClient, FlaskClient, Path], file: str
) -> None:
    # given a committed query and variables that find someone, nobody, or are wrong
    query = (QUERIES / file).read_text()
    fast_before = _executions("fast")
    # when each is sent down both paths
    bodies = [_compare(both, query, variables)[0] for variables in _committed_variables(file)]
    # then (_compare) the same bytes; and every clean answer came from the fast path
    clean = [body for body in bodies if "errors" not in orjson.loads(body)]
    assert clean
    assert _executions("fast") - fast_before == len(clean)


def test_a_value_the_schema_promises_but_the_graph_lacks_is_the_same_error(
    both: tuple[FlaskClient, FlaskClient, Path], demo: Database
) -> None:
    # given an order whose number is gone (a non-null field) and a customer with identities
    query = (
        "query($id: ID!) { customer(id: $id) { id name"
        " orders(first: 100) { edges { node { number status } } } } }"
    )
    number = ORDERS[0]
    owner = next(r["customer"] for r in _demo("orders.jsonl") if r["number"] == number)
    demo.write(
        lambda tx: tx.run("MATCH (o:Order {number: $n}) REMOVE o.number", n=number).consume()
    )
    gave_up = _executions("gave_up")
    try:
        # when it is asked for down both paths
        body, status = _compare(both, query, {"id": owner})
    finally:
        demo.write(
            lambda tx: tx.run(
                "MATCH (o:Order) WHERE o.number IS NULL SET o.number = $n", n=number
            ).consume()
        )
    # then the same error and null propagation; the fast path left it to graphql-core
    answer = orjson.loads(body)
    assert status == 200
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["path"][:3] == ["customer", "orders", "edges"]
    assert answer["data"] == {"customer": None}
    assert _executions("gave_up") == gave_up + 1


def test_a_read_that_fails_is_answered_as_graphql_core_does_without_reading_it_again(
    demo: Database, settings: Settings, api_key: str
) -> None:
    # given apps whose reads all time out (a query timeout of zero)
    cut = replace(settings, clock=CLOCK, query_timeout=0.0)
    fast = keyed(create_app(cut).test_client(), api_key)
    slow = keyed(create_app(replace(cut, fast_path=False)).test_client(), api_key)
    query = "query($id: ID!) { customer(id: $id) { id name } }"
    request: dict[str, Any] = {"query": query, "variables": {"id": CUSTOMERS[0]}}
    headers = {"X-Request-Id": "fast-path-timed-out"}

    def timed_out() -> float:
        sample = {"kind": "timed_out"}
        return REGISTRY.get_sample_value("ctxapi_neo4j_errors_total", sample) or 0.0

    # when the same request is sent down both paths
    before = timed_out()
    answered = fast.post("/graphql", json=request, headers=headers)
    between = timed_out()
    expected = slow.post("/graphql", json=request, headers=headers)
    # then the same 503 and body, and the fast path ran the read once, as graphql-core does
    assert answered.status_code == expected.status_code == 503
    assert answered.data == expected.data
    assert between - before == 1
    assert timed_out() - between == 1


def test_a_plan_serves_every_customer_and_never_mixes_their_answers(
    both: tuple[FlaskClient, FlaskClient, Path],
) -> None:
    # given one query text, asked for each customer in turn
    query = "query($id: ID!) { customer(id: $id) { id name tier } }"
    fast, _slow, _audit = both
    # when each is answered by the fast path
    before = _executions("fast")
    ids = [
        (fast.post("/graphql", json={"query": query, "variables": {"id": cid}}).json or {})["data"][
            "customer"
        ]["id"]
        for cid in CUSTOMERS
    ]
    # then each answer is its own customer's
    assert ids == CUSTOMERS
    assert _executions("fast") == before + len(CUSTOMERS)


# -- a generated corpus ------------------------------------------------------------------------
_ROOTS: tuple[tuple[str, str, dict[str, st.SearchStrategy[Any]]], ...] = (
    ("customer(id: $id)", "Customer", {"id": st.sampled_from([*CUSTOMERS, "nobody"])}),
    (
        "customerBy(identity: {email: $email})",
        "Customer",
        {"email": st.sampled_from([v for k, v in IDENTITIES if k == "email"] + ["no@x.io"])},
    ),
    (
        "customerBy(identity: {phone: $phone})",
        "Customer",
        {"phone": st.sampled_from([v for k, v in IDENTITIES if k == "phone"])},
    ),
    (
        "customersBy(identity: {phone: $phone})",
        "CustomerCandidate",
        {"phone": st.sampled_from([v for k, v in IDENTITIES if k == "phone"])},
    ),
    ("order(number: $number)", "Order", {"number": st.sampled_from(ORDERS)}),
    ("searchCustomers(query: $query, first: $first)", "SearchHit", {}),
    ("proactiveQueue(first: $first)", "ProactiveItemConnection", {}),
    ("proactiveCustomers(first: $first)", "ProactiveItemConnection", {}),
)
_ROOT_VARIABLES = {
    "id": "ID!",
    "email": "String!",
    "phone": "String!",
    "number": "String!",
    "query": "String!",
    "first": "Int",
}
_LITERALS: dict[str, st.SearchStrategy[str]] = {
    "Int": st.sampled_from(["0", "1", "2", "5", "100", "101", "null"]),
    "Boolean": st.sampled_from(["true", "false"]),
    "DateTime": st.sampled_from(['"2020-01-01T00:00:00Z"', '"2026-11-01T00:00:00+02:00"', '"x"']),
    "String": st.sampled_from(['"not-a-cursor"', "null"]),
}


@st.composite
def _arguments(draw: st.DrawFn, field: Any) -> str:
    """Literal arguments for a field's optional ones (some), from their types."""
    parts: list[str] = []
    for name, argument in field.args.items():
        if not draw(st.booleans()):
            continue
        kind = argument.type.of_type if isinstance(argument.type, GraphQLNonNull) else argument.type
        listed = isinstance(kind, GraphQLList)
        named = get_named_type(kind)
        if isinstance(named, GraphQLEnumType):
            values = st.sampled_from(sorted(named.values))
            text = (
                "[" + ", ".join(draw(st.lists(values, max_size=2))) + "]"
                if listed
                else draw(values)
            )
        elif isinstance(named, GraphQLScalarType) and named.name in _LITERALS and not listed:
            text = draw(_LITERALS[named.name])
        else:
            continue
        parts.append(f"{name}: {text}")
    return "(" + ", ".join(parts) + ")" if parts else ""


@st.composite
def _selection(draw: st.DrawFn, type_name: str, depth: int, fragments: dict[str, str]) -> str:
    """A selection on ``type_name``: some of its fields, aliased, wrapped in fragments,
    under @include/@skip, with __typename here and there."""
    object_type = SCHEMA.get_type(type_name)
    assert isinstance(object_type, GraphQLObjectType)
    names = sorted(object_type.fields)
    picked = draw(st.lists(st.sampled_from(names), min_size=1, max_size=5, unique=True))
    parts: list[str] = []
    for name in picked:
        field = object_type.fields[name]
        named = get_named_type(field.type)
        if isinstance(named, GraphQLInputObjectType) or (
            isinstance(named, GraphQLObjectType) and depth == 0
        ):
            continue
        how = draw(st.integers(0, 9))
        alias = f"{name}_{len(parts)}: " if draw(st.integers(0, 3)) == 0 else ""
        directive = {2: " @include(if: $flag)", 3: " @skip(if: $flag)"}.get(how, "")
        text = alias + name + draw(_arguments(field)) + directive
        if isinstance(named, GraphQLObjectType):
            text += " { " + draw(_selection(named.name, depth - 1, fragments)) + " }"
        if how == 0:
            text = f"... on {type_name} {{ {text} }}"
        elif how == 1:
            fragment = f"F{len(fragments)}"
            fragments[fragment] = f"fragment {fragment} on {type_name} {{ {text} }}"
            text = "..." + fragment
        parts.append(text)
    if not parts or draw(st.integers(0, 4)) == 0:
        parts.append("__typename")
    return " ".join(parts)


@st.composite
def _requests(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A query of one or two root fields and its variables."""
    fragments: dict[str, str] = {}
    roots = draw(st.lists(st.sampled_from(_ROOTS), min_size=1, max_size=2))
    variables: dict[str, Any] = {
        "flag": draw(st.booleans()),
        "first": draw(st.sampled_from([0, 3, None])),
    }
    variables["query"] = draw(st.sampled_from(["sofia", "example.com", ORDERS[1]]))
    fields = []
    for index, (opener, type_name, values) in enumerate(roots):
        for name, values_strategy in values.items():
            variables[name] = draw(values_strategy)
        selection = draw(_selection(type_name, 2, fragments))
        fields.append(f"r{index}: {opener} {{ {selection} }}")
    if draw(st.booleans()):
        fields.append("__typename")
    text = " ".join([*fields, *fragments.values()])
    types = _ROOT_VARIABLES | {"flag": "Boolean!"}
    used = {name for name in types if "$" + name in text}
    declared = [f"${name}: {types[name]}" for name in sorted(used)]
    variables = {k: v for k, v in variables.items() if k in used}
    signature = "(" + ", ".join(declared) + ")" if declared else ""
    query = "query Corpus" + signature + " { " + " ".join(fields) + " }"
    return "\n".join([query, *fragments.values()]), variables


def test_a_generated_corpus_answers_the_same_byte_for_byte(
    both: tuple[FlaskClient, FlaskClient, Path],
) -> None:
    # given any selection over the schema, with its variables
    fast = _executions("fast")
    errors: list[bytes] = []

    @settings(
        max_examples=80,
        deadline=None,
        derandomize=True,  # the same corpus on every run: a failure is reproducible
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(request=_requests())
    def compare(request: tuple[str, dict[str, Any]]) -> None:
        # when it is sent down both paths; then (_compare) the same bytes
        body, _status = _compare(both, *request)
        if b'"errors"' in body:
            errors.append(body)

    compare()
    # and most answers came from the fast path; some were errors, worded alike
    assert _executions("fast") - fast > 40
    assert errors
