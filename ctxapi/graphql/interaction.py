"""Contacts on every channel, the agents who handled them, and the cases they belong to."""

from __future__ import annotations

import graphene

from ctxapi.graphql.scalars import DateTime, Reference


class Agent(graphene.ObjectType):
    """A support agent, or a bot."""

    id = graphene.ID(required=True, description="External id.")
    name = graphene.String(required=True, description="Display name.")
    team = graphene.String(description="Team.")
    bot = graphene.Boolean(required=True, description="True for a bot or IVR.")


class Interaction(graphene.ObjectType):
    """One contact on one channel: a call, an email, a chat, a message, a visit."""

    id = graphene.ID(required=True, description="External id.")
    channel = graphene.String(
        required=True,
        description="phone, email, chat, sms, social, messaging, in_store or web.",
    )
    direction = graphene.String(required=True, description="inbound or outbound.")
    occurred_at = graphene.Field(DateTime, required=True, description="When it happened.")
    summary = graphene.String(required=True, description="What the agent logged.")
    topic = graphene.String(description="Topic, e.g. where_is_my_order.")
    status = graphene.String(
        required=True, description="open, resolved, unanswered, escalated or abandoned."
    )
    sentiment = graphene.Float(description="From -1 (angry) to 1 (delighted).")
    self_service = graphene.Boolean(required=True, description="Handled by a bot or IVR.")
    responded_at = graphene.Field(DateTime, description="First response at.")
    duration_seconds = graphene.Int(description="Length of a call or chat.")
    agent = graphene.Field(Agent, description="Who handled it.")
    identity = graphene.Field(
        "ctxapi.graphql.customer.Identity", description="The identifier it came through."
    )
    case = graphene.Field(lambda: Case, description="The case it belongs to.")
    about = graphene.List(
        graphene.NonNull(Reference),
        required=True,
        description="Orders, shipments, returns or products it was about.",
    )


class Case(graphene.ObjectType):
    """One problem of a customer, however many contacts it takes."""

    id = graphene.ID(required=True, description="External id.")
    subject = graphene.String(required=True, description="What it is about.")
    status = graphene.String(required=True, description="open, pending, resolved or closed.")
    priority = graphene.String(required=True, description="low, normal, high or urgent.")
    opened_at = graphene.Field(DateTime, required=True, description="Opened at.")
    resolved_at = graphene.Field(DateTime, description="Resolved at.")
    channels = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="The channels its contacts used, alphabetically.",
    )
    contacts = graphene.List(
        graphene.NonNull(Interaction), required=True, description="Its contacts, newest first."
    )
