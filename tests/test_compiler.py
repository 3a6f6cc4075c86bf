"""The compiler as a pure function: committed queries compile to the Cypher on record, argument
values never reach the query text, and every field's spec fits its GraphQL type."""

from __future__ import annotations

import os
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import graphene
import pytest
from graphql import parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctxapi.config import PROJECT_ROOT, Settings
from ctxapi.graphql.compiler import CompiledQuery, compile, resolve_entry
from ctxapi.graphql.errors import ClientError
from ctxapi.graphql.fields import Entry, SpecError, entry, many, registry, value
from ctxapi.graphql.scalars import connection
from ctxapi.graphql.schema import schema
from ctxapi.graphql.shaping import encode_cursor
from ctxapi.model import CaseStatus, Channel, FeedbackKind, OrderStatus, ProactiveReason

QUERIES = PROJECT_ROOT / "schema" / "queries"
SNAPSHOTS = Path(__file__).parent / "snapshots"
FIXED = Settings(neo4j_uri="bolt://127.0.0.1:1", clock="2026-11-23T12:00:00+00:00")

#: Each committed query with the variables it is snapshotted with.
COMMITTED: dict[str, tuple[str, dict[str, Any]]] = {
    "customer_context": ("customer_context.graphql", {"email": "sofia.marquez@example.com"}),
    "customer_context_insights": (
        "customer_context.graphql",
        {"email": "sofia.marquez@example.com", "withInsights": True},
    ),
    "proactive_queue": ("proactive_queue.graphql", {"after": None}),
    "proactive_customers": ("proactive_customers.graphql", {"after": None}),
    "search_customers": ("search_customers.graphql", {"query": "sofia marq"}),
    "card": ("card.graphql", {"id": "C-1001"}),
}


def compiled(document: str, variables: dict[str, Any] | None = None) -> list[CompiledQuery]:
    return compile(schema.graphql_schema, parse(document), variables, settings=FIXED)


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_committed_queries_compile_to_the_cypher_on_record(name: str) -> None:
    # given a committed query and its snapshot (CTXAPI_UPDATE_SNAPSHOTS=1 rewrites them)
    file, variables = COMMITTED[name]
    snapshot = SNAPSHOTS / (name + ".cypher")
    # when it is compiled
    [query] = compiled((QUERIES / file).read_text(), variables)
    text = query.text + "\n// parameters: " + ", ".join(sorted(query.params)) + "\n"
    if os.environ.get("CTXAPI_UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(text)
    # then the text is exactly the one on record
    assert text == snapshot.read_text()


def test_compile_leaves_out_fields_that_are_not_compiled_and_names_response_keys() -> None:
    # given a document with an uncompiled field and two aliased entries
    document = '{ apiVersion a: customer(id: "1") { id } b: order(number: "2") { id } }'
    # when it is compiled
    queries = compiled(document)
    # then there is one query per compiled root field, under its response key
    assert [(q.response_key, q.field_name) for q in queries] == [
        ("a", "customer"),
        ("b", "order"),
    ]
    assert queries[0].params["key"] == "1"


def test_compile_validates_and_picks_one_query_operation() -> None:
    # given documents that do not validate, that hold two operations, or a mutation
    two = 'query A { customer(id: 1) { id } } query B { order(number: "1") { id } }'
    # when / then
    with pytest.raises(ClientError, match="Cannot query field 'shoeSize'"):
        compiled('{ customer(id: "1") { shoeSize } }')
    with pytest.raises(ClientError, match=r"2 operations \['A', 'B'\]: name the one to run"):
        compiled(two)
    with pytest.raises(ClientError, match="no operation named 'C'"):
        compile(schema.graphql_schema, parse(two), None, "C", settings=FIXED)
    [query] = compile(schema.graphql_schema, parse(two), None, "B", settings=FIXED)
    assert query.field_name == "order"


def test_compile_reports_a_client_mistake_as_a_client_error() -> None:
    # given variables that do not coerce, and an argument out of range
    document = "query($id: ID!) { customer(id: $id) { id } }"
    # when / then
    with pytest.raises(ClientError, match="id"):
        compiled(document, {})
    with pytest.raises(ClientError, match="between 0 and 100"):
        compiled('{ customer(id: "1") { orders(first: 101) { totalCount } } }')


_CONTEXT = """
query($id: ID!, $first: Int!, $after: String, $status: OrderStatus!, $channels: [Channel!]!,
      $since: DateTime!, $cases: [CaseStatus!]!, $kinds: [FeedbackKind!]!) {
  customer(id: $id) {
    name
    orders(first: $first, after: $after, status: $status) { edges { node { number } } }
    interactions(first: $first, channels: $channels, since: $since) { totalCount }
    cases(status: $cases) { id }
    feedback(first: $first, kinds: $kinds) { edges { cursor } }
  }
}
"""
_QUEUE = """
query($first: Int!, $after: String, $reasons: [ProactiveReason!]!) {
  proactiveQueue(first: $first, after: $after, reasons: $reasons) { edges { node { reason } } }
}
"""
_BASE_CONTEXT = {
    "id": "C-1",
    "first": 5,
    "after": encode_cursor(["2026-01-01T00:00:00Z", "O-1"]),
    "status": "PAID",
    "channels": ["CHAT"],
    "since": "2026-01-01T00:00:00Z",
    "cases": ["OPEN"],
    "kinds": ["NPS"],
}


def _names(kind: Any) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from([member.name for member in kind]), max_size=4)


