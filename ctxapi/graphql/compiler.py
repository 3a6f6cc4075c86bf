"""Selection set → one parameterized Cypher query per top-level field.

The compiler walks what the client selected (fragments, aliases, @skip/@include resolved by
graphql-core) and assembles a map projection from the fixed fragments in ``FIELDS``: a scalar
is a property read, a list is a ``COLLECT { … }`` subquery that orders and limits per parent,
a count is ``COUNT { … }``. Only selected lists are fetched. Every value — ids, ``first``,
cursors, filters — travels as a parameter named by position (``$p0``, ``$p1`` …), and every
key in the returned map is generated (``k0``, ``k1`` …), so the same selection always yields
the same text (Neo4j's plan cache hits) and nothing from the request becomes Cypher.
``shape`` turns the returned map into dicts keyed by the client's response keys, which the
resolvers then read as they are.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import FieldNode, GraphQLObjectType, GraphQLResolveInfo
from graphql.execution.collect_fields import collect_sub_fields
from graphql.execution.values import get_argument_values

from ctxapi.graphql.errors import ClientError
from ctxapi.graphql.signals import INSIGHT_FIELDS, INSIGHTS
from ctxapi.graphql.specs import Many, Spec, Value
from ctxapi.seeding.records import ORDER_STATUSES, format_minor_units

MAX_FIRST = 100


_SINCE = "{c}.{time} >= datetime({p})"

# The fixed, reviewed fragments every query is assembled from. Labels, relationship types and
# property names live only here.
FIELDS: dict[str, dict[str, Spec]] = {
    "Customer": {
        "id": Value("{v}.id"),
        "name": Value("{v}.name"),
        "tier": Value("{v}.tier"),
        "locale": Value("{v}.locale"),
        "createdAt": Value("toString({v}.createdAt)"),
        "brand": Many("MATCH ({v})-[:OF_BRAND]->({c}:Brand)", "Brand", one=True),
        "identities": Many(
            "MATCH ({c}:Identity)-[{c}_l:IDENTIFIES]->({v})",
            "Identity",
            order=("{c}_l.confidence", "{c}.value"),
        ),
        "addresses": Many(
            "MATCH ({v})-[{c}_l:LIVES_AT]->({c}:Address)",
            "Address",
            order=("{c}.id", "{c}.id"),
            ascending=True,
        ),
        "orders": Many(
            "MATCH ({v})-[:PLACED]->({c}:Order)",
            "Order",
            order=("{c}.placedAt", "{c}.id"),
            filters={"status": "{c}.status = {p}"},
            connection=True,
        ),
        "interactions": Many(
            "MATCH ({v})-[:HAD]->({c}:Interaction)",
            "Interaction",
            order=("{c}.occurredAt", "{c}.id"),
            filters={"channels": "{c}.channel IN {p}", "since": "{c}.occurredAt >= datetime({p})"},
            connection=True,
        ),
        "cases": Many(
            "MATCH ({v})-[:OPENED]->({c}:Case)",
            "Case",
            order=("{c}.openedAt", "{c}.id"),
            filters={"status": "{c}.status IN {p}"},
        ),
        "feedback": Many(
            "MATCH ({v})-[:GAVE]->({c}:Feedback)",
            "Feedback",
            order=("{c}.submittedAt", "{c}.id"),
            filters={"kinds": "{c}.kind IN {p}"},
            connection=True,
        ),
        "timeline": Many(
            "CALL ({v}) {"
            " MATCH ({v})-[:PLACED]->(o:Order)"
            " RETURN 'ORDER' AS kind, o.placedAt AS at, o.id AS id,"
            " 'Order ' + o.number + ' ' + o.status AS summary"
            " UNION MATCH ({v})-[:PLACED]->(:Order)-[:SHIPPED_AS]->(s:Shipment)"
            " WHERE s.deliveredAt IS NOT NULL"
            " RETURN 'DELIVERY' AS kind, s.deliveredAt AS at, s.id AS id,"
            " s.carrier + ' delivered' + CASE s.condition WHEN 'damaged' THEN ' (damaged)'"
            " ELSE '' END AS summary"
            " UNION MATCH ({v})-[:PLACED]->(:Order)<-[:RETURNS]-(r:Return)"
            " RETURN 'RETURN' AS kind, r.requestedAt AS at, r.id AS id,"
            " 'Return ' + r.status + ': ' + r.reason AS summary"
            " UNION MATCH ({v})-[:HAD]->(i:Interaction)"
            " RETURN 'INTERACTION' AS kind, i.occurredAt AS at, i.id AS id,"
            " i.channel + ': ' + i.summary AS summary"
            " UNION MATCH ({v})-[:GAVE]->(f:Feedback)"
            " RETURN 'FEEDBACK' AS kind, f.submittedAt AS at, f.id AS id,"
            " toUpper(f.kind) + ' ' + toString(f.score) AS summary"
            " } WITH kind, at, id, summary, {kind: kind, at: at, id: id, summary: summary} AS {c}",
            "TimelineEvent",
            order=("{c}.at", "{c}.id"),
            filters={"kinds": "{c}.kind IN {p}"},
            connection=True,
        ),
        "stats": Many("WITH {v} AS {c}", "CustomerStats", one=True),
        "insights": INSIGHTS,
    },
    # No aggregate functions here: inside a map projection Neo4j 5.26 takes them for the
    # outer RETURN's, so sums use reduce() over a COLLECT and extremes use ORDER BY … LIMIT 1.
    "CustomerStats": {
        "orderCount": Value("COUNT { ({v})-[:PLACED]->(o:Order) WHERE o.status IN $__counted }"),
        "lifetimeValue": Value(
            "[reduce(total = 0, x IN COLLECT { MATCH ({v})-[:PLACED]->(o:Order)"
            " WHERE o.status IN $__counted RETURN o.totalMinor } | total + x)"
            " - reduce(total = 0, x IN COLLECT { MATCH ({v})-[:PLACED]->(:Order)<-[:RETURNS]-"
            "(r:Return) WHERE r.status = 'refunded' RETURN r.refundMinor } | total + x),"
            " COLLECT { MATCH ({v})-[:PLACED]->(o:Order) RETURN o.currency LIMIT 1 }[0]]",
            money=True,
        ),
        "averageOrderValue": Value(
            "CASE WHEN COUNT { ({v})-[:PLACED]->(o:Order) WHERE o.status IN $__counted } = 0"
            " THEN null ELSE [toInteger(round(toFloat(reduce(total = 0, x IN COLLECT {"
            " MATCH ({v})-[:PLACED]->(o:Order) WHERE o.status IN $__counted RETURN o.totalMinor }"
            " | total + x)) / COUNT { ({v})-[:PLACED]->(o:Order) WHERE o.status IN $__counted })),"
            " COLLECT { MATCH ({v})-[:PLACED]->(o:Order) RETURN o.currency LIMIT 1 }[0]] END",
            money=True,
        ),
        "firstOrderAt": Value(
            "toString(COLLECT { MATCH ({v})-[:PLACED]->(o:Order) WHERE o.status IN $__counted"
            " WITH o ORDER BY o.placedAt LIMIT 1 RETURN o.placedAt }[0])"
        ),
        "lastOrderAt": Value(
            "toString(COLLECT { MATCH ({v})-[:PLACED]->(o:Order) WHERE o.status IN $__counted"
            " WITH o ORDER BY o.placedAt DESC LIMIT 1 RETURN o.placedAt }[0])"
        ),
        "lastContactAt": Value(
            "toString(COLLECT { MATCH ({v})-[:HAD]->(i:Interaction)"
            " WITH i ORDER BY i.occurredAt DESC LIMIT 1 RETURN i.occurredAt }[0])"
        ),
        "openCases": Value(
            "COUNT { ({v})-[:OPENED]->(k:Case) WHERE k.status IN ['open', 'pending'] }"
        ),
    },
    "Brand": {"id": Value("{v}.id"), "name": Value("{v}.name")},
    "Identity": {
        "kind": Value("{v}.kind"),
        "value": Value("{v}.value"),
        "source": Value("{v}_l.source"),
        "confidence": Value("{v}_l.confidence"),
        "linkedAt": Value("toString({v}_l.linkedAt)"),
        "sharedWith": Value("COUNT { ({v})-[:IDENTIFIES]->(:Customer) } - 1"),
    },
    "Address": {
        "id": Value("{v}.id"),
        "kind": Value("{v}.kind"),
        "line1": Value("{v}.line1"),
        "line2": Value("{v}.line2"),
        "city": Value("{v}.city"),
        "postalCode": Value("{v}.postalCode"),
        "region": Value("{v}.region"),
        "country": Value("{v}.country"),
    },
    "Order": {
        "id": Value("{v}.id"),
        "number": Value("{v}.number"),
        "placedAt": Value("toString({v}.placedAt)"),
        "status": Value("{v}.status"),
        "channel": Value("{v}.channel"),
        "total": Value("[{v}.totalMinor, {v}.currency]", money=True),
        "customer": Many("MATCH ({v})<-[:PLACED]-({c}:Customer)", "Customer", one=True),
        "items": Many(
            "MATCH ({v})-[{c}_l:CONTAINS]->({c}:Product) WITH {c}, {c}_l, {v}.currency AS {c}_cur",
            "LineItem",
            order=("{c}_l.line", "{c}.id"),
            ascending=True,
        ),
        "shipments": Many(
            "MATCH ({v})-[:SHIPPED_AS]->({c}:Shipment)",
            "Shipment",
            order=("{c}.shippedAt", "{c}.id"),
            ascending=True,
        ),
        "returns": Many(
            "MATCH ({v})<-[:RETURNS]-({c}:Return)", "Return", order=("{c}.requestedAt", "{c}.id")
        ),
    },
    "LineItem": {
        "line": Value("{v}_l.line"),
        "quantity": Value("{v}_l.quantity"),
        "unitPrice": Value("[{v}_l.unitPriceMinor, {v}_cur]", money=True),
        "product": Many("WITH {v} AS {c}", "Product", one=True),
    },
    "Product": {
        "id": Value("{v}.id"),
        "sku": Value("{v}.id"),
        "name": Value("{v}.name"),
        "category": Value("{v}.category"),
        "price": Value("[{v}.priceMinor, {v}.currency]", money=True),
    },
    "Shipment": {
        "id": Value("{v}.id"),
        "carrier": Value("{v}.carrier"),
        "trackingNumber": Value("{v}.trackingNumber"),
        "status": Value("{v}.status"),
        "shippedAt": Value("toString({v}.shippedAt)"),
        "promisedAt": Value("toString({v}.promisedAt)"),
        "deliveredAt": Value("toString({v}.deliveredAt)"),
        "condition": Value("{v}.condition"),
        "late": Value(
            "CASE WHEN {v}.promisedAt IS NULL THEN false"
            " WHEN {v}.deliveredAt IS NOT NULL THEN {v}.deliveredAt > {v}.promisedAt"
            " ELSE {v}.promisedAt < datetime() END"
        ),
    },
    "Return": {
        "id": Value("{v}.id"),
        "reason": Value("{v}.reason"),
        "status": Value("{v}.status"),
        "requestedAt": Value("toString({v}.requestedAt)"),
        "receivedAt": Value("toString({v}.receivedAt)"),
        "refund": Value("[{v}.refundMinor, {v}.currency]", money=True),
        "refundedAt": Value("toString({v}.refundedAt)"),
    },
    "Interaction": {
        "id": Value("{v}.id"),
        "channel": Value("{v}.channel"),
        "direction": Value("{v}.direction"),
        "occurredAt": Value("toString({v}.occurredAt)"),
        "summary": Value("{v}.summary"),
        "topic": Value("{v}.topic"),
        "status": Value("{v}.status"),
        "sentiment": Value("{v}.sentiment"),
        "selfService": Value("{v}.selfService"),
        "respondedAt": Value("toString({v}.respondedAt)"),
        "durationSeconds": Value("{v}.durationSeconds"),
        "agent": Many("MATCH ({v})-[:HANDLED_BY]->({c}:Agent)", "Agent", one=True),
        "identity": Many(
            "MATCH ({v})-[:VIA]->({c}:Identity) MATCH ({c})-[{c}_l:IDENTIFIES]->(:Customer)"
            "-[:HAD]->({v})",
            "Identity",
            one=True,
        ),
        "case": Many("MATCH ({v})-[:PART_OF]->({c}:Case)", "Case", one=True),
        "about": Many(
            "MATCH ({v})-[:ABOUT]->({c})"
            " WITH {c}, [l IN labels({c}) WHERE l IN ['Order', 'Shipment', 'Return', 'Product']]"
            "[0] AS {c}_type",
            "Reference",
            order=("{c}_type", "{c}.id"),
        ),
    },
    "Reference": {
        "type": Value("toLower({v}_type)"),
        "id": Value("{v}.id"),
        "label": Value(
            "coalesce({v}.number, {v}.trackingNumber, {v}.name, {v}.subject, {v}.reason, {v}.id)"
        ),
    },
    "Agent": {
        "id": Value("{v}.id"),
        "name": Value("{v}.name"),
        "team": Value("{v}.team"),
        "bot": Value("coalesce({v}.bot, false)"),
    },
    "Case": {
        "id": Value("{v}.id"),
        "subject": Value("{v}.subject"),
        "status": Value("{v}.status"),
        "priority": Value("{v}.priority"),
        "openedAt": Value("toString({v}.openedAt)"),
        "resolvedAt": Value("toString({v}.resolvedAt)"),
        "contacts": Many(
            "MATCH ({v})<-[:PART_OF]-({c}:Interaction)",
            "Interaction",
            order=("{c}.occurredAt", "{c}.id"),
        ),
        "channels": Value(
            "COLLECT { MATCH ({v})<-[:PART_OF]-(i:Interaction)"
            " WITH DISTINCT i.channel AS channel ORDER BY channel RETURN channel }"
        ),
    },
    "Feedback": {
        "id": Value("{v}.id"),
        "kind": Value("{v}.kind"),
        "score": Value("{v}.score"),
        "comment": Value("{v}.comment"),
        "submittedAt": Value("toString({v}.submittedAt)"),
        "rates": Many(
            "MATCH ({v})-[:RATES]->({c})"
            " WITH {c}, [l IN labels({c}) WHERE l IN ['Interaction', 'Case', 'Order', 'Product']]"
            "[0] AS {c}_type",
            "Reference",
            one=True,
        ),
    },
    "SearchHit": {
        "score": Value("score"),
        "customer": Many("WITH {v} AS {c}", "Customer", one=True),
    },
    "TimelineEvent": {
        "kind": Value("{v}.kind"),
        "at": Value("toString({v}.at)"),
        "id": Value("{v}.id"),
        "summary": Value("{v}.summary"),
    },
    **INSIGHT_FIELDS,
}

#: Order statuses that count as purchases in stats: all but abandoned carts and cancellations.
COUNTED_STATUSES = [s for s in ORDER_STATUSES if s not in ("abandoned", "cancelled")]


# -- cursors -----------------------------------------------------------------------------------
def encode_cursor(key: list[Any]) -> str:
    """An opaque cursor for a row's sort key (time, id)."""
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """The sort key inside a cursor; a cursor not made by ctxapi is BAD_USER_INPUT."""
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise ClientError(f"{cursor!r} is not a cursor from this API") from None
    if not (isinstance(key, list) and len(key) == 2):
        raise ClientError(f"{cursor!r} is not a cursor from this API")
    return key


