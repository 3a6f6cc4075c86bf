"""Each GraphQL field declared once: its graphene field and the Cypher fragment that reads it.

A domain module declares a compiled field with ``value`` (a scalar read from the node ``{v}``)
or ``many`` (rows ``{c}`` reached from ``{v}``: a list, one object, or a connection page —
which one follows from the field's GraphQL type). Both return an ordinary graphene ``Field``
that carries its spec, so the SDL and the Cypher can never drift apart. ``registry`` reads
the specs back from the built schema and proves, once per schema:

- every field of every type the compiler can reach has a spec, and every spec's type fits
  (a money read is typed ``Money``, a list fragment an object, list or connection);
- every side binding a fragment reads (``{v}_l``, ``{v}_cur``, ``{v}_type``) is declared in
  ``binds`` by every fragment that reaches that type, and appears in its text;
- a fragment uses no placeholder but ``{v}``, ``{c}``, ``{p}`` and declared side bindings,
  and every ``filters`` key is an argument of its field.

Side bindings are named after what they hold: ``l`` the relationship that reached the node
(an identity's link, an order line), ``cur`` the parent order's currency, ``type`` the label
of a reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, LiteralString

import graphene
from graphene.utils.str_converters import to_camel_case
from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)

from ctxapi.access.masking import Pii
from ctxapi.config import Settings
from ctxapi.thresholds import Thresholds


@dataclass(frozen=True)
class Value:
    """A scalar read from the node ``{v}``; ``money`` (set from the type) reads a pair
    ``[minor units, currency]``."""

    expr: LiteralString
    money: bool = False
    #: What personal data it holds: shaped through ctxapi.access.masking for a key without
    #: pii:read, and named in the audit log for one with it.
    pii: Pii | None = None


@dataclass(frozen=True)
class Many:
    """Rows ``{c}`` of ``target`` reached from ``{v}``, newest first by ``order``.

    ``filters`` maps a GraphQL argument to a condition on ``{c}`` using ``{p}`` for its value.
    ``ascending`` lists oldest (or lowest) first, for addresses, lines and parcels. ``binds``
    names the side bindings (``{c}_l`` …) the fragment makes for its target's fields; ``needs``
    the parameters it reads from the request context (``$__now``, ``$__t`` …). ``target``,
    ``one`` (keep the first row) and ``connection`` (paged with ``first``/``after``) are
    filled in from the field's GraphQL type.
    """

    match: LiteralString
    order: tuple[LiteralString, LiteralString] | None = None
    filters: Mapping[str, LiteralString] = field(default_factory=dict)
    ascending: bool = False
    needs: tuple[str, ...] = ()
    binds: tuple[str, ...] = ()
    target: str = ""
    one: bool = False
    connection: bool = False


@dataclass(frozen=True)
class Entry:
    """A root field: ``seek`` binds ``root`` (one row per result, in order) from the parameters
    ``params(arguments, settings)`` returns. A connection's seek gives each row ``root.key``
    and ``root.id`` as its cursor. ``ambiguous`` words the error when a field typed as one
    object finds several (it gets the parameters and the ids of the roots found)."""

    seek: LiteralString
    params: Callable[[dict[str, Any], Settings], dict[str, Any]]
    ambiguous: Callable[[dict[str, Any], list[str]], str] | None = None
    needs: tuple[str, ...] = ()
    target: str = ""
    kind: str = ""  # "one", "list" or "connection", from the GraphQL type


@dataclass(frozen=True)
class Judged:
    """A value the rules in Python derive from facts the graph returns (judgement in Python,
    facts in Cypher). ``facts`` binds ``{c}`` to one map reached from ``{v}`` (a fixed
    fragment, like a ``Many`` match); ``judge(facts, thresholds)`` returns a dict keyed by
    GraphQL field names, and the field reads its ``part``. Every judged field with the same
    ``facts`` on one object shares one read and one judgement. The types under a judged field
    are plain graphene types: their values come from the dict, not from Cypher."""

    facts: LiteralString
    judge: Callable[[Any, Thresholds], Mapping[str, Any]]
    part: str
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Written(Entry):
    """A field of a mutation's payload that reads back what the mutation wrote, compiled like a
    root field: ``seek`` binds ``root`` from the parameters ``params(ids, settings)`` makes of
    the ids the mutation put under the field's name in the payload (None: the field is null).
    The read follows the write (read-your-writes), through the key's brands as any read."""


