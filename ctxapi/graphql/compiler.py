"""Selection set → one parameterized Cypher query per top-level field.

The compiler walks what the client selected (fragments, aliases, @skip/@include resolved by
graphql-core) and assembles a map projection from the fixed fragments each field declares
(``ctxapi.graphql.fields``): a scalar is a property read, a list is a ``COLLECT { … }``
subquery that orders and limits per parent, a count is ``COUNT { … }``. Only selected lists
are fetched. Every value — ids, ``first``, cursors, filters — travels as a parameter named by
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
from enum import Enum
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    validate,
)
from graphql.execution.collect_fields import collect_fields, collect_sub_fields
from graphql.execution.values import get_argument_values, get_variable_values

from ctxapi.access.keys import INTERNAL, Access
from ctxapi.config import Settings
from ctxapi.graphql.context import Context
from ctxapi.graphql.cost import Budget, QueryTooComplex
from ctxapi.graphql.errors import ClientError
from ctxapi.graphql.fields import Entry, Many, Value, registry
from ctxapi.graphql.shaping import Page, Shape, decode_cursor, page_of, shape
from ctxapi.model import COUNTED_ORDER_STATUSES

MAX_FIRST = 100

#: Order statuses that count as purchases in stats (``$__counted``).
COUNTED_STATUSES = [status.value for status in COUNTED_ORDER_STATUSES]


# -- compiling ---------------------------------------------------------------------------------
class _Compiler:
    """Compiles the fields under one root field; holds its parameters and variable names."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        settings: Settings,
        access: Access,
        budget: Budget | None = None,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variable_values = variables
        self.settings = settings
        self.access = access
        self.fields = registry(schema).fields
        self.budget = budget or Budget(settings.limits)
        brands = None if access.brands is None else list(access.brands)
        self.params: dict[str, Any] = {
            "__counted": COUNTED_STATUSES,
            "__brands": brands,
            "__pii": access.unmasked,
        }
        self.variables = 0
        self.values = 0
        #: The personal fields selected ("Identity.value" …), and how many times.
        self.pii: set[str] = set()
        self.pii_reads = 0

    def need(self, name: str) -> None:
        """Add a parameter a fragment reads from the request context (clock, thresholds)."""
        if name in self.params:
            return
        if name == "__now":
            self.params[name] = self.settings.now()
        elif name == "__t":
            self.params[name] = self.settings.insights.parameter
        elif name == "__points":
            self.params[name] = self.settings.insights.sentiment_points
        else:
            raise ValueError(f"no context parameter {name!r}")

    def param(self, value: Any) -> str:
        """A new parameter holding ``value``; returns its ``$name``."""
        name = "p" + str(self.values)
        self.values += 1
        self.params[name] = plain(value)
        return "$" + name

    def var(self) -> str:
        self.variables += 1
        return "n" + str(self.variables)

    def subfields(self, type_name: str, nodes: list[FieldNode]) -> dict[str, list[FieldNode]]:
        """The selected fields of ``type_name`` under ``nodes``, by response key."""
        object_type = self.schema.get_type(type_name)
        assert isinstance(object_type, GraphQLObjectType)
        return collect_sub_fields(
            self.schema, self.fragments, self.variable_values, object_type, nodes
        )

    def arguments(self, parent: str, name: str, node: FieldNode) -> dict[str, Any]:
        parent_type = self.schema.get_type(parent)
        assert isinstance(parent_type, GraphQLObjectType)
        definition = parent_type.fields[name]
        try:
            arguments = get_argument_values(definition, node, self.variable_values)
        except GraphQLError as error:  # e.g. null from a variable for a non-null argument
            raise ClientError(error.message) from None
        if "first" in arguments and arguments["first"] is None:  # null asks for the default
            arguments["first"] = definition.args["first"].default_value
        return arguments

    def projection(self, type_name: str, var: str, nodes: list[FieldNode]) -> tuple[str, Shape]:
        """``{k0: …, k1: …}`` for the fields selected on ``var`` of ``type_name``."""
        specs = self.fields[type_name]
        parts: list[str] = []
        how = Shape()
        pii_reads = self.pii_reads
        selected = self.subfields(type_name, nodes)
        self.budget.select(len(selected))
        for response_key, field_nodes in selected.items():
            name = field_nodes[0].name.value
            if name == "__typename":
                how.entries.append(("", response_key, "typename", type_name))
                continue
            spec = specs[name]
            key = "k" + str(len(parts))
            if isinstance(spec, Value):
                parts.append(key + ": " + spec.expr.replace("{v}", var))
                kind = "money" if spec.money else "value"
                if spec.pii is not None:
                    self.pii.add(type_name + "." + name)
                    self.pii_reads += 1
                    kind = "value" if self.access.unmasked else "masked"
                how.entries.append((key, response_key, kind, spec.pii))
            else:
                arguments = self.arguments(type_name, name, field_nodes[0])
                text, kind, sub = self.many(spec, var, field_nodes, arguments)
                parts.append(key + ": " + text)
                how.entries.append((key, response_key, kind, sub))
        if type_name == "Customer" and self.pii_reads > pii_reads:
            # Whose personal data this is, for the audit log (never a response key).
            key = "k" + str(len(parts))
            parts.append(key + ": " + var + ".id")
            how.entries.append((key, "", "customer", None))
        return "{" + ", ".join(parts) + "}", how

    def many(
        self, spec: Many, var: str, nodes: list[FieldNode], arguments: dict[str, Any]
    ) -> tuple[str, str, Any]:
        """A ``COLLECT { … }`` for a list, an object or a connection page."""
        child = self.var()
        for name in spec.needs:
            self.need(name)

        def fill(text: str) -> str:
            return text.replace("{v}", var).replace("{c}", child)

        conditions = [
            condition.replace("{c}", child).replace("{p}", self.param(arguments[argument]))
            for argument, condition in spec.filters.items()
            if arguments.get(argument) is not None
        ]
        time, ident = (fill(part) for part in spec.order) if spec.order else ("", "")
        direction = "" if spec.ascending else " DESC"
        order = " ORDER BY " + time + direction + ", " + ident + direction if spec.order else ""
        if spec.connection:
            first = arguments.get("first")
            if first is None or not 0 <= first <= MAX_FIRST:
                raise ClientError("`first` must be between 0 and " + str(MAX_FIRST))
            total_conditions = list(conditions)
            if arguments.get("after"):
                at, after_id = decode_cursor(arguments["after"])
                t, i = self.param(at), self.param(after_id)
                conditions.append(
                    "(" + time + " < datetime(" + t + ") OR (" + time + " = datetime(" + t + ")"
                    " AND " + ident + " < " + i + "))"
                )
            page = self.page_fields(spec.target, nodes)
            with self.budget.rows_of(first):
                projection, node_shape = self.projection(spec.target, child, page.node_nodes)
            rows = (
                "COLLECT { " + fill(spec.match) + _where(conditions) + " WITH *" + order
                + " LIMIT " + self.param(first + 1)
                + " RETURN {n: " + projection + ", c: [toString(" + time + "), " + ident + "]} }"
            )  # fmt: skip
            total = "null"
            if page.wants_total:
                total = (
                    "COUNT { " + fill(spec.match) + _where(total_conditions)
                    + " RETURN " + child + " }"
                )  # fmt: skip
            page.first, page.node_shape = first, node_shape
            return "{rows: " + rows + ", total: " + total + "}", "connection", page
        if spec.one:
            projection, how = self.projection(spec.target, child, nodes)
        else:
            with self.budget.rows_of(None):
                projection, how = self.projection(spec.target, child, nodes)
        limit = " LIMIT 1" if spec.one else ""
        text = (
            "COLLECT { " + fill(spec.match) + _where(conditions) + " WITH *" + order + limit
            + " RETURN " + projection + " }"
        )  # fmt: skip
        return (text + "[0]", "one", how) if spec.one else (text, "list", how)

    def page_fields(self, target: str, nodes: list[FieldNode]) -> Page:
        """What the client selected on a connection: edges, cursor, node, pageInfo, totalCount."""
        page = Page(target=target)
        for response_key, field_nodes in self.subfields(target + "Connection", nodes).items():
            name = field_nodes[0].name.value
            page.fields.append((response_key, name))
            if name == "pageInfo":
                page.page_info = [
                    (key, sub[0].name.value)
                    for key, sub in self.subfields("PageInfo", field_nodes).items()
                ]
            elif name == "edges":
                for key, sub in self.subfields(target + "Edge", field_nodes).items():
                    page.edge_fields.append((key, sub[0].name.value))
                    if sub[0].name.value == "node":
                        page.node_nodes.extend(sub)
            elif name == "totalCount":
                page.wants_total = True
        return page


