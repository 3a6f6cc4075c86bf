"""Rows as Neo4j returns them → the response's shape: dicts keyed by the client's response
keys (aliases included), money as decimal text, connection pages with opaque cursors."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import FieldNode

from ctxapi.access.masking import mask
from ctxapi.graphql.errors import ClientError
from ctxapi.money import as_money
from ctxapi.thresholds import Thresholds


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


@dataclass
class Shape:
    """How to turn one level of the returned map into the response: key → (response key, kind)."""

    entries: list[tuple[str, str, str, Any]] = field(default_factory=list)


@dataclass
class Picked:
    """The selection under a judged field, on one object type: (response key, field name,
    the selection under it or None)."""

    type_name: str
    fields: list[tuple[str, str, Picked | None]] = field(default_factory=list)


@dataclass
class Judgement:
    """How a judged field gets its value: the rules, the part of their answer, the thresholds
    they use, and what the client selected in it."""

    judge: Callable[[Any, Thresholds], Mapping[str, Any]]
    part: str
    thresholds: Thresholds
    picked: Picked | None


def pick(value: Any, picked: Picked | None) -> Any:
    """The selected part of the rules' answer, keyed by the client's response keys."""
    if picked is None or value is None:
        return value
    if isinstance(value, list):
        return [pick(item, picked) for item in value]
    return {
        response_key: picked.type_name if name == "__typename" else pick(value.get(name), sub)
        for response_key, name, sub in picked.fields
    }


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
def shape(value: Any, how: Shape, customers: set[str] | None = None) -> dict[str, Any]:
    """The returned map of one object as a dict keyed by the client's response keys; the ids
    of customers whose personal fields it holds go to ``customers`` (the audit log)."""
    out: dict[str, Any] = {}
    judged: dict[str, Mapping[str, Any]] = {}  # facts key → the rules' answer
    for key, response_key, kind, sub in how.entries:
        if kind == "typename":
            out[response_key] = sub
            continue
        raw = value.get(key)
        if kind == "judged":
            if key not in judged:
                judged[key] = {} if raw is None else sub.judge(raw, sub.thresholds)
            out[response_key] = pick(judged[key].get(sub.part), sub.picked)
        elif kind == "value":
            out[response_key] = raw
        elif kind == "masked":
            out[response_key] = mask(sub, raw)
        elif kind == "money":
            out[response_key] = _money(raw)
        elif kind == "customer":
            if customers is not None and raw is not None:
                customers.add(raw)
        elif kind == "one":
            out[response_key] = None if raw is None else shape(raw, sub, customers)
        elif kind == "list":
            out[response_key] = [shape(item, sub, customers) for item in raw]
        else:
            out[response_key] = page_of(raw, sub, customers)
    return out


def _money(raw: list[Any] | None) -> dict[str, str] | None:
    if raw is None or raw[0] is None or raw[1] is None:
        return None
    minor, currency = raw
    return as_money(int(minor), currency)


def page_of(raw: dict[str, Any], page: Page, customers: set[str] | None = None) -> dict[str, Any]:
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
                _edge(row, cursor, page, customers)
                for row, cursor in zip(rows, cursors, strict=True)
            ]
    return out


def _edge(
    row: dict[str, Any], cursor: str, page: Page, customers: set[str] | None
) -> dict[str, Any]:
    edge: dict[str, Any] = {}
    for key, sub in page.edge_fields:
        if sub == "cursor":
            edge[key] = cursor
        elif sub == "node":
            edge[key] = shape(row["n"], page.node_shape, customers)
        else:
            edge[key] = page.target + "Edge"
    return edge