Spec = Value | Many | Judged

_SPEC = "_ctxapi_spec"


def _field(type_: Any, spec: Spec | Entry, **kwargs: Any) -> graphene.Field:
    declared = graphene.Field(type_, **kwargs)
    setattr(declared, _SPEC, spec)
    return declared


def value(
    type_: Any, expr: LiteralString, *, pii: Pii | None = None, **kwargs: Any
) -> graphene.Field:
    """A field read by the Cypher expression ``expr`` on ``{v}`` (graphene Field arguments
    such as ``required`` and ``description`` pass through); ``pii`` says what personal data
    it holds."""
    return _field(type_, Value(expr, pii=pii), **kwargs)


def many(
    type_: Any,
    match: LiteralString,
    *,
    order: tuple[LiteralString, LiteralString] | None = None,
    filters: Mapping[str, LiteralString] | None = None,
    ascending: bool = False,
    needs: tuple[str, ...] = (),
    binds: tuple[str, ...] = (),
    **kwargs: Any,
) -> graphene.Field:
    """A field whose rows ``match`` reaches from ``{v}`` (see ``Many``)."""
    spec = Many(match, order, filters or {}, ascending, needs, binds)
    return _field(type_, spec, **kwargs)


def judged(
    type_: Any,
    facts: LiteralString,
    judge: Callable[[Any, Thresholds], Mapping[str, Any]],
    part: str,
    *,
    needs: tuple[str, ...] = (),
    **kwargs: Any,
) -> graphene.Field:
    """A field the rules ``judge`` derive from the ``facts`` the graph returns (see ``Judged``)."""
    return _field(type_, Judged(facts, judge, part, needs), **kwargs)


def entry(type_: Any, spec: Entry, resolver: Callable[..., Any], **kwargs: Any) -> graphene.Field:
    """A root field compiled from ``spec`` and answered by ``resolver``."""
    return _field(type_, spec, resolver=resolver, **kwargs)


def written(
    type_: Any, spec: Written, resolver: Callable[..., Any], **kwargs: Any
) -> graphene.Field:
    """A payload field that reads back what its mutation wrote (see ``Written``)."""
    return _field(type_, spec, resolver=resolver, **kwargs)


# -- the registry -----------------------------------------------------------------------------
class SpecError(Exception):
    """A field and its Cypher spec do not fit together (found when the schema is built)."""


@dataclass
class Registry:
    """Every compiled field's spec by GraphQL type and field name, and the root entries."""

    fields: dict[str, dict[str, Spec]]
    entries: dict[str, Entry]
    #: Payload fields declared with ``written()``, by payload type and field name.
    written: dict[str, dict[str, Written]] = field(default_factory=dict)


_PLACEHOLDER = re.compile(r"\{(\w+)\}(_[a-z]+)?")
_CONTEXT_READ = re.compile(r"\$(__\w+)")
#: What the compiler fills from the request's settings for fragments that declare ``needs``:
#: the clock and the thresholds map.
CONTEXT_PARAMETERS = ("__now", "__t")
#: What every query gets: the order statuses that count as purchases, the brands of the
#: request's key (null: every brand), which every fragment that reaches a customer checks,
#: and whether the key may read personal data unmasked.
ALWAYS_PROVIDED = ("__counted", "__brands", "__pii")


def connection_node(type_: GraphQLObjectType) -> GraphQLObjectType | None:
    """The node type of a ``…Connection`` type (edges { node } and pageInfo), else None."""
    if "edges" not in type_.fields or "pageInfo" not in type_.fields:
        return None
    edge = get_named_type(type_.fields["edges"].type)
    assert isinstance(edge, GraphQLObjectType)
    node = get_named_type(edge.fields["node"].type)
    return node if isinstance(node, GraphQLObjectType) else None


def _declared(type_: GraphQLObjectType) -> dict[str, Spec | Entry]:
    graphene_type = getattr(type_, "graphene_type", None)
    if graphene_type is None:
        return {}
    found: dict[str, Spec | Entry] = {}
    for attname, declared in graphene_type._meta.fields.items():
        spec = getattr(declared, _SPEC, None)
        if spec is not None:
            found[declared.name or to_camel_case(attname)] = spec
    return found


