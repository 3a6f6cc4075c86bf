"""``ctxapi explain``: the Cypher a GraphQL document compiles to, and what Neo4j does with it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import GraphQLError, parse

from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.graphql.compiler import CompiledQuery, compile
from ctxapi.graphql.errors import ClientError
from ctxapi.graphql.fields import registry
from ctxapi.graphql.schema import schema


@dataclass
class Operator:
    """One operator of a PROFILE plan, with what it cost."""

    name: str
    depth: int
    rows: int
    db_hits: int


@dataclass
class Profile:
    """The totals of a PROFILE run and its operators in plan order."""

    rows: int
    db_hits: int
    operators: list[Operator] = field(default_factory=list)

    @classmethod
    def from_plan(cls, plan: Mapping[str, Any], rows: int) -> Profile:
        """Sum a driver's profiled plan (``ResultSummary.profile``) over all operators."""
        operators: list[Operator] = []

        def walk(node: Mapping[str, Any], depth: int) -> None:
            args = node.get("args", {})
            hits = node.get("dbHits", args.get("DbHits", 0))
            operators.append(
                Operator(
                    name=str(node.get("operatorType", "?")).split("@")[0],
                    depth=depth,
                    rows=int(node.get("rows", args.get("Rows", 0))),
                    db_hits=int(hits),
                )
            )
            for child in node.get("children", []):
                walk(child, depth + 1)

        walk(plan, 0)
        return cls(rows=rows, db_hits=sum(op.db_hits for op in operators), operators=operators)


def compile_text(
    document: str,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    settings: Settings,
) -> list[CompiledQuery]:
    """Parse, validate and compile ``document``; a mistake in it is a ClientError."""
    try:
        parsed = parse(document)
    except GraphQLError as error:
        raise ClientError(f"the document does not parse: {error.message}") from None
    return compile(schema.graphql_schema, parsed, variables, operation_name, settings=settings)


def profile(db: Database, query: CompiledQuery, timeout: float) -> Profile:
    """Run ``query`` once with PROFILE (for at most ``timeout`` s) and sum what it cost."""
    records, plan = db.profile(query.text, query.params, timeout=timeout)
    return Profile.from_plan(plan, len(records))


def parameters_json(query: CompiledQuery) -> str:
    """The query's parameters as indented JSON (thresholds and all)."""
    return orjson.dumps(query.params, option=orjson.OPT_INDENT_2, default=str).decode()


def report(
    document: str,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    settings: Settings,
    *,
    with_profile: bool = False,
    timeout: float = 120.0,
) -> Iterator[str]:
    """The lines ``ctxapi explain`` prints: per compiled root field its Cypher, parameters
    and, ``with_profile``, the plan's operators with rows and db hits, and the totals (a
    PROFILE run may take ``timeout`` s: it may plan the query cold)."""
    queries = compile_text(document, variables, operation_name, settings)
    if not queries:
        entries = ", ".join(registry(schema.graphql_schema).entries)
        yield f"// nothing to compile: the operation selects none of {entries}"
    db = Database(settings) if with_profile else None
    try:
        for query in queries:
            yield f"// {query.response_key}: {query.field_name} ({len(query.text):,} characters)"
            yield query.text
            yield "// parameters:"
            yield parameters_json(query)
            if db is not None:
                found = profile(db, query, timeout)
                yield f"// PROFILE: {found.rows} row(s), {found.db_hits:,} db hits"
                for op in found.operators:
                    yield f"//   {'  ' * op.depth}{op.name}: rows {op.rows}, db hits {op.db_hits}"
    finally:
        if db is not None:
            db.close()
