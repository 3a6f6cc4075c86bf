"""What customers said: CSAT, NPS, CES and reviews."""

from __future__ import annotations

import graphene

from ctxapi.graphql.scalars import DateTime, Reference


class Feedback(graphene.ObjectType):
    """A CSAT, NPS or CES answer, or a review."""

    id = graphene.ID(required=True, description="External id.")
    kind = graphene.String(required=True, description="csat, nps, ces or review.")
    score = graphene.Int(required=True, description="csat 1-5, nps 0-10, ces 1-7, review 1-5.")
    comment = graphene.String(description="Free text.")
    submitted_at = graphene.Field(DateTime, required=True, description="Submitted at.")
    rates = graphene.Field(Reference, description="The interaction, case, order or product rated.")
