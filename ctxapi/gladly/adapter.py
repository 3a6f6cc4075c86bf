"""A Gladly lookup: its request read, its customers found as the API finds them, its answer.

Every read is a committed GraphQL document (``lookup.graphql``) executed as the API executes
a request, for an Access of the adapter's one brand with ``context:read`` and ``pii:read``:
brand isolation, identity normalization and the personal reads noted for the audit log are
the API's own. Candidates are found by id only; only the customers answered are read in full.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
from graphql import execute_sync, parse, validate

from ctxapi.access.keys import Access, Scope
from ctxapi.config import Settings
from ctxapi.db import REQUEST_ID, Database
from ctxapi.gladly.adapters import Adapter
from ctxapi.graphql.compiler import precompile
from ctxapi.graphql.context import Context, PiiReads
from ctxapi.graphql.lookup import IdentityInputError, identity_key
from ctxapi.graphql.schema import schema
from ctxapi.unavailable import DatabaseUnavailable

log = logging.getLogger(__name__)

#: At most this many profiles answer a search (uniqueMatchRequired false).
MAX_RESULTS = 10
#: A DETAILED answer's orders: the newest this many.
MAX_ORDERS = 10
#: A phone's type: ctxapi does not know whether a number is a mobile, home or work one.
PHONE_TYPE = "OTHER"

DOCUMENT = parse((Path(__file__).parent / "lookup.graphql").read_text())
_INVALID = validate(schema.graphql_schema, DOCUMENT)
if _INVALID:  # a committed document that does not fit the schema fails at import
    raise RuntimeError(f"ctxapi/gladly/lookup.graphql: {_INVALID[0].message}")


class Level(StrEnum):
    """Gladly's ``lookupLevel``."""

    BASIC = "BASIC"
    DETAILED = "DETAILED"


class BadLookup(ValueError):
    """A request body that is not a Gladly lookup: answered 400 with this message."""


class LookupFailed(RuntimeError):
    """A committed read failed for a reason other than the database's absence (a bug)."""


@dataclass(frozen=True)
class Lookup:
    """What Gladly asks: the level, whether one match is required, and what it knows."""

    level: Level
    unique: bool
    external_id: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    name: str | None = None


def read_lookup(body: bytes) -> Lookup:
    """The request body → a Lookup; BadLookup, saying what is wrong, when it is not one."""
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadLookup("the body is not valid JSON") from None
    if not isinstance(raw, dict):
        raise BadLookup("the body must be a JSON object")
    levels = ", ".join(level.value for level in Level)
    if raw.get("lookupLevel") not in set(Level):
        raise BadLookup(f"lookupLevel must be one of {levels}")
    query = raw.get("query")
    if not isinstance(query, dict):
        raise BadLookup("query must be a JSON object")
    unique = raw.get("uniqueMatchRequired", False)
    if not isinstance(unique, bool):
        raise BadLookup("uniqueMatchRequired must be true or false")
    return Lookup(
        level=Level(raw["lookupLevel"]),
        unique=unique,
        external_id=_text(query, "externalCustomerId"),
        emails=_texts(query, "email", "emails"),
        phones=_texts(query, "phone", "phones"),
        name=_text(query, "name"),
    )


def _text(query: Mapping[str, Any], field: str) -> str | None:
    value = query.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadLookup(f"query.{field} must be a string")
    return value.strip() or None


def _texts(query: Mapping[str, Any], one: str, many: str) -> tuple[str, ...]:
    """``query[one]`` and the strings of ``query[many]`` (each may also be an object with
    ``original``, as Gladly spells the emails and phones of a profile)."""
    listed = query.get(many)
    if listed is not None and not isinstance(listed, list):
        raise BadLookup(f"query.{many} must be a list")
    values: list[Any] = [query[one]] if query.get(one) is not None else []
    values += [item.get("original") if isinstance(item, dict) else item for item in listed or []]
    texts = [value.strip() for value in values if isinstance(value, str)]
    if len(texts) != len(values):
        raise BadLookup(f"query.{one} and query.{many} must hold strings")
    return tuple(dict.fromkeys(text for text in texts if text))


