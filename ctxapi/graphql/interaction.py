"""Contacts on every channel, the agents who handled them, and the cases they belong to."""

from __future__ import annotations

from typing import LiteralString

import graphene

from ctxapi.access.brands import owns
from ctxapi.graphql import enums
from ctxapi.graphql.fields import many, value
from ctxapi.graphql.scalars import DateTime, Reference
from ctxapi.model import ABOUT_LABELS


class Agent(graphene.ObjectType):
    """A support agent, or a bot."""

    id = value(graphene.ID, "{v}.id", required=True, description="External id.")
    name = value(graphene.String, "{v}.name", required=True, description="Display name.")
    team = value(graphene.String, "{v}.team", description="Team.")
    bot = value(
        graphene.Boolean,
        "coalesce({v}.bot, false)",
        required=True,
        description="True for a bot or IVR.",
    )


class Interaction(graphene.ObjectType):
    """One contact on one channel: a call, an email, a chat, a message, a visit."""

    id = value(graphene.ID, "{v}.id", required=True, description="External id.")
    channel = value(enums.Channel, "{v}.channel", required=True, description="Its channel.")
    direction = value(
        enums.Direction, "{v}.direction", required=True, description="Who started it."
    )
    occurred_at = value(
        DateTime, "toString({v}.occurredAt)", required=True, description="When it happened."
    )
    summary = value(
        graphene.String, "{v}.summary", required=True, description="What the agent logged."
    )
    topic = value(graphene.String, "{v}.topic", description="Topic, e.g. where_is_my_order.")
    status = value(
        enums.InteractionStatus, "{v}.status", required=True, description="Where it stands."
    )
    sentiment = value(
        graphene.Float, "{v}.sentiment", description="From -1 (angry) to 1 (delighted)."
    )
    self_service = value(
        graphene.Boolean, "{v}.selfService", required=True, description="Handled by a bot or IVR."
    )
    responded_at = value(DateTime, "toString({v}.respondedAt)", description="First response at.")
    duration_seconds = value(
        graphene.Int, "{v}.durationSeconds", description="Length of a call or chat."
    )
    agent = many(
        lambda: Agent, "MATCH ({v})-[:HANDLED_BY]->({c}:Agent)", description="Who handled it."
    )
    identity = many(
        "ctxapi.graphql.customer.Identity",
        "MATCH ({v})-[:VIA]->({c}:Identity) MATCH ({c})-[{c}_l:IDENTIFIES]->(:Customer)"
        "-[:HAD]->({v})",
        binds=("l",),
        description="The identifier it came through.",
    )
    case = many(
        lambda: Case,
        "MATCH ({v})-[:PART_OF]->({c}:Case) MATCH ({v}who:Customer)-[:HAD]->({v})"
        " WHERE " + owns("{v}who", "{c}"),
        description="The case it belongs to.",
    )
    about = many(
        graphene.List(graphene.NonNull(Reference)),
        "MATCH ({v})-[:ABOUT]->({c}) MATCH ({v}who:Customer)-[:HAD]->({v})"
        " WHERE " + owns("{v}who", "{c}") + ""
        " WITH {c}, [l IN labels({c}) WHERE l IN " + ABOUT_LABELS + "][0] AS {c}_type",
        order=("{c}_type", "{c}.id"),
        binds=("type",),
        required=True,
        description="Orders, shipments, returns or products it was about.",
    )


def _own_contact(contact: LiteralString) -> LiteralString:
    """``contact``, a contact of the case ``{v}``, was made by the customer who opened it: a
    condition on contacts read from the case (a case has few), never from its customer's (a
    customer may have thousands: at 1M customers the planner started there, 175 ms for a
    customer with 5,000 contacts)."""
    return "EXISTS { ({v})<-[:OPENED]-(:Customer)-[:HAD]->(" + contact + ") }"


class Case(graphene.ObjectType):
    """One problem of a customer, however many contacts it takes."""

    id = value(graphene.ID, "{v}.id", required=True, description="External id.")
    subject = value(graphene.String, "{v}.subject", required=True, description="What it is about.")
    status = value(enums.CaseStatus, "{v}.status", required=True, description="Where it stands.")
    priority = value(enums.Priority, "{v}.priority", required=True, description="How urgent.")
    opened_at = value(DateTime, "toString({v}.openedAt)", required=True, description="Opened at.")
    resolved_at = value(DateTime, "toString({v}.resolvedAt)", description="Resolved at.")
    channels = value(
        graphene.List(graphene.NonNull(enums.Channel)),
        "COLLECT { MATCH ({v})<-[:PART_OF]-(i:Interaction) WHERE "
        + _own_contact("i")
        + " WITH DISTINCT i.channel AS channel ORDER BY channel RETURN channel }",
        required=True,
        description="The channels its contacts used, alphabetically.",
    )
    owner = many(
        Agent, "MATCH ({v})-[:ASSIGNED_TO]->({c}:Agent)", description="The agent who owns it."
    )
    contacts = many(
        graphene.List(graphene.NonNull(Interaction)),
        # only the contacts of the case's own customer (ctxapi.access.brands.owns)
        "MATCH ({v})<-[:PART_OF]-({c}:Interaction) WHERE " + _own_contact("{c}"),
        order=("{c}.occurredAt", "{c}.id"),
        required=True,
        description="Its contacts, newest first.",
    )
