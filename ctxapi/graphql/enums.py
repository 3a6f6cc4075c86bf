"""GraphQL enums for every closed set of the model (``ctxapi.model``).

A value's GraphQL name is the model member's name (``VIP``); resolvers read the stored value
(``"vip"``) and graphene maps it to the name on the way out, and arguments arrive as model
members, which the compiler sends to Neo4j as their stored values.
"""

from __future__ import annotations

from enum import StrEnum

import graphene

from ctxapi import model


def _enum(kind: type[StrEnum], name: str | None = None) -> type[graphene.Enum]:
    """The GraphQL enum of a model set, described by the set's docstring and each value by
    its meaning or its stored spelling."""
    enum: type[graphene.Enum] = graphene.Enum.from_enum(kind, name=name, description=kind.__doc__)
    return enum


Tier = _enum(model.Tier)
IdentityKind = _enum(model.IdentityKind)
AddressKind = _enum(model.AddressKind)
Channel = _enum(model.Channel)
Direction = _enum(model.Direction)
InteractionStatus = _enum(model.InteractionStatus)
OrderStatus = _enum(model.OrderStatus)
SalesChannel = _enum(model.SalesChannel)
ShipmentStatus = _enum(model.ShipmentStatus)
Condition = _enum(model.Condition, "ParcelCondition")
ReturnStatus = _enum(model.ReturnStatus)
CaseStatus = _enum(model.CaseStatus)
Priority = _enum(model.Priority, "CasePriority")
FeedbackKind = _enum(model.FeedbackKind)
ReferenceType = _enum(model.ReferenceType)
TimelineKind = _enum(model.TimelineKind, "TimelineEventKind")
Level = _enum(model.Level)
SentimentDirection = _enum(model.SentimentDirection)
ExperienceKind = _enum(model.ExperienceKind)
RiskFactorCode = _enum(model.RiskFactorCode)
ActionKind = _enum(model.ActionKind)
ProactiveReason = _enum(model.ProactiveReason)