#: Instants with any offset a DateTime takes (whole minutes within ±18:00).
_moments = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
    st.datetimes(),
    st.integers(-18 * 60, 18 * 60),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    id=st.text(min_size=1, max_size=40),
    first=st.integers(0, 100),
    cursor=st.tuples(_moments, st.text(max_size=20)),
    status=st.sampled_from([member.name for member in OrderStatus]),
    channels=_names(Channel),
    since=_moments,
    cases=_names(CaseStatus),
    kinds=_names(FeedbackKind),
)
def test_argument_values_never_change_the_query_text(
    id: str,
    first: int,
    cursor: tuple[str, str],
    status: str,
    channels: list[str],
    since: str,
    cases: list[str],
    kinds: list[str],
) -> None:
    # given the same selection with any values of its arguments
    variables = {
        "id": id,
        "first": first,
        "after": encode_cursor(list(cursor)),
        "status": status,
        "channels": channels,
        "since": since,
        "cases": cases,
        "kinds": kinds,
    }
    # when both are compiled
    [base] = compiled(_CONTEXT, _BASE_CONTEXT)
    [other] = compiled(_CONTEXT, variables)
    # then the text is the same: values travel only as parameters
    assert other.text == base.text
    assert other.params["key"] == id


@settings(max_examples=30, deadline=None)
@given(
    first=st.integers(0, 100),
    cursor=st.tuples(_moments, st.text(max_size=20)),
    reasons=_names(ProactiveReason),
)
def test_queue_arguments_never_change_the_query_text(
    first: int, cursor: tuple[str, str], reasons: list[str]
) -> None:
    # given the queue with any page size, cursor and reasons
    base_variables = {"first": 20, "after": None, "reasons": ["LATE_SHIPMENT"]}
    variables = {"first": first, "after": encode_cursor(list(cursor)), "reasons": reasons}
    # when / then the text stays the same
    [base] = compiled(_QUEUE, base_variables)
    [other] = compiled(_QUEUE, variables)
    assert other.text == base.text
    assert other.params["reasons"] == [ProactiveReason[name].value for name in reasons]


# -- specs and fields fit -----------------------------------------------------------------------
def _schema(returned: type[graphene.ObjectType]) -> graphene.Schema:
    """A schema whose one entry returns ``returned``."""
    seek = Entry("MATCH (root:Thing {id: $key})", lambda arguments, _: {"key": arguments["id"]})

    class Query(graphene.ObjectType):
        thing = entry(returned, seek, resolve_entry, id=graphene.ID(required=True))

    return graphene.Schema(query=Query)