# -- compiling ---------------------------------------------------------------------------------
@dataclass
class Shape:
    """How to turn one level of the returned map into the response: key → (response key, kind)."""

    entries: list[tuple[str, str, str, Any]] = field(default_factory=list)


@dataclass
class Compiled:
    """A compiled top-level field: its Cypher text, parameters and the shape of its result."""

    text: str
    params: dict[str, Any]
    shape: Shape


class _Compiler:
    def __init__(self, info: GraphQLResolveInfo) -> None:
        self.info = info
        self.params: dict[str, Any] = {"__counted": COUNTED_STATUSES}
        self.variables = 0
        self.values = 0

    def need(self, name: str) -> None:
        """Add a parameter a fragment reads from the request context (clock, thresholds)."""
        if name in self.params:
            return
        settings = self.info.context["settings"]
        if name == "__now":
            self.params[name] = settings.now()
        elif name == "__t":
            self.params[name] = settings.insights.parameter
        elif name == "__points":
            self.params[name] = settings.insights.sentiment_points
        else:
            raise ValueError(f"no context parameter {name!r}")

    def param(self, value: Any) -> str:
        """A new parameter holding ``value``; returns its ``$name``."""
        name = "p" + str(self.values)
        self.values += 1
        self.params[name] = value
        return "$" + name

    def var(self) -> str:
        self.variables += 1
        return "n" + str(self.variables)

    def subfields(self, type_name: str, nodes: list[FieldNode]) -> dict[str, list[FieldNode]]:
        """The selected fields of ``type_name`` under ``nodes``, by response key."""
        schema = self.info.schema
        object_type = schema.get_type(type_name)
        assert isinstance(object_type, GraphQLObjectType)
        return collect_sub_fields(
            schema, self.info.fragments, self.info.variable_values, object_type, nodes
        )

    def arguments(self, parent: str, name: str, node: FieldNode) -> dict[str, Any]:
        parent_type = self.info.schema.get_type(parent)
        assert isinstance(parent_type, GraphQLObjectType)
        return get_argument_values(parent_type.fields[name], node, self.info.variable_values)

    def projection(self, type_name: str, var: str, nodes: list[FieldNode]) -> tuple[str, Shape]:
        """``{k0: …, k1: …}`` for the fields selected on ``var`` of ``type_name``."""
        specs = FIELDS[type_name]
        parts: list[str] = []
        how = Shape()
        for response_key, field_nodes in self.subfields(type_name, nodes).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                how.entries.append(("", response_key, "typename", type_name))
                continue
            spec = specs[name]
            key = "k" + str(len(parts))
            if isinstance(spec, Value):
                parts.append(key + ": " + spec.expr.replace("{v}", var))
                kind = "money" if spec.money else "value"
                how.entries.append((key, response_key, kind, None))
            else:
                arguments = self.arguments(type_name, name, field_nodes[0])
                text, kind, sub = self.many(spec, var, field_nodes, arguments)
                parts.append(key + ": " + text)
                how.entries.append((key, response_key, kind, sub))
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


