"""Completion as graphql-core's ``complete_value`` does it, for shaped dicts (the fast path).

A plan is built once per selection (``completion``): a ``_Leaf`` serializes a scalar or an enum
with its type's own serializer, a ``_List`` completes each item, an ``_Object`` reads each
selected field as ``read_shaped`` reads it. Wherever graphql-core would report an error (a
null where the schema promises a value, a value a serializer refuses) completing raises
``GiveUp``: the fast path leaves the request to graphql-core, which words it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
)
from graphql.execution.collect_fields import collect_sub_fields

from ctxapi.graphql.schema import read_shaped

_MIN_INT, _MAX_INT = -(2**31), 2**31 - 1


class GiveUp(Exception):
    """The fast path gives up: graphql-core answers the request (and words any error)."""


# -- completion: what graphql-core's complete_value does, for shaped dicts -----------------------
class _Leaf:
    """A scalar or an enum: serialized by its type, as graphql-core's complete_leaf_value."""

    __slots__ = ("memo", "non_null", "same", "serialize")

    def __init__(self, named: GraphQLScalarType | GraphQLEnumType, non_null: bool) -> None:
        self.non_null = non_null
        self.serialize: Callable[[Any], Any] = named.serialize
        #: A Python type whose values the serializer returns unchanged (String, ID: str; …).
        self.same: type | None = {"String": str, "ID": str, "Boolean": bool}.get(named.name)
        #: An enum's answers by stored value (a closed set: serialized once each).
        self.memo: dict[Any, Any] | None = {} if isinstance(named, GraphQLEnumType) else None
        if named.name == "Int":
            self.serialize = _int(named.serialize)

    def complete(self, value: Any) -> Any:
        if value is None:
            if self.non_null:
                raise GiveUp
            return None
        if type(value) is self.same:
            return value
        memo = self.memo
        if memo is not None and type(value) is str and value in memo:
            return memo[value]
        try:
            serialized = self.serialize(value)
        except Exception:
            raise GiveUp from None
        if serialized is None:  # graphql-core refuses a serializer's None
            raise GiveUp
        if memo is not None and type(value) is str:
            memo[value] = serialized
        return serialized


def _int(serialize: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def fast(value: Any) -> Any:
        if type(value) is int and _MIN_INT <= value <= _MAX_INT:
            return value
        return serialize(value)

    return fast


class _List:
    """A list: each item completed; a value that is no list is graphql-core's error."""

    __slots__ = ("item", "non_null")

    def __init__(self, item: Any, non_null: bool) -> None:
        self.non_null = non_null
        self.item = item

    def complete(self, value: Any) -> Any:
        if value is None:
            if self.non_null:
                raise GiveUp
            return None
        if not isinstance(value, list | tuple):
            raise GiveUp
        complete = self.item.complete
        return [complete(item) for item in value]


class _Object:
    """An object: its selected fields, each read as ``read_shaped`` reads it (the response key,
    else the field's name, else the field's default)."""

    __slots__ = ("fields", "non_null", "type_name")

    def __init__(
        self, type_name: str, fields: list[tuple[str, str, Any, Any]], non_null: bool
    ) -> None:
        self.non_null = non_null
        self.type_name = type_name
        #: (response key, field name, default, plan); plan None for ``__typename``.
        self.fields = fields

    def complete(self, value: Any) -> Any:
        if value is None:
            if self.non_null:
                raise GiveUp
            return None
        if type(value) is not dict:
            raise GiveUp  # read_shaped would read attributes: graphql-core does that
        out: dict[str, Any] = {}
        for key, name, default, plan in self.fields:
            if plan is None:
                out[key] = self.type_name
            elif key in value:
                out[key] = plan.complete(value[key])
            else:
                out[key] = plan.complete(value.get(name, default))
        return out


class NotCompiled(Exception):
    """A selected field the fast path does not answer (its own resolver, an abstract type)."""


def completion(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    type_: GraphQLOutputType,
    nodes: list[FieldNode],
) -> Any:
    """The completion plan of a field of type ``type_`` selected by ``nodes``."""
    non_null = isinstance(type_, GraphQLNonNull)
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        return _List(completion(schema, fragments, variables, type_.of_type, nodes), non_null)
    if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
        return _Leaf(type_, non_null)
    if not isinstance(type_, GraphQLObjectType) or type_.is_type_of is not None:
        raise NotCompiled
    fields: list[tuple[str, str, Any, Any]] = []
    selected = collect_sub_fields(schema, fragments, variables, type_, nodes)
    for key, sub_nodes in selected.items():
        name = sub_nodes[0].name.value
        if name == "__typename":
            fields.append((key, name, None, None))
            continue
        definition = type_.fields[name]
        resolve = definition.resolve
        if not (isinstance(resolve, partial) and resolve.func is read_shaped):
            raise NotCompiled
        default = resolve.args[1]
        plan = completion(schema, fragments, variables, definition.type, sub_nodes)
        fields.append((key, name, default, plan))
    return _Object(type_.name, fields, non_null)
