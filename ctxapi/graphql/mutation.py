"""What every mutation shares: ``verbNoun(input: VerbNounInput!): VerbNounPayload!``.

A mutation is declared with ``mutation()``: its payload type (``Payload`` fields plus what it
wrote, read back with ``written()``), its input type (with ``idempotencyKey``), the scope it
needs, and a ``plan`` that turns the input into the work of one write transaction
(``ctxapi.store``). The resolver checks the scope (a missing one is a top-level FORBIDDEN
error), runs the work once through the ledger (``ctxapi.store.ledger``: idempotency, the
audit record in the graph, the outbox), writes the audit log line, and answers the payload:
the ids the ``written()`` fields read back, ``userErrors`` (the caller's mistakes; nothing was
written) and ``replayed``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

import graphene
from graphql import GraphQLResolveInfo

from ctxapi.access.audit import AuditUnavailable
from ctxapi.access.guard import Forbidden
from ctxapi.access.keys import Scope
from ctxapi.graphql.context import Context
from ctxapi.store.ledger import Outcome, Request, Work, perform
from ctxapi.store.problems import Problem, ProblemCode, Refused

log = logging.getLogger(__name__)

#: The longest idempotency key accepted (a UUID is 36 characters).
MAX_IDEMPOTENCY_KEY = 200

UserErrorCode = graphene.Enum.from_enum(ProblemCode, name="UserErrorCode")


class UserError(graphene.ObjectType):
    """A mistake in a mutation's input: the mutation wrote nothing."""

    field = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description='The path to the input field at fault, e.g. ["input", "summary"].',
    )
    message = graphene.String(required=True, description="What is wrong, for a person.")
    code = graphene.Field(UserErrorCode, required=True, description="What is wrong, for code.")


class Payload(graphene.ObjectType):
    """Fields every payload has."""

    class Meta:
        abstract = True

    user_errors = graphene.List(
        graphene.NonNull(UserError),
        required=True,
        description="The caller's mistakes; when there is one, nothing was written.",
    )
    replayed = graphene.Boolean(
        required=True,
        description="True when this idempotency key was used before for the same request:"
        " nothing new was written and the result is the first request's.",
    )


def idempotency_key() -> graphene.String:
    """The ``idempotencyKey`` field every mutation input has."""
    return graphene.String(
        required=True,
        description="A key the client makes for this request (a UUID): sending the same request"
        " with it again returns the first result and writes nothing; another request with it"
        f" is an IDEMPOTENCY_CONFLICT. 1 to {MAX_IDEMPOTENCY_KEY} characters, per API key.",
    )


Plan = Callable[[dict[str, Any], Context], Work]


def mutation(
    payload: type[Payload],
    input_type: type[graphene.InputObjectType],
    plan: Plan,
    *,
    scope: Scope,
    description: str,
) -> graphene.Field:
    """A mutation field: ``input`` in, ``payload`` out, ``plan`` doing the work."""

    def resolve(_root: Any, info: GraphQLResolveInfo, input: Any) -> dict[str, Any]:
        context: Context = info.context
        operation = info.field_name  # the mutation's own name, whichever payload it shares
        if not context.access.allows(scope):
            raise Forbidden(scope, context.access.name)
        data = plain(input)
        key = data.get("idempotency_key") or ""
        if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
            message = f"an idempotency key is 1 to {MAX_IDEMPOTENCY_KEY} characters"
            problem = Problem(("input", "idempotencyKey"), message, ProblemCode.INVALID)
            return answer(Outcome(None, [problem]))
        request = Request(
            operation=operation,
            idempotency_key=key,
            input=data,
            key_id=context.access.key_id,
            key_name=context.access.name,
            request_id=context.request_id,
            at=datetime.fromisoformat(context.settings.now()),
        )
        try:
            work = plan(data, context)
        except Refused as refused:
            outcome = Outcome(None, refused.problems)
        else:
            outcome = perform(context.db, request, work)
        audit(context, operation, outcome)
        return answer(outcome)

    return graphene.Field(
        payload,
        required=True,
        input=graphene.Argument(input_type, required=True, description="What to write."),
        resolver=resolve,
        description=description + f" Needs the scope {scope.value}.",
    )


def plain(value: Any) -> Any:
    """Graphene's input objects and enums as plain dicts, lists and stored values."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value


def answer(outcome: Outcome) -> dict[str, Any]:
    """The payload as the default resolvers read it (keys are the fields' GraphQL names)."""
    return {
        **(outcome.result or {}),
        "userErrors": [problem.as_dict() for problem in outcome.problems],
        "replayed": outcome.replayed,
    }


def audit(context: Context, operation: str, outcome: Outcome) -> None:
    """One audit log line per mutation: written, replayed or refused (with codes, no values).
    The committed write's own record is in the graph (its Write node); a log that cannot be
    written is logged, and the write stands."""
    if context.audit is None:
        return
    if outcome.result is None:
        status, extra = "refused", {"codes": sorted({p.code.value for p in outcome.problems})}
    else:
        status, extra = ("replayed" if outcome.replayed else "written"), {}
    try:
        context.audit.record(
            "write",
            key=context.access.name,
            keyId=context.access.key_id,
            requestId=context.request_id,
            operation=operation,
            outcome=status,
            customers=sorted(outcome.customers),
            **extra,
        )
    except AuditUnavailable:
        log.error("request %s: the audit log cannot be written", context.request_id)