@dataclass
class Page:
    """The selection on one connection, and what shaping its page needs."""

    target: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    edge_fields: list[tuple[str, str]] = field(default_factory=list)
    page_info: list[tuple[str, str]] = field(default_factory=list)
    node_nodes: list[FieldNode] = field(default_factory=list)
    wants_total: bool = False
    first: int = 0
    node_shape: Shape = field(default_factory=Shape)


# -- shaping -----------------------------------------------------------------------------------
def shape(value: Any, how: Shape) -> dict[str, Any]:
    """The returned map of one object as a dict keyed by the client's response keys."""
    out: dict[str, Any] = {}
    for key, response_key, kind, sub in how.entries:
        if kind == "typename":
            out[response_key] = sub
            continue
        raw = value.get(key)
        if kind == "value":
            out[response_key] = raw
        elif kind == "money":
            out[response_key] = _money(raw)
        elif kind == "one":
            out[response_key] = None if raw is None else shape(raw, sub)
        elif kind == "list":
            out[response_key] = [shape(item, sub) for item in raw]
        else:
            out[response_key] = _page(raw, sub)
    return out


def _money(raw: list[Any] | None) -> dict[str, str] | None:
    if raw is None or raw[0] is None or raw[1] is None:
        return None
    minor, currency = raw
    return {"amount": format_minor_units(int(minor), currency), "currency": currency}


