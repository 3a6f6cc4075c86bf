"""Orders and what hangs off them: line items, products, shipments, returns."""

from __future__ import annotations

import graphene

from ctxapi.graphql.scalars import DateTime, Money


class Product(graphene.ObjectType):
    """A product of the catalog."""

    id = graphene.ID(required=True, description="External id.")
    sku = graphene.String(required=True, description="Stock keeping unit (the external id).")
    name = graphene.String(required=True, description="Product name.")
    category = graphene.String(description="Catalog category.")
    price = graphene.Field(Money, description="List price.")


class LineItem(graphene.ObjectType):
    """One line of an order."""

    line = graphene.Int(required=True, description="Line number within the order, from 1.")
    quantity = graphene.Int(required=True, description="Units ordered.")
    unit_price = graphene.Field(Money, required=True, description="Price paid per unit.")
    product = graphene.Field(Product, required=True, description="What was ordered.")


class Shipment(graphene.ObjectType):
    """A parcel of an order and where it is."""

    id = graphene.ID(required=True, description="External id.")
    carrier = graphene.String(required=True, description="Carrier name.")
    tracking_number = graphene.String(description="The carrier's tracking number.")
    status = graphene.String(
        required=True,
        description="label_created, in_transit, out_for_delivery, delivered, delayed, exception"
        " or returned.",
    )
    shipped_at = graphene.Field(DateTime, description="Handed to the carrier.")
    promised_at = graphene.Field(DateTime, description="Delivery promised by.")
    delivered_at = graphene.Field(DateTime, description="Delivered at.")
    condition = graphene.String(description="ok or damaged, once delivered.")
    late = graphene.Boolean(
        required=True,
        description="Delivered after its promise, or not delivered and the promise has passed.",
    )


class Return(graphene.ObjectType):
    """A return of an order and its refund."""

    id = graphene.ID(required=True, description="External id.")
    reason = graphene.String(required=True, description="Why it was returned.")
    status = graphene.String(
        required=True, description="requested, approved, received, refunded or rejected."
    )
    requested_at = graphene.Field(DateTime, required=True, description="Return requested at.")
    received_at = graphene.Field(DateTime, description="Parcel received back at.")
    refund = graphene.Field(Money, description="Refund amount, once decided.")
    refunded_at = graphene.Field(DateTime, description="Refund paid at (null: pending).")


class Order(graphene.ObjectType):
    """An order (or an abandoned cart) with its lines, parcels and returns."""

    id = graphene.ID(required=True, description="External id.")
    number = graphene.String(required=True, description="The order number customers quote.")
    placed_at = graphene.Field(DateTime, required=True, description="Placed at.")
    status = graphene.String(
        required=True,
        description="abandoned, pending, paid, fulfilled, shipped, delivered, cancelled or"
        " returned.",
    )
    channel = graphene.String(description="web, app, store, phone or marketplace.")
    total = graphene.Field(Money, required=True, description="Order total.")
    customer = graphene.Field(
        "ctxapi.graphql.customer.Customer", required=True, description="Who placed it."
    )
    items = graphene.List(graphene.NonNull(LineItem), required=True, description="Its lines.")
    shipments = graphene.List(graphene.NonNull(Shipment), required=True, description="Its parcels.")
    returns = graphene.List(
        graphene.NonNull(Return), required=True, description="Its returns, newest first."
    )
