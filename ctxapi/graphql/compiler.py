"""Selection set → one parameterized Cypher query per top-level field.

The compiler walks what the client selected (fragments, aliases, @skip/@include resolved by
graphql-core) and assembles a map projection from the fixed fragments each field declares
(``ctxapi.graphql.fields``): a scalar is a property read, a list is a ``COLLECT { … }``
subquery that orders and limits per parent, a count is ``COUNT { … }``, a judged field the
facts its rules in Python read (the walk itself: ``ctxapi.graphql.selection``). Only selected
lists are fetched. Every value — ids, ``first``, cursors, filters — travels as a parameter named by
position (``$p0``, ``$p1`` …), and every key in the returned map is generated (``k0``,
``k1`` …), so the same selection always yields the same text (Neo4j's plan cache hits) and
nothing from the request becomes Cypher. ``shape`` turns the returned map into dicts keyed by
the client's response keys, which the resolvers then read as they are.

``compile`` is the pure entry point (a document in, the queries out: used by ``ctxapi
explain`` and the benchmark); ``resolve_entry`` is the resolver of every root field, and
compiles its field the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    validate,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.values import get_variable_values

from ctxapi.access.guard import Forbidden
from ctxapi.access.keys import INTERNAL, Access, Scope
from ctxapi.config import Settings
from ctxapi.graphql.context import Context
from ctxapi.graphql.cost import Budget, QueryTooComplex, fragments_of
from ctxapi.graphql.errors import ClientError
from ctxapi.graphql.fields import Entry, registry
from ctxapi.graphql.selection import MAX_FIRST, Compiler, plain
from ctxapi.graphql.shaping import Page, Shape, page_of, shape


# -- entry points ------------------------------------------------------------------------------
@dataclass
class CompiledQuery:
    """One root field compiled: its Cypher text and parameters, and how to shape the rows."""

    response_key: str
    field_name: str
    #: Assembled only from the fragments fields declare (LiteralStrings), generated names
    #: (``k0``, ``n1``, ``$p0``) and the entry's seek; never from a value. mypy does not check
    #: LiteralString (PEP 675), so tests prove it: the hypothesis tests in test_compiler.py.
    text: str
    params: dict[str, Any]
    entry: Entry
    shape: Shape
    page: Page | None = None
    #: The personal fields it reads ("Identity.value" …), masked or not.
    pii: frozenset[str] = frozenset()

    def result(self, rows: list[Any], customers: set[str] | None = None) -> Any:
        """The field's value from the rows its query returned; the ids of the customers whose
        personal fields it holds are added to ``customers``."""
        results = [row["result"] for row in rows]
        if self.page is not None:
            return page_of({"rows": results, "total": None}, self.page, customers)
        shaped = [shape(result, self.shape, customers) for result in results]
        if self.entry.kind == "list":
            return shaped
        if len(shaped) > 1 and self.entry.ambiguous is not None:
            raise ClientError(self.entry.ambiguous(self.params, [row["id"] for row in rows]))
        return shaped[0] if shaped else None


@dataclass(frozen=True)
class Answered:
    """A root field the fast path has read and shaped already (ctxapi.graphql.fast): when it
    leaves the request to graphql-core, the resolver returns this value instead of reading
    it again."""

    value: Any


def compile_entry(
    compiler: Compiler, name: str, nodes: list[FieldNode], response_key: str
) -> CompiledQuery:
    """The query of the root field ``name`` selected by ``nodes``."""
    entry = registry(compiler.schema).entries[name]
    arguments = compiler.arguments("Query", name, nodes[0])
    return _compiled(compiler, entry, arguments, name, nodes, response_key)


def _compiled(
    compiler: Compiler,
    entry: Entry,
    arguments: dict[str, Any],
    name: str,
    nodes: list[FieldNode],
    response_key: str,
) -> CompiledQuery:
    """The query of ``entry`` for ``arguments`` with the selection of ``nodes``."""
    params = {
        key: plain(value) for key, value in entry.params(arguments, compiler.settings).items()
    }
    for need in entry.needs:
        compiler.need(need)
    if entry.kind in ("list", "one"):
        rows = compiler.budget.rows_of(arguments.get("first")) if entry.kind == "list" else None
        with rows or nullcontext():
            projection, how = compiler.projection(entry.target, "root", nodes)
        text = entry.seek + " RETURN " + projection + " AS result"
        if entry.ambiguous is not None:  # the ids an ambiguous answer names
            text += ", root.id AS id"
        params = compiler.params | params
        return CompiledQuery(
            response_key, name, text, params, entry, how, None, frozenset(compiler.pii)
        )
    first = arguments.get("first")
    if first is None or not 0 <= first <= MAX_FIRST:
        raise ClientError("`first` must be between 0 and " + str(MAX_FIRST))
    page = compiler.page_fields(entry.target, nodes)
    with compiler.budget.rows_of(first):
        projection, node_shape = compiler.projection(entry.target, "root", page.node_nodes)
    page.first, page.node_shape = first, node_shape
    text = (
        entry.seek + " RETURN {n: " + projection + ", c: [toString(root.key), root.id]} AS result"
    )
    params = compiler.params | params
    return CompiledQuery(
        response_key, name, text, params, entry, Shape(), page, frozenset(compiler.pii)
    )


def compile(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
    *,
    settings: Settings,
    access: Access = INTERNAL,
) -> list[CompiledQuery]:
    """The Cypher queries a request would run, one per compiled root field, without running
    anything. The document is validated and its variables coerced as GraphQL execution would;
    a client's mistake is a ClientError. Root fields that are not compiled (``apiVersion``)
    are left out."""
    errors = validate(schema, document)
    if errors:
        raise ClientError("; ".join(error.message for error in errors))
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        names = [
            d.name.value if d.name else "(anonymous)"
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
        ]
        if operation_name is not None:
            raise ClientError(f"no operation named {operation_name!r}; the document has {names}")
        raise ClientError(f"the document has {len(names)} operations {names}: name the one to run")
    if operation.operation != OperationType.QUERY:
        raise ClientError(f"only queries are compiled, not a {operation.operation.value}")
    coerced = get_variable_values(schema, operation.variable_definitions, dict(variables or {}))
    if isinstance(coerced, list):
        raise ClientError("; ".join(error.message for error in coerced))
    return [
        compile_entry(compiler, name, nodes, key)
        for key, name, nodes, compiler in root_compilers(
            schema, document, operation, coerced, settings, access
        )
    ]


def precompile(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    settings: Settings,
    access: Access,
) -> dict[str, CompiledQuery | ClientError]:
    """Every root field of a validated request compiled before any runs, by response key: the
    cost budget covers the whole request, and QueryTooComplex is raised before anything
    reaches Neo4j. Another client mistake stays with its field (the resolver raises it, and
    the other fields still answer). Empty when execution will refuse the request anyway."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation != OperationType.QUERY:
        return {}
    coerced = get_variable_values(schema, operation.variable_definitions, dict(variables or {}))
    if isinstance(coerced, list):
        return {}
    compiled: dict[str, CompiledQuery | ClientError] = {}
    roots = root_compilers(schema, document, operation, coerced, settings, access)
    for key, name, nodes, compiler in roots:
        try:
            compiled[key] = compile_entry(compiler, name, nodes, key)
        except QueryTooComplex:
            raise
        except ClientError as error:
            compiled[key] = error
    return compiled