def _page(raw: dict[str, Any], page: Page) -> dict[str, Any]:
    rows = raw["rows"]
    has_next = len(rows) > page.first
    rows = rows[: page.first]
    cursors = [encode_cursor(row["c"]) for row in rows]
    info = {
        "hasNextPage": has_next,
        "hasPreviousPage": False,
        "startCursor": cursors[0] if cursors else None,
        "endCursor": cursors[-1] if cursors else None,
        "__typename": "PageInfo",
    }
    out: dict[str, Any] = {}
    for response_key, name in page.fields:
        if name == "totalCount":
            out[response_key] = raw["total"]
        elif name == "__typename":
            out[response_key] = page.target + "Connection"
        elif name == "pageInfo":
            out[response_key] = {key: info[sub] for key, sub in page.page_info}
        elif name == "edges":
            out[response_key] = [
                _edge(row, cursor, page) for row, cursor in zip(rows, cursors, strict=True)
            ]
    return out


def _edge(row: dict[str, Any], cursor: str, page: Page) -> dict[str, Any]:
    edge: dict[str, Any] = {}
    for key, sub in page.edge_fields:
        if sub == "cursor":
            edge[key] = cursor
        elif sub == "node":
            edge[key] = shape(row["n"], page.node_shape)
        else:
            edge[key] = page.target + "Edge"
    return edge


