"""The compiled fast path: a query made only of compiled fields, answered without graphql-core.

graphql-core's execution walks the shaped result once more, value by value (a resolver call,
an info object and a completion each), though for a compiled root field shaping already built
the answer (``ctxapi.graphql.compiler``). The fast path answers such a query itself:

- A **plan** is cached per (query text, operation, the key's masking and brands, the values of
  the variables that change the Cypher text): each root field's compiled query (text, fixed
  parameters, shapes) and the completion plan (every selected field's GraphQL type, in the
  order graphql-core collects them). Variables used only in a root field's arguments (but
  ``first``) change parameters, never the text: a plan serves every customer looked up.
- **Per request**: the variables coerced as execution coerces them, the root fields'
  parameters made again from their arguments (and the clock), each query run and shaped as its
  resolver would, and the result completed against the plan with the same scalar and enum
  serializers, then sent as JSON by the view.
- It **gives up** (None) whenever the answer would not be a clean one (a field not compiled,
  a variable that does not coerce, a client's mistake, a null where the schema promises a
  value, a value a serializer refuses, an error from Neo4j): graphql-core then answers and
  words the error. tests/test_fast_path.py compares both paths' bodies byte for byte.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from threading import Lock
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_operation_ast,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.values import get_variable_values
from graphql.language import Node

from ctxapi.access.keys import Access
from ctxapi.config import Settings
from ctxapi.db import DatabaseUnavailable, InvalidBookmarks
from ctxapi.graphql.compiler import Answered, CompiledQuery, compile_entry, root_compilers
from ctxapi.graphql.completion import GiveUp, NotCompiled, completion
from ctxapi.graphql.cost import fragments_of
from ctxapi.graphql.errors import ClientError
from ctxapi.graphql.selection import field_arguments, plain

_MIN_INT, _MAX_INT = -(2**31), 2**31 - 1


# -- the plan ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Root:
    """One root field of a plan: its compiled query (None for ``__typename``), how to make its
    parameters again, and how to complete its value."""

    key: str
    query: CompiledQuery | None
    node: FieldNode | None
    fixed: Mapping[str, Any]
    completion: Any


@dataclass(frozen=True)
class Plan:
    """A query's root fields, compiled and planned once for every request that shares them."""

    roots: tuple[_Root, ...]


class FastPath:
    """The plans of recent queries (LRU) and the answer of one request through them."""

    def __init__(self, schema: GraphQLSchema, size: int = 512) -> None:
        self.schema = schema
        self.size = size
        self._plans: OrderedDict[Any, Plan | None] = OrderedDict()
        self._keyed: dict[tuple[str, str | None], tuple[str, ...]] = {}
        self._lock = Lock()

    def queries(
        self,
        query: str,
        document: DocumentNode,
        variables: Mapping[str, Any],
        operation_name: str | None,
        settings: Settings,
        access: Access,
    ) -> tuple[Plan, list[CompiledQuery | None]] | None:
        """The plan of a validated request and its root queries with this request's
        parameters; None when the fast path does not answer it. QueryTooComplex is raised, as
        by ``precompile``, before anything reaches Neo4j."""
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation != OperationType.QUERY:
            return None
        coerced = get_variable_values(
            self.schema, operation.variable_definitions, dict(variables or {})
        )
        if isinstance(coerced, list):
            return None
        keyed = self._keyed_variables(query, document, operation)
        try:
            signature = (
                query,
                operation_name,
                access.unmasked,
                access.brands,
                tuple((name in coerced, _frozen(coerced.get(name))) for name in keyed),
            )
        except TypeError:
            return None
        with self._lock:
            found = signature in self._plans
            plan = self._plans.get(signature)
            if found:
                self._plans.move_to_end(signature)
        if not found:
            try:
                plan = self._plan(document, operation, coerced, settings, access)
            except ClientError:  # may hang on a value: not kept, graphql-core words it
                return None
            with self._lock:
                self._plans[signature] = plan
                if len(self._plans) > self.size:
                    self._plans.popitem(last=False)
        if plan is None:
            return None
        try:
            return plan, [self._query(root, coerced, settings) for root in plan.roots]
        except ClientError:
            return None

    def _query(
        self, root: _Root, variables: dict[str, Any], settings: Settings
    ) -> CompiledQuery | None:
        """``root``'s query with the parameters of this request's arguments."""
        if root.query is None or root.node is None:
            return None
        name = root.node.name.value
        arguments = field_arguments(self.schema, "Query", name, root.node, variables)
        made = root.query.entry.params(arguments, settings)
        made = {key: plain(value) for key, value in made.items()}
        params = dict(root.fixed)
        if "__now" in params:
            params["__now"] = settings.now()
        params.update(made)
        return replace(root.query, params=params)

    def _plan(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any],
        settings: Settings,
        access: Access,
    ) -> Plan | None:
        """Compile and plan every root field; None if one is not compiled. A client's
        mistake is raised (ClientError)."""
        fragments = fragments_of(document)
        query_type = self.schema.query_type
        assert query_type is not None
        compilers = {
            key: compiler
            for key, _name, _nodes, compiler in root_compilers(
                self.schema, document, operation, variables, settings, access
            )
        }
        roots: list[_Root] = []
        selected = collect_fields(
            self.schema, fragments, variables, query_type, operation.selection_set
        )
        for key, nodes in selected.items():
            name = nodes[0].name.value
            if name == "__typename":
                roots.append(_Root(key, None, None, {}, query_type.name))
                continue
            if key not in compilers:
                return None
            compiler = compilers[key]
            try:
                compiled = compile_entry(compiler, name, nodes, key)
                completes = completion(
                    self.schema, fragments, variables, query_type.fields[name].type, nodes
                )
                arguments = field_arguments(self.schema, "Query", name, nodes[0], variables)
                made = compiled.entry.params(arguments, settings)
            except NotCompiled:
                return None
            fixed = {k: v for k, v in compiled.params.items() if k not in made}
            roots.append(_Root(key, compiled, nodes[0], fixed, completes))
        return Plan(tuple(roots))

    def _keyed_variables(
        self, query: str, document: DocumentNode, operation: OperationDefinitionNode
    ) -> tuple[str, ...]:
        """The variables whose values may change the Cypher text or the plan: every one but
        those used only in root fields' arguments other than ``first``."""
        memo = (query, operation.name.value if operation.name else None)
        known = self._keyed.get(memo)
        if known is not None:
            return known
        fragments = fragments_of(document)
        values: set[str] = set()
        others: set[str] = set()
        _uses(operation.selection_set, fragments, True, values, others, set())
        declared = [d.variable.name.value for d in operation.variable_definitions or ()]
        keyed = tuple(name for name in declared if name in others or name not in values)
        with self._lock:
            if len(self._keyed) > self.size:
                self._keyed.clear()
            self._keyed[memo] = keyed
        return keyed


