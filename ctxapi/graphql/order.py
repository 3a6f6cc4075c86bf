"""Orders and what hangs off them: line items, products, shipments, returns."""

from __future__ import annotations

import graphene

from ctxapi.graphql import enums
from ctxapi.graphql.fields import many, value
from ctxapi.graphql.scalars import DateTime, Money


class Product(graphene.ObjectType):
    """A product of the catalog."""

    id = value(graphene.ID, "{v}.id", required=True, description="External id.")
    sku = value(
        graphene.String,
        "{v}.id",
        required=True,
        description="Stock keeping unit (the external id).",
    )
    name = value(graphene.String, "{v}.name", required=True, description="Product name.")
    category = value(graphene.String, "{v}.category", description="Catalog category.")
    price = value(Money, "[{v}.priceMinor, {v}.currency]", description="List price.")


class LineItem(graphene.ObjectType):
    """One line of an order."""

    line = value(
        graphene.Int,
        "{v}_l.line",
        required=True,
        description="Line number within the order, from 1.",
    )
    quantity = value(graphene.Int, "{v}_l.quantity", required=True, description="Units ordered.")
    unit_price = value(
        Money, "[{v}_l.unitPriceMinor, {v}_cur]", required=True, description="Price paid per unit."
    )
    product = many(Product, "WITH {v} AS {c}", required=True, description="What was ordered.")


class Shipment(graphene.ObjectType):
    """A parcel of an order and where it is."""

    id = value(graphene.ID, "{v}.id", required=True, description="External id.")
    carrier = value(graphene.String, "{v}.carrier", required=True, description="Carrier name.")
    tracking_number = value(
        graphene.String, "{v}.trackingNumber", description="The carrier's tracking number."
    )
    status = value(enums.ShipmentStatus, "{v}.status", required=True, description="Where it is.")
    shipped_at = value(DateTime, "toString({v}.shippedAt)", description="Handed to the carrier.")
    promised_at = value(DateTime, "toString({v}.promisedAt)", description="Delivery promised by.")
    delivered_at = value(DateTime, "toString({v}.deliveredAt)", description="Delivered at.")
    condition = value(
        enums.Condition, "{v}.condition", description="How it arrived, once delivered."
    )
    late = value(
        graphene.Boolean,
        "CASE WHEN {v}.promisedAt IS NULL THEN false"
        " WHEN {v}.deliveredAt IS NOT NULL THEN {v}.deliveredAt > {v}.promisedAt"
        " ELSE {v}.promisedAt < datetime() END",
        required=True,
        description="Delivered after its promise, or not delivered and the promise has passed.",
    )


class Return(graphene.ObjectType):
    """A return of an order and its refund."""

    id = value(graphene.ID, "{v}.id", required=True, description="External id.")
    reason = value(graphene.String, "{v}.reason", required=True, description="Why it was returned.")
    status = value(
        enums.ReturnStatus, "{v}.status", required=True, description="Where the return stands."
    )
    requested_at = value(
        DateTime, "toString({v}.requestedAt)", required=True, description="Return requested at."
    )
    received_at = value(
        DateTime, "toString({v}.receivedAt)", description="Parcel received back at."
    )
    refund = value(
        Money, "[{v}.refundMinor, {v}.currency]", description="Refund amount, once decided."
    )
    refunded_at = value(
        DateTime, "toString({v}.refundedAt)", description="Refund paid at (null: pending)."
    )


class Order(graphene.ObjectType):
    """An order (or an abandoned cart) with its lines, parcels and returns."""

    id = value(graphene.ID, "{v}.id", required=True, description="External id.")
    number = value(
        graphene.String,
        "{v}.number",
        required=True,
        description="The order number customers quote.",
    )
    placed_at = value(DateTime, "toString({v}.placedAt)", required=True, description="Placed at.")
    status = value(
        enums.OrderStatus, "{v}.status", required=True, description="Where the order stands."
    )
    channel = value(enums.SalesChannel, "{v}.channel", description="Where it was placed.")
    total = value(
        Money, "[{v}.totalMinor, {v}.currency]", required=True, description="Order total."
    )
    customer = many(
        "ctxapi.graphql.customer.Customer",
        "MATCH ({v})<-[:PLACED]-({c}:Customer)",
        required=True,
        description="Who placed it.",
    )
    items = many(
        graphene.List(graphene.NonNull(LineItem)),
        "MATCH ({v})-[{c}_l:CONTAINS]->({c}:Product) WITH {c}, {c}_l, {v}.currency AS {c}_cur",
        order=("{c}_l.line", "{c}.id"),
        ascending=True,
        binds=("l", "cur"),
        required=True,
        description="Its lines.",
    )
    shipments = many(
        graphene.List(graphene.NonNull(Shipment)),
        "MATCH ({v})-[:SHIPPED_AS]->({c}:Shipment)",
        order=("{c}.shippedAt", "{c}.id"),
        ascending=True,
        required=True,
        description="Its parcels.",
    )
    returns = many(
        graphene.List(graphene.NonNull(Return)),
        "MATCH ({v})<-[:RETURNS]-({c}:Return)",
        order=("{c}.requestedAt", "{c}.id"),
        required=True,
        description="Its returns, newest first.",
    )
