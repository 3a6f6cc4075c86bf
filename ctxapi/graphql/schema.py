"""The root schema: it only assembles the types and fields that the domain modules define."""

from __future__ import annotations

from typing import Any, LiteralString

import graphene
from graphene.types.resolver import set_default_resolver
from graphql import GraphQLResolveInfo, print_schema

from ctxapi.graphql.case_mutations import CaseMutations
from ctxapi.graphql.contact_mutations import ContactMutations
from ctxapi.graphql.customer import CustomerQueries
from ctxapi.graphql.erasure_mutations import ErasureMutations
from ctxapi.graphql.fields import registry
from ctxapi.graphql.identities import IdentityQueries
from ctxapi.graphql.identity_mutations import IdentityMutations
from ctxapi.graphql.proactive import ProactiveQueries
from ctxapi.version import __version__

_COMPONENTS: LiteralString = (
    "CALL dbms.components() YIELD name, versions, edition "
    "RETURN name, versions[0] AS version, edition"
)


def read_shaped(attname: str, default: Any, root: Any, info: GraphQLResolveInfo, **_: Any) -> Any:
    """Resolvers only read: a shaped dict is keyed by the client's response key (aliases
    included), other dicts by the field's name."""
    if isinstance(root, dict):
        key = info.path.key
        if key in root:
            return root[key]
        return root.get(info.field_name, default)
    return getattr(root, attname, default)


set_default_resolver(read_shaped)


class DatabaseInfo(graphene.ObjectType):
    """The Neo4j server behind this API."""

    name = graphene.String(required=True, description="The database ctxapi reads and writes.")
    version = graphene.String(required=True, description="Neo4j's version, e.g. 5.26.31.")
    edition = graphene.String(required=True, description="community or enterprise.")


class Query(CustomerQueries, IdentityQueries, ProactiveQueries, graphene.ObjectType):
    """Every read ctxapi offers starts here."""

    api_version = graphene.String(required=True, description="The version of ctxapi serving.")
    database = graphene.Field(
        DatabaseInfo, required=True, description="The Neo4j server behind this API."
    )

    @staticmethod
    def resolve_api_version(_root: Any, _info: GraphQLResolveInfo) -> str:
        return __version__

    @staticmethod
    def resolve_database(_root: Any, info: GraphQLResolveInfo) -> dict[str, str]:
        db = info.context.db
        record = db.read(_COMPONENTS)[0]
        return {"name": db.name, "version": record["version"], "edition": record["edition"]}


class Mutation(
    ContactMutations, CaseMutations, IdentityMutations, ErasureMutations, graphene.ObjectType
):
    """Every write ctxapi offers: one ``input``, a payload with ``userErrors``, an idempotency
    key."""


schema = graphene.Schema(query=Query, mutation=Mutation, auto_camelcase=True)
registry(schema.graphql_schema)  # every field has its Cypher spec: SpecError names any misfit


def sdl() -> str:
    """The schema in SDL, as committed in schema/ctxapi.graphql."""
    return print_schema(schema.graphql_schema) + "\n"
