"""Scalars and small value types shared by the domain modules."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, LiteralString

import graphene
from graphql import StringValueNode

from ctxapi.graphql import enums
from ctxapi.graphql.errors import ClientError
from ctxapi.graphql.fields import many, value
from ctxapi.model import REFERENCE_LABELS


def _aware(value: Any) -> str:
    if not isinstance(value, str):
        raise ClientError("a DateTime is ISO-8601 text, e.g. 2026-11-18T14:05:00Z")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ClientError(f"{value!r} is not an ISO-8601 date and time") from None
    if parsed.tzinfo is None:
        raise ClientError(f"{value!r} has no zone: add Z or an offset such as +01:00")
    offset = parsed.utcoffset() or timedelta()
    if offset % timedelta(minutes=1) or abs(offset) > timedelta(hours=18):
        raise ClientError(f"{value!r}: the offset must be whole minutes within ±18:00")
    return parsed.isoformat()


class DateTime(graphene.Scalar):
    """An instant as ISO-8601 text with its zone, e.g. `2026-11-18T14:05:00Z`."""

    @staticmethod
    def serialize(value: Any) -> Any:
        return value

    @staticmethod
    def parse_value(value: Any) -> str:
        return _aware(value)

    @staticmethod
    def parse_literal(node: Any, _variables: Any = None) -> str:
        if not isinstance(node, StringValueNode):
            raise ClientError("a DateTime is ISO-8601 text, e.g. 2026-11-18T14:05:00Z")
        return _aware(node.value)


class Money(graphene.ObjectType):
    """An exact amount of money: a decimal string and its ISO 4217 currency."""

    amount = graphene.String(required=True, description='Decimal text, e.g. "129.90".')
    currency = graphene.String(required=True, description="ISO 4217 code, e.g. EUR.")


class PageInfo(graphene.ObjectType):
    """Where a page of a list stands (Relay cursor connections; pages go forward)."""

    has_next_page = graphene.Boolean(required=True, description="More items follow this page.")
    has_previous_page = graphene.Boolean(
        required=True, description="Always false: pages go forward with `after`."
    )
    start_cursor = graphene.String(description="Cursor of the first item of this page.")
    end_cursor = graphene.String(description="Cursor of the last item: pass it as `after`.")


def connection(
    node: type[graphene.ObjectType], what: str, order: str = "newest first"
) -> type[graphene.ObjectType]:
    """``<Node>Connection`` and ``<Node>Edge`` types for a paginated list of ``node``."""
    name = node._meta.name
    edge = type(
        name + "Edge",
        (graphene.ObjectType,),
        {
            "__doc__": f"One {what} and its cursor.",
            "cursor": graphene.String(required=True, description="Opaque position in the list."),
            "node": graphene.Field(node, required=True, description=f"The {what}."),
        },
    )
    return type(
        name + "Connection",
        (graphene.ObjectType,),
        {
            "__doc__": f"A page of {what}s, {order}.",
            "edges": graphene.List(
                graphene.NonNull(edge), required=True, description=f"The {what}s of this page."
            ),
            "page_info": graphene.Field(PageInfo, required=True, description="Paging state."),
            "total_count": graphene.Int(description=f"How many {what}s match, on all pages."),
        },
    )


#: A reference's human handle, read from the node ``{v}`` (also in the insights' facts).
REFERENCE_LABEL: LiteralString = (
    "coalesce({v}.number, {v}.trackingNumber, {v}.name, {v}.subject, {v}.reason, {v}.id)"
)


class Reference(graphene.ObjectType):
    """Another record a contact or a piece of feedback is about."""

    type = value(enums.ReferenceType, "toLower({v}_type)", required=True, description="What it is.")
    id = value(graphene.ID, "{v}.id", required=True, description="Its external id.")
    label = value(
        graphene.String,
        REFERENCE_LABEL,
        description="A human handle: order number, tracking number, name.",
    )


def references(source: LiteralString, *, one: bool = False, **kwargs: Any) -> graphene.Field:
    """References to the nodes in ``source`` (a list of nodes, or one node when ``one``)."""
    match: LiteralString = (
        "WITH " + source + " AS {c}" if one else "UNWIND " + source + " AS {c}"
    ) + (" WITH {c}, [l IN labels({c}) WHERE l IN " + REFERENCE_LABELS + "][0] AS {c}_type")
    type_ = Reference if one else graphene.List(graphene.NonNull(Reference))
    return many(type_, match, binds=("type",), **kwargs)


def time(key: LiteralString, **kwargs: Any) -> graphene.Field:
    """The instant ``{v}.key`` as ISO-8601 text."""
    return value(DateTime, "toString({v}." + key + ")", **kwargs)