def _where(conditions: list[str]) -> str:
    return " WITH * WHERE " + " AND ".join(conditions) if conditions else ""


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
            raise ClientError(self.entry.ambiguous(self.params, len(shaped)))
        return shaped[0] if shaped else None


def compile_entry(
    compiler: _Compiler, name: str, nodes: list[FieldNode], response_key: str
) -> CompiledQuery:
    """The query of the root field ``name`` selected by ``nodes``."""
    entry = registry(compiler.schema).entries[name]
    arguments = compiler.arguments("Query", name, nodes[0])
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
        for key, name, nodes, compiler in _roots(
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
    roots = _roots(schema, document, operation, coerced, settings, access)
    for key, name, nodes, compiler in roots:
        try:
            compiled[key] = compile_entry(compiler, name, nodes, key)
        except QueryTooComplex:
            raise
        except ClientError as error:
            compiled[key] = error
    return compiled


def _roots(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    settings: Settings,
    access: Access,
) -> Iterator[tuple[str, str, list[FieldNode], _Compiler]]:
    """(response key, field name, nodes, compiler) of each compiled root field; the compilers
    share one budget."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    query_type = schema.query_type
    assert query_type is not None
    entries = registry(schema).entries
    budget = Budget(settings.limits)
    selected = collect_fields(schema, fragments, variables, query_type, operation.selection_set)
    for response_key, nodes in selected.items():
        name = nodes[0].name.value
        if name in entries:
            compiler = _Compiler(schema, fragments, variables, settings, access, budget)
            yield response_key, name, nodes, compiler


def resolve_entry(_root: Any, info: GraphQLResolveInfo, **_arguments: Any) -> Any:
    """The resolver of every root field: compile it, run it in one round trip, shape it."""
    context: Context = info.context
    key = str(info.path.key)
    query = context.compiled.get(key)
    if isinstance(query, ClientError):
        raise query
    if query is None:  # not compiled up front (execution without the view)
        compiler = _Compiler(
            info.schema, info.fragments, info.variable_values, context.settings, context.access
        )
        query = compile_entry(compiler, info.field_name, list(info.field_nodes), key)
    # query.text is built from literals only (see CompiledQuery.text).
    rows = context.db.read(query.text, query.params)
    if not (query.pii and context.access.unmasked):
        return query.result(rows)
    customers: set[str] = set()
    result = query.result(rows, customers)
    context.reads.record(query.pii, customers)
    return result


def plain(value: Any) -> Any:
    """A parameter value as Neo4j takes it: enum members as their stored value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
