"""Notes agents write on a customer's file (through ``addNote``)."""

from __future__ import annotations

import graphene

from ctxapi.graphql.fields import many, value
from ctxapi.graphql.interaction import Agent, Case
from ctxapi.graphql.scalars import DateTime


class Note(graphene.ObjectType):
    """A note an agent wrote on a customer's file, maybe on one of their cases."""

    id = value(graphene.ID, "{v}.id", required=True, description="Its id (made by ctxapi).")
    text = value(graphene.String, "{v}.text", required=True, description="What it says.")
    written_at = value(
        DateTime, "toString({v}.writtenAt)", required=True, description="When it was written."
    )
    author = many(Agent, "MATCH ({c}:Agent)-[:WROTE]->({v})", description="Who wrote it.")
    case = many(
        Case,
        # only a case of the note's own customer
        "MATCH ({v})-[:ON]->({c}:Case)<-[:OPENED]-(:Customer)-[:HAS_NOTE]->({v})",
        description="The case it is on.",
    )