def _shape_of(gql: GraphQLField) -> tuple[str, GraphQLObjectType | None]:
    """("one" | "list" | "connection" | "scalar", object type) of a field's type."""
    inner = gql.type.of_type if isinstance(gql.type, GraphQLNonNull) else gql.type
    named = get_named_type(inner)
    if not isinstance(named, GraphQLObjectType):
        return "scalar", None
    if isinstance(inner, GraphQLList):
        return "list", named
    node = connection_node(named)
    if node is not None:
        return "connection", node
    return "one", named


@cache
def registry(schema: GraphQLSchema) -> Registry:
    """The specs of ``schema``, checked (SpecError names every misfit)."""
    problems: list[str] = []
    entries: dict[str, Entry] = {}
    specs: dict[str, dict[str, Spec]] = {}
    reached: dict[str, list[tuple[str, tuple[str, ...]]]] = {}  # type → (via, binds)
    query = schema.query_type
    assert query is not None
    for name, spec in _declared(query).items():
        if not isinstance(spec, Entry):
            problems.append(f"Query.{name}: a root field is declared with entry()")
            continue
        kind, target = _shape_of(query.fields[name])
        if target is None:
            problems.append(f"Query.{name}: an entry returns objects")
            continue
        entries[name] = replace(spec, target=target.name, kind=kind)
        problems.extend(_check_needs(f"Query.{name}", [spec.seek], spec.needs))
        reached.setdefault(target.name, []).append((f"Query.{name}", ()))
    written: dict[str, dict[str, Written]] = {}
    for payload in schema.type_map.values():
        if not isinstance(payload, GraphQLObjectType) or payload is query:
            continue
        for name, spec in _declared(payload).items():
            if not isinstance(spec, Written):
                continue
            where = f"{payload.name}.{name}"
            kind, target = _shape_of(payload.fields[name])
            if target is None or kind != "one":
                problems.append(f"{where}: written() reads back one object")
                continue
            written.setdefault(payload.name, {})[name] = replace(
                spec, target=target.name, kind=kind
            )
            problems.extend(_check_needs(where, [spec.seek], spec.needs))
            reached.setdefault(target.name, []).append((where, ()))
    pending = list(reached)
    while pending:
        type_name = pending.pop()
        if type_name in specs:
            continue
        object_type = schema.get_type(type_name)
        assert isinstance(object_type, GraphQLObjectType)
        declared = _declared(object_type)
        specs[type_name] = {}
        for name, gql in object_type.fields.items():
            where = f"{type_name}.{name}"
            found = declared.get(name)
            kind, target = _shape_of(gql)
            if found is None:
                problems.append(f"{where}: no Cypher spec (declare it with value() or many())")
            elif isinstance(found, Entry):
                problems.append(f"{where}: entry() is for root fields, written() for payloads")
            elif isinstance(found, Judged):
                specs[type_name][name] = found
                problems.extend(_check_placeholders(where, found.facts, {"v", "c"}))
                problems.extend(_check_needs(where, [found.facts], found.needs))
            elif isinstance(found, Value):
                money = target is not None and target.name == "Money"
                if target is not None and not money:
                    problems.append(f"{where}: an object field needs many(), not value()")
                specs[type_name][name] = replace(found, money=money)
            elif target is None:
                problems.append(f"{where}: a scalar field needs value(), not many()")
            else:
                resolved = replace(
                    found, target=target.name, one=kind == "one", connection=kind == "connection"
                )
                specs[type_name][name] = resolved
                problems.extend(_check_many(where, resolved, gql))
                reached.setdefault(target.name, []).append((where, found.binds))
                pending.append(target.name)
        for name in set(declared) - set(object_type.fields):
            problems.append(f"{type_name}.{name}: a spec without a field")
    for type_name, type_specs in specs.items():
        problems.extend(_check_bindings(type_name, type_specs, reached[type_name]))
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLObjectType) and type_.name not in specs and type_ is not query:
            stray = sorted(n for n, s in _declared(type_).items() if not isinstance(s, Written))
            if stray:
                problems.append(f"{type_.name}: specs on a type no entry reaches: {stray}")
    if problems:
        raise SpecError("fields and Cypher specs do not fit:\n  " + "\n  ".join(problems))
    return Registry(specs, entries, written)