def test_a_field_without_a_spec_is_named() -> None:
    # given a type with one field declared the graphene way only
    class Thing(graphene.ObjectType):
        id = value(graphene.ID, "{v}.id", required=True)
        name = graphene.String()

    # when / then building its registry names the field
    with pytest.raises(SpecError, match=r"Thing\.name: no Cypher spec"):
        registry(_schema(Thing).graphql_schema)


def test_a_side_binding_nobody_binds_is_named() -> None:
    # given a field that reads the link {v}_l, reached through a list that binds nothing
    class Part(graphene.ObjectType):
        since = value(graphene.String, "{v}_l.since")

    class Thing(graphene.ObjectType):
        parts = many(graphene.List(Part), "MATCH ({v})-[:HAS]->({c}:Part)")

    # when / then the misfit is named with both ends
    with pytest.raises(SpecError, match=r"Part\.since reads \{v\}_l, which Thing\.parts does not"):
        registry(_schema(Thing).graphql_schema)


def test_declared_bindings_unknown_placeholders_and_filters_are_checked() -> None:
    # given a list that declares a binding it never makes, a typo'd placeholder, a filter on
    # an argument it does not have, and a list fragment on a scalar field
    class Part(graphene.ObjectType):
        id = value(graphene.ID, "{x}.id")
        name = value(graphene.String, "{V}.name")

    class Thing(graphene.ObjectType):
        parts = many(
            graphene.List(Part),
            "MATCH ({v})-[:HAS]->({c}:Part)",
            binds=("l",),
            filters={"kind": "{c}.kind = {p}"},
        )
        label = many(graphene.String, "WITH {v} AS {c}")

    # when
    with pytest.raises(SpecError) as error:
        registry(_schema(Thing).graphql_schema)
    # then every problem is listed
    message = str(error.value)
    assert "binds 'l' but its match never makes {c}_l" in message
    assert "filter on 'kind', which is not an argument" in message
    assert "Part.id: unknown placeholder {x}" in message
    assert "Part.name: unknown placeholder {V}" in message
    assert "Thing.label: a scalar field needs value(), not many()" in message


def test_filters_arguments_orders_and_needs_are_checked() -> None:
    # given fragments that would compile to Cypher that is broken or ignores the client
    class Part(graphene.ObjectType):
        id = value(graphene.ID, "{v}.id")
        late = value(graphene.Boolean, "{v}.due < datetime($__now)")

    PartConnection = connection(Part, "part")  # noqa: N806 - a type

    class Thing(graphene.ObjectType):
        parts = many(
            PartConnection,
            "MATCH ({v})-[:HAS]->({c}:Part) WHERE {c}.size > {p}",
            filters={"kind": "{v}.kind = {p}", "size": "{c}.size = $size"},
            needs=("__clock",),
            first=graphene.Int(default_value=5),
            after=graphene.String(),
            kind=graphene.String(),
            size=graphene.Int(),
            colour=graphene.String(),
        )

    # when
    with pytest.raises(SpecError) as error:
        registry(_schema(Thing).graphql_schema)
    # then
    message = str(error.value)
    assert "Thing.parts: {p} cannot stand in this text" in message
    assert "Thing.parts(kind): {v} cannot stand in a filter" in message
    assert "Thing.parts(size): a filter uses its value {p} exactly once" in message
    assert "argument 'colour' has no filter, so it would be ignored" in message
    assert "a connection needs an order" in message
    assert "needs '__clock', which the compiler does not provide" in message
    assert "Part.late: reads $__now without needs=('__now',)" in message


def test_the_served_schema_compiles_seven_entries_and_the_payloads_over_163_fields() -> None:
    # given the API's schema (its registry was checked when it was built)
    specs = registry(schema.graphql_schema)
    # then
    assert set(specs.entries) == {
        "customer",
        "customerBy",
        "customersBy",
        "order",
        "searchCustomers",
        "proactiveQueue",
        "proactiveCustomers",
    }
    # (the types under judged fields are plain: the rules fill them, see ctxapi.rules)
    assert sum(len(fields) for fields in specs.fields.values()) == 163
    # and the payload fields that read back what a mutation wrote
    assert specs.written["RecordInteractionPayload"].keys() == {"interaction", "customer"}
    assert specs.written["UpdateCasePayload"].keys() == {"case", "customer"}
