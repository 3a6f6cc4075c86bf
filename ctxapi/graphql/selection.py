"""A root field's selection → Cypher: the walk over the specs each field declares.

``Compiler`` holds one root field's parameters and generated names while it assembles the
map projection: a scalar is a property read, a list a ``COLLECT { … }`` that orders and limits
per parent, a count ``COUNT { … }``, a judged field the one facts map its rules read. The
entry points (``compile``, ``precompile``, ``resolve_entry``) are in ``ctxapi.graphql.compiler``.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    get_named_type,
)
from graphql.execution.collect_fields import collect_sub_fields
from graphql.execution.values import get_argument_values

from ctxapi.access.keys import Access
from ctxapi.config import Settings
from ctxapi.graphql.cost import Budget
from ctxapi.graphql.errors import ClientError
from ctxapi.graphql.fields import Judged, Many, Value, registry
from ctxapi.graphql.shaping import Judgement, Page, Picked, Shape, decode_cursor
from ctxapi.model import COUNTED_ORDER_STATUSES

MAX_FIRST = 100

#: Order statuses that count as purchases in stats (``$__counted``).
COUNTED_STATUSES = [status.value for status in COUNTED_ORDER_STATUSES]


# -- compiling ---------------------------------------------------------------------------------
class Compiler:
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
        return field_arguments(self.schema, parent, name, node, self.variable_values)

    def projection(self, type_name: str, var: str, nodes: list[FieldNode]) -> tuple[str, Shape]:
        """``{k0: …, k1: …}`` for the fields selected on ``var`` of ``type_name``."""
        specs = self.fields[type_name]
        parts: list[str] = []
        how = Shape()
        pii_reads = self.pii_reads
        facts: dict[str, str] = {}  # a judged fragment's text → the key of its facts
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
            elif isinstance(spec, Judged):
                if spec.facts not in facts:
                    facts[spec.facts] = key
                    parts.append(key + ": " + self.facts(spec, var))
                target = self.schema.get_type(type_name)
                assert isinstance(target, GraphQLObjectType)
                picked = self.picked(target.fields[name].type, field_nodes)
                judgement = Judgement(spec.judge, spec.part, self.settings.insights, picked)
                how.entries.append((facts[spec.facts], response_key, "judged", judgement))
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

    def facts(self, spec: Judged, var: str) -> str:
        """``COLLECT { … }[0]``: the one facts map a judged fragment binds. Its lists are
        bounded by caps; the budget counts the read as a list of ``contacts_cap`` rows (a
        page of 100 customers with insights is over the default ``max_rows``)."""
        self.budget.spend_rows(self.settings.insights.contacts_cap)
        child = self.var()
        for name in spec.needs:
            self.need(name)
        text = spec.facts.replace("{v}", var).replace("{c}", child)
        return "COLLECT { " + text + " RETURN " + child + " }[0]"

    def picked(self, type_: GraphQLOutputType, nodes: list[FieldNode]) -> Picked | None:
        """What the client selected under a judged field (None for a scalar or an enum)."""
        named = get_named_type(type_)
        if not isinstance(named, GraphQLObjectType):
            return None
        picked = Picked(named.name)
        selected = self.subfields(named.name, nodes)
        self.budget.select(len(selected))
        for response_key, field_nodes in selected.items():
            name = field_nodes[0].name.value
            if name == "__typename":
                picked.fields.append((response_key, name, None))
            else:
                sub = self.picked(named.fields[name].type, field_nodes)
                picked.fields.append((response_key, name, sub))
        return picked

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


def field_arguments(
    schema: GraphQLSchema,
    parent: str,
    name: str,
    node: FieldNode,
    variables: dict[str, Any],
) -> dict[str, Any]:
    """The arguments of the field ``parent.name`` selected by ``node``, coerced; a mistake is
    a ClientError, and ``first: null`` asks for the default."""
    parent_type = schema.get_type(parent)
    assert isinstance(parent_type, GraphQLObjectType)
    definition = parent_type.fields[name]
    try:
        arguments = get_argument_values(definition, node, variables)
    except GraphQLError as error:  # e.g. null from a variable for a non-null argument
        raise ClientError(error.message) from None
    if "first" in arguments and arguments["first"] is None:  # null asks for the default
        arguments["first"] = definition.args["first"].default_value
    return arguments


def _where(conditions: list[str]) -> str:
    return " WITH * WHERE " + " AND ".join(conditions) if conditions else ""


def plain(value: Any) -> Any:
    """A parameter value as Neo4j takes it: enum members as their stored value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