def run(
    plan: Plan,
    queries: list[CompiledQuery | None],
    read: Callable[[str, dict[str, Any]], list[Any]],
    unmasked: bool,
    record: Callable[[frozenset[str], set[str]], None],
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The response's ``data`` (each root query run through ``read`` and completed; the
    personal data read unmasked passed to ``record``), and what each root field came to:
    ``Answered`` or the error it raised. ``data`` is None when graphql-core must answer; it
    then takes the root fields' answers as they are instead of reading them again."""
    data: dict[str, Any] = {}
    done: dict[str, Any] = {}
    for root, query in zip(plan.roots, queries, strict=True):
        if query is None:  # __typename
            data[root.key] = root.completion
            continue
        try:
            rows = read(query.text, query.params)
            if query.pii and unmasked:
                customers: set[str] = set()
                value = query.result(rows, customers)
                record(query.pii, customers)
            else:
                value = query.result(rows)
        except (ClientError, DatabaseUnavailable, InvalidBookmarks) as error:
            done[root.key] = error
            return None, done
        done[root.key] = Answered(value)
        try:
            data[root.key] = root.completion.complete(value)
        except GiveUp:
            return None, done
    return data, done


def _uses(
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    root: bool,
    values: set[str],
    others: set[str],
    seen: set[tuple[str, bool]],
) -> None:
    """Sort the variables used under ``selections``: into ``values`` those in root fields'
    arguments (but ``first``), into ``others`` every other use."""
    for selection in selections.selections:
        for directive in selection.directives or ():
            _variables(directive, others)
        if isinstance(selection, FieldNode):
            for argument in selection.arguments or ():
                target = values if root and argument.name.value != "first" else others
                _variables(argument.value, target)
            if selection.selection_set is not None:
                _uses(selection.selection_set, fragments, False, values, others, seen)
        elif isinstance(selection, InlineFragmentNode):
            _uses(selection.selection_set, fragments, root, values, others, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if (name, root) not in seen and name in fragments:
                seen.add((name, root))
                _uses(fragments[name].selection_set, fragments, root, values, others, seen)


def _variables(node: Node, into: set[str]) -> None:
    """The names of the variables used anywhere in ``node``."""
    if isinstance(node, VariableNode):
        into.add(node.name.value)
        return
    for key in node.keys:
        child = getattr(node, key, None)
        if isinstance(child, Node):
            _variables(child, into)
        elif isinstance(child, tuple | list):
            for item in child:
                if isinstance(item, Node):
                    _variables(item, into)


def _frozen(value: Any) -> Any:
    """A variable's coerced value as a hashable key (lists and objects by their content)."""
    if isinstance(value, list | tuple):
        return ("[", *(_frozen(item) for item in value))
    if isinstance(value, dict):
        return ("{", *sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return (type(value).__name__, value)