def root_compilers(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    settings: Settings,
    access: Access,
) -> Iterator[tuple[str, str, list[FieldNode], Compiler]]:
    """(response key, field name, nodes, compiler) of each compiled root field; the compilers
    share one budget."""
    fragments = fragments_of(document)
    query_type = schema.query_type
    assert query_type is not None
    entries = registry(schema).entries
    budget = Budget(settings.limits)
    selected = collect_fields(schema, fragments, variables, query_type, operation.selection_set)
    for response_key, nodes in selected.items():
        name = nodes[0].name.value
        if name in entries:
            compiler = Compiler(schema, fragments, variables, settings, access, budget)
            yield response_key, name, nodes, compiler


def resolve_written(root: Any, info: GraphQLResolveInfo) -> Any:
    """The resolver of a payload's ``written()`` field: read back, in one round trip, what the
    mutation wrote (its ids are in the payload under the field's name; None: null)."""
    context: Context = info.context
    ids = root.get(info.field_name) if isinstance(root, dict) else None
    if ids is None:
        return None
    if not context.access.allows(Scope.CONTEXT_READ):
        raise Forbidden(Scope.CONTEXT_READ, context.access.name)
    parent = info.parent_type.name
    entry = registry(info.schema).written[parent][info.field_name]
    compiler = Compiler(
        info.schema, info.fragments, info.variable_values, context.settings, context.access
    )
    nodes = list(info.field_nodes)
    query = _compiled(compiler, entry, ids, info.field_name, nodes, str(info.path.key))
    return _answer(context, query)


def resolve_entry(_root: Any, info: GraphQLResolveInfo, **_arguments: Any) -> Any:
    """The resolver of every root field: compile it, run it in one round trip, shape it."""
    context: Context = info.context
    key = str(info.path.key)
    query = context.compiled.get(key)
    if isinstance(query, Exception):  # a client's mistake, or the fast path's read's error
        raise query
    if isinstance(query, Answered):
        return query.value
    if query is None:  # not compiled up front (execution without the view)
        compiler = Compiler(
            info.schema, info.fragments, info.variable_values, context.settings, context.access
        )
        query = compile_entry(compiler, info.field_name, list(info.field_nodes), key)
    return _answer(context, query)


def _answer(context: Context, query: CompiledQuery) -> Any:
    """Run ``query`` and shape its rows; note the personal data read unmasked."""
    # query.text is built from literals only (see CompiledQuery.text).
    rows = context.db.read(query.text, query.params)
    if not (query.pii and context.access.unmasked):
        return query.result(rows)
    customers: set[str] = set()
    result = query.result(rows, customers)
    context.reads.record(query.pii, customers)
    return result