class Reader:
    """Runs the committed documents for one adapter: its brand only, audited reads noted."""

    def __init__(self, db: Database, settings: Settings, adapter: Adapter, request_id: str) -> None:
        self.db = db
        self.settings = settings
        self.request_id = request_id
        self.access = Access(
            key_id=adapter.id,
            name=adapter.name,
            scopes=frozenset({Scope.CONTEXT_READ, Scope.PII_READ}),
            brands=(adapter.brand,),
        )
        #: The personal fields read unmasked, and whose, over every read of the request.
        self.reads = PiiReads()

    def run(self, operation: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The ``data`` of one operation of lookup.graphql."""
        compiled = precompile(
            schema.graphql_schema, DOCUMENT, variables, operation, self.settings, self.access
        )
        context = Context(
            db=self.db,
            settings=self.settings,
            request_id=self.request_id,
            access=self.access,
            compiled=compiled,
            reads=self.reads,
        )
        token = REQUEST_ID.set(self.request_id)
        try:
            result = execute_sync(
                schema.graphql_schema,
                DOCUMENT,
                variable_values=variables,
                operation_name=operation,
                context_value=context,
            )
        finally:
            REQUEST_ID.reset(token)
        for error in result.errors or ():
            if isinstance(error.original_error, DatabaseUnavailable):
                raise error.original_error
        if result.errors or result.data is None:
            cause = result.errors[0].original_error if result.errors else None
            raise LookupFailed(f"{operation} failed ({type(cause).__name__})")
        return result.data


def answer(lookup: Lookup, reader: Reader) -> list[dict[str, Any]]:
    """The ``results`` of a lookup: none rather than a guess when one match is required (or
    the level is DETAILED, which is about one customer) and several customers match."""
    found = candidates(lookup, reader)
    if len(found) > 1 and (lookup.unique or lookup.level is Level.DETAILED):
        return []
    if lookup.level is Level.DETAILED:
        return [
            detailed(customer, _insights(reader, customer["id"]))
            for customer in _read(reader, found[:1], detailed=True)
        ]
    return [profile(customer) for customer in _read(reader, found[:MAX_RESULTS])]


def candidates(lookup: Lookup, reader: Reader) -> list[str]:
    """The ids of the customers the lookup names, by the strongest thing Gladly knows: its
    externalCustomerId alone when given; else its emails, then its phones (the first kind
    that finds anyone decides); then, for a search only, the name."""
    if lookup.external_id is not None:
        data = reader.run("GladlyById", {"id": lookup.external_id})
        return [data["customer"]["id"]] if data["customer"] else []
    region = reader.settings.phone_region
    for field, values in (("email", lookup.emails), ("phone", lookup.phones)):
        found: dict[str, None] = {}
        for value in values:
            try:  # normalized by the API as by the loader; what it would refuse names nobody
                identity_key({field: value}, region)
            except IdentityInputError:
                continue
            data = reader.run("GladlyByIdentity", {"identity": {field: value}})
            found.update((hit["customer"]["id"], None) for hit in data["customersBy"])
        if found:
            return list(found)
    if lookup.name is not None and not lookup.unique:
        data = reader.run("GladlyByName", {"name": lookup.name, "first": MAX_RESULTS})
        return list(dict.fromkeys(hit["customer"]["id"] for hit in data["searchCustomers"]))
    return []


def _read(reader: Reader, ids: Iterable[str], detailed: bool = False) -> list[dict[str, Any]]:
    customers = []
    for customer_id in ids:
        if detailed:
            data = reader.run("GladlyDetailed", {"id": customer_id, "orders": MAX_ORDERS})
        else:
            data = reader.run("GladlyProfile", {"id": customer_id})
        if data["customer"] is not None:
            customers.append(data["customer"])
    return customers


def _insights(reader: Reader, customer_id: str) -> Mapping[str, Any] | None:
    """The customer's churn risk and next best actions; None when their read fails for want
    of the database (a cold plan past the query timeout): the answer goes without them."""
    try:
        data = reader.run("GladlyInsights", {"id": customer_id})
    except DatabaseUnavailable as error:
        log.warning("gladly request %s: no insights (%s)", reader.request_id, type(error).__name__)
        return None
    return data["customer"]["insights"] if data["customer"] else None


def profile(customer: Mapping[str, Any]) -> dict[str, Any]:
    """A customer as a Gladly profile: id, name, emails, phones, address, attributes."""
    identities = customer["identities"]
    result: dict[str, Any] = {
        "externalCustomerId": customer["id"],
        "name": customer["name"],
        "emails": [{"original": i["value"]} for i in identities if i["kind"] == "EMAIL"],
        "phones": [
            {"original": i["value"], "type": PHONE_TYPE} for i in identities if i["kind"] == "PHONE"
        ],
        "customAttributes": _attributes(customer),
    }
    address = one_line(customer["addresses"])
    if address is not None:
        result["address"] = address
    return result


def _attributes(customer: Mapping[str, Any]) -> dict[str, str]:
    stats = customer["stats"]
    attributes = {
        "tier": customer["tier"],
        "orderCount": str(stats["orderCount"]),
        "openCases": str(stats["openCases"]),
    }
    if stats["lifetimeValue"] is not None:
        value = stats["lifetimeValue"]
        attributes["lifetimeValue"] = f"{value['amount']} {value['currency']}"
    if customer["createdAt"] is not None:
        attributes["customerSince"] = customer["createdAt"][:10]
    return attributes


def one_line(addresses: list[Mapping[str, Any]]) -> str | None:
    """The shipping address (else the first) on one line: street, town, region, country."""
    if not addresses:
        return None
    chosen = next((a for a in addresses if a["kind"] == "SHIPPING"), addresses[0])
    town = " ".join(part for part in (chosen["postalCode"], chosen["city"]) if part)
    parts = (chosen["line1"], chosen["line2"], town, chosen["region"], chosen["country"])
    return ", ".join(part for part in parts if part)


def detailed(customer: Mapping[str, Any], insights: Mapping[str, Any] | None) -> dict[str, Any]:
    """A profile with its newest orders as ORDER transactions, its churn risk and next best
    action as attributes; ``actions`` is empty (ctxapi serves no action forms)."""
    result = profile(customer)
    suggested = insights["nextBestActions"] if insights else []
    if insights:
        result["customAttributes"]["churnRisk"] = insights["churnRisk"]["level"]
    if suggested:
        best = min(suggested, key=lambda action: action["priority"])
        result["customAttributes"]["nextBestAction"] = best["kind"]
        result["customAttributes"]["nextBestActionReason"] = best["reason"]
    result["transactions"] = [order(edge["node"]) for edge in customer["orders"]["edges"]]
    result["actions"] = []
    return result


def order(node: Mapping[str, Any]) -> dict[str, Any]:
    """An order as Gladly's ORDER transaction. Money is the API's decimal text in the
    currency's major unit (``"134.70"``), the currency in ``currencyCode``."""
    products = [
        {
            "id": item["product"]["id"],
            "name": item["product"]["name"],
            "sku": item["product"]["sku"],
            "unitPrice": item["unitPrice"]["amount"],
            "quantity": str(item["quantity"]),
            "status": node["status"],
        }
        for item in node["items"]
    ]
    # ctxapi does not know which items a parcel holds: a lone parcel holds them all.
    product_ids = list(dict.fromkeys(p["id"] for p in products))
    shipments = node["shipments"]
    fulfillments = [
        {
            "trackingNumber": shipment["trackingNumber"],
            "carrier": shipment["carrier"],
            "estimatedDeliveryDate": shipment["deliveredAt"] or shipment["promisedAt"],
            "productIds": product_ids if len(shipments) == 1 else [],
            "status": shipment["status"],
        }
        for shipment in shipments
    ]
    return {
        "type": "ORDER",
        "orderNumber": node["number"],
        "orderStatus": node["status"],
        "orderTotal": node["total"]["amount"],
        "currencyCode": node["total"]["currency"],
        "createdAt": node["placedAt"],
        "products": products,
        "fulfillments": fulfillments,
    }