# -- entry points ------------------------------------------------------------------------------
def compile_field(info: GraphQLResolveInfo, type_name: str, seek: str) -> Compiled:
    """The query for a top-level field: ``seek`` binds ``root`` (with ``$key``), the
    projection shapes it. Parameters other than ``$key`` are added by the compiler."""
    compiler = _Compiler(info)
    projection, how = compiler.projection(type_name, "root", list(info.field_nodes))
    return Compiled(seek + " RETURN " + projection + " AS result", compiler.params, how)


def compile_connection(
    info: GraphQLResolveInfo, target: str, seek: str, first: int
) -> tuple[Compiled, Page]:
    """The query for a top-level connection: ``seek`` binds one ``root`` per row, in order,
    with ``root.key`` and ``root.id`` as its cursor; ``first + 1`` rows tell if more follow."""
    compiler = _Compiler(info)
    for name in ("__now", "__t"):
        compiler.need(name)
    page = compiler.page_fields(target, list(info.field_nodes))
    projection, node_shape = compiler.projection(target, "root", page.node_nodes)
    page.first, page.node_shape = first, node_shape
    text = seek + " RETURN {n: " + projection + ", c: [toString(root.key), root.id]} AS result"
    return Compiled(text, compiler.params, Shape()), page


def shape_page(rows: list[dict[str, Any]], page: Page) -> dict[str, Any]:
    """A connection page from the rows of ``compile_connection``'s query."""
    return _page({"rows": rows, "total": None}, page)