def _placeholders(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), (m.group(2) or "")[1:]) for m in _PLACEHOLDER.finditer(text)]


def _check_placeholders(where: str, text: str, allowed: set[str]) -> list[str]:
    """Placeholders in ``text`` outside ``allowed`` (``{v}`` in a filter, ``{p}`` in a match,
    a typo such as ``{V}`` or ``{c1}``)."""
    return [
        f"{where}: {{{name}}} cannot stand in {'a filter' if 'p' in allowed else 'this text'}"
        if name in ("v", "c", "p")
        else f"{where}: unknown placeholder {{{name}}}"
        for name, _side in _placeholders(text)
        if name not in allowed
    ]


def _check_needs(where: str, texts: list[str], needs: tuple[str, ...]) -> list[str]:
    """Every ``$__x`` a text reads is declared in ``needs`` (``ALWAYS_PROVIDED`` are), and
    every need is one the compiler can fill."""
    problems = [
        f"{where}: needs {need!r}, which the compiler does not provide ({CONTEXT_PARAMETERS})"
        for need in needs
        if need not in CONTEXT_PARAMETERS
    ]
    for text in texts:
        for name in _CONTEXT_READ.findall(text):
            if name not in ALWAYS_PROVIDED and name not in needs:
                problems.append(f"{where}: reads ${name} without needs=({name!r},)")
    return problems


def _check_many(where: str, spec: Many, gql: GraphQLField) -> list[str]:
    problems = _check_placeholders(where, spec.match, {"v", "c"})
    for text in spec.order or ():
        problems += _check_placeholders(where, text, {"v", "c"})
    for argument, condition in spec.filters.items():
        problems += _check_placeholders(f"{where}({argument})", condition, {"c", "p"})
        if sum(name == "p" for name, _ in _placeholders(condition)) != 1:
            problems.append(f"{where}({argument}): a filter uses its value {{p}} exactly once")
    texts = [spec.match, *(spec.order or ()), *spec.filters.values()]
    problems += _check_needs(where, texts, spec.needs)
    made = {side for name, side in _placeholders(spec.match) if name == "c" and side}
    for name, side in (p for text in texts for p in _placeholders(text)):
        if side and name == "c" and side not in spec.binds:
            problems.append(f"{where}: uses {{c}}_{side} without binds=({side!r},)")
    for side in spec.binds:
        if side not in made:
            problems.append(f"{where}: binds {side!r} but its match never makes {{c}}_{side}")
    for argument in spec.filters:
        if argument not in gql.args:
            problems.append(f"{where}: filter on {argument!r}, which is not an argument")
    paging = {"first", "after"} if spec.connection else set()
    for argument in set(gql.args) - set(spec.filters) - paging:
        problems.append(f"{where}: argument {argument!r} has no filter, so it would be ignored")
    if spec.connection and not {"first", "after"} <= set(gql.args):
        problems.append(f"{where}: a connection takes `first` and `after`")
    if spec.connection and spec.order is None:
        problems.append(f"{where}: a connection needs an order (its cursor is that order)")
    return problems


def _check_bindings(
    type_name: str, specs: dict[str, Spec], via: list[tuple[str, tuple[str, ...]]]
) -> list[str]:
    """Every ``{v}_x`` a field of ``type_name`` reads is bound by every way to reach it."""
    problems = []
    for name, spec in specs.items():
        where = f"{type_name}.{name}"
        if isinstance(spec, Judged):
            texts = [spec.facts]
        elif isinstance(spec, Value):
            texts = [spec.expr]
            problems += _check_placeholders(where, spec.expr, {"v"})
            problems += _check_needs(where, texts, ())
        else:
            texts = [spec.match, *(spec.order or ())]
        for placeholder, side in (p for text in texts for p in _placeholders(text)):
            if placeholder != "v" or not side:
                continue
            for reached_by, binds in via:
                if side not in binds:
                    problems.append(f"{where} reads {{v}}_{side}, which {reached_by} does not bind")
    return problems
