"""What customers said: CSAT, NPS, CES and reviews."""

from __future__ import annotations

import graphene

from ctxapi.access.brands import owns
from ctxapi.graphql import enums
from ctxapi.graphql.fields import many, value
from ctxapi.graphql.scalars import DateTime, Reference
from ctxapi.model import RATES_LABELS


class Feedback(graphene.ObjectType):
    """A CSAT, NPS or CES answer, or a review."""

    id = value(graphene.ID, "{v}.id", required=True, description="External id.")
    kind = value(enums.FeedbackKind, "{v}.kind", required=True, description="What was asked.")
    score = value(
        graphene.Int,
        "{v}.score",
        required=True,
        description="csat 1-5, nps 0-10, ces 1-7, review 1-5.",
    )
    comment = value(graphene.String, "{v}.comment", description="Free text.")
    submitted_at = value(
        DateTime, "toString({v}.submittedAt)", required=True, description="Submitted at."
    )
    rates = many(
        Reference,
        "MATCH ({v})-[:RATES]->({c}) MATCH ({v}who:Customer)-[:GAVE]->({v})"
        " WHERE " + owns("{v}who", "{c}") + ""
        " WITH {c}, [l IN labels({c}) WHERE l IN " + RATES_LABELS + "][0] AS {c}_type",
        binds=("type",),
        description="The interaction, case, order or product rated.",
    )
