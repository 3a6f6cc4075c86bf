"""GraphQL over HTTP: request rules, limits, cached parse and validation, error masking.

Follows the GraphQL-over-HTTP specification: POST with a JSON body, or GET for queries only;
responses in ``application/graphql-response+json`` when the client accepts it, else
``application/json``. A browser's GET gets GraphiQL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import orjson
from flask import Response, current_app, g, request
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute_sync,
    get_operation_ast,
)

from ctxapi import metrics, ratelimit
from ctxapi.access.audit import AuditUnavailable
from ctxapi.access.guard import Forbidden, Unauthenticated
from ctxapi.access.keys import Scope
from ctxapi.db import BOOKMARKS, QUERY_LOG, REQUEST_ID, DatabaseUnavailable, InvalidBookmarks
from ctxapi.graphql.compiler import precompile
from ctxapi.graphql.context import Context, PiiReads
from ctxapi.graphql.cost import QueryTooComplex
from ctxapi.graphql.documents import DocumentCache
from ctxapi.graphql.errors import ClientError, ErrorCode
from ctxapi.graphql.fast import FastPath, run
from ctxapi.graphql.graphiql import graphiql_page
from ctxapi.limits import Limits

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
RETRY_AFTER_SECONDS = 5
#: The request header that carries bookmarks from a mutation's response (read-your-writes
#: across instances of a cluster deployment).
BOOKMARKS_HEADER = "Ctxapi-Bookmarks"
MAX_BOOKMARKS = 16


class RequestError(Exception):
    """The HTTP request itself is wrong: it is answered without executing anything."""

    def __init__(self, message: str, code: ErrorCode, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class GraphQLView:
    """The ``/graphql`` endpoint."""

    def __init__(self, schema: GraphQLSchema, limits: Limits | None = None) -> None:
        self.schema = schema
        self.limits = limits or Limits()
        self.documents = DocumentCache(schema, self.limits)
        self.fast = FastPath(schema)

    def __call__(self) -> Response:
        """Answer, and count the request by operation and status (ctxapi.metrics)."""
        started = time.perf_counter()
        g.graphql_operation = None
        g.rate_headers = {}
        response = self._answer()
        response.headers.update(g.rate_headers)
        if response.mimetype != "text/html":  # GraphiQL's page is no GraphQL request
            elapsed = time.perf_counter() - started
            metrics.observe_request(g.graphql_operation, response.status_code, elapsed)
        return response

    def _answer(self) -> Response:
        try:
            media_type = self._negotiate()
        except _NotAcceptable:
            message = f"Accept {GRAPHQL_RESPONSE} or {JSON}."
            body = {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
            return self._respond(body, JSON, 406)
        state = current_app.extensions["ctxapi"]
        if media_type is None:
            if state.settings.production:
                message = "GraphiQL is off in production (CTXAPI_ENV=production)."
                body = {"errors": [{"message": message, "extensions": {"code": "NOT_FOUND"}}]}
                return self._respond(body, JSON, 404)
            # A key in the page only for a server on loopback: anyone who can load it has it.
            loopback = state.settings.host in ("127.0.0.1", "localhost", "::1")
            return graphiql_page(state.settings.graphiql_key if loopback else "")
        try:
            g.access = state.auth.authenticate(request.headers.get("Authorization"))
        except Unauthenticated as error:
            response = self._refuse(error, media_type, 401)
            response.headers["WWW-Authenticate"] = error.challenge()
            return response
        except DatabaseUnavailable as error:
            refused = {"message": error.public_message(), "extensions": {"code": "UNAVAILABLE"}}
            response = self._respond({"errors": [refused]}, media_type, 503)
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        decision = state.limiter.check(g.access.key_id, g.access.rate_limit)
        g.rate_headers = ratelimit.headers(decision)
        if not decision.allowed:
            message = (
                f"This key may make {decision.limit} requests a minute on this instance;"
                f" retry in {decision.retry_after} s."
            )
            return self._refuse(ClientError(message, ErrorCode.RATE_LIMITED), media_type, 429)
        try:
            params = self._params()
        except RequestError as error:
            body = {"errors": [{"message": str(error), "extensions": {"code": error.code.value}}]}
            return self._respond(body, media_type, error.status)
        g.graphql_operation = params["operationName"]
        prepared = self.documents.get(params["query"])
        operation = None
        if prepared.document is not None:
            operation = get_operation_ast(prepared.document, params["operationName"])
            if operation is not None and operation.name is not None:
                g.graphql_operation = g.graphql_operation or operation.name.value
        # A mutation over GET is refused as such, before whatever else is wrong with it.
        if request.method == "GET" and operation and operation.operation != OperationType.QUERY:
            return self._method_not_allowed(media_type, operation)
        if prepared.limit is not None:
            metrics.too_complex(prepared.limit)
        if prepared.errors:
            too_complex = prepared.limit is not None
            status = 400 if media_type == GRAPHQL_RESPONSE or too_complex else 200
            errors = [error.formatted for error in prepared.errors]
            return self._respond({"errors": errors}, media_type, status)
        if prepared.document is None or operation is None:
            message = "Cannot tell which operation to run: name it with operationName."
            body = {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
            return self._respond(body, media_type, 400)
        if operation.operation == OperationType.QUERY and not g.access.allows(Scope.CONTEXT_READ):
            return self._refuse(Forbidden(Scope.CONTEXT_READ, g.access.name), media_type, 403)
        try:
            after = _bookmarks(request.headers.get(BOOKMARKS_HEADER))
        except RequestError as error:
            body = {"errors": [{"message": str(error), "extensions": {"code": error.code.value}}]}
            return self._respond(body, media_type, error.status)
        wrote = operation.operation == OperationType.MUTATION
        with _after(after):
            return self._execute(prepared.document, params, media_type, wrote)

    # -- request ---------------------------------------------------------------------------
    def _negotiate(self) -> str | None:
        """The response media type, or None for a browser that wants GraphiQL."""
        accept = request.accept_mimetypes
        wants_page = accept.best_match(["text/html", JSON, GRAPHQL_RESPONSE]) == "text/html"
        if request.method == "GET" and "query" not in request.args and wants_page:
            return None
        if not request.headers.get("Accept"):
            return JSON
        best = accept.best_match([GRAPHQL_RESPONSE, JSON])
        if best is None:
            raise _NotAcceptable()
        # The GraphQL-over-HTTP spec: a client that does not name the new media type (*/*,
        # application/*) SHOULD get application/json, which every client understands.
        named = any(value == GRAPHQL_RESPONSE for value, _quality in accept)
        return best if named else JSON

    def _params(self) -> dict[str, Any]:
        if request.method == "GET":
            raw: Mapping[str, Any] = {
                key: request.args.get(key)
                for key in ("query", "variables", "operationName", "extensions")
            }
            raw = {
                **raw,
                "variables": _json_param(raw["variables"], "variables"),
                "extensions": _json_param(raw["extensions"], "extensions"),
            }
        else:
            if request.mimetype != JSON:
                raise RequestError(
                    "POST bodies must be application/json.", ErrorCode.BAD_REQUEST, 415
                )
            try:
                raw = orjson.loads(request.get_data(cache=False))
            except orjson.JSONDecodeError:
                raise RequestError("The body is not valid JSON.", ErrorCode.BAD_REQUEST) from None
            if not isinstance(raw, dict):
                raise RequestError("The body must be a JSON object.", ErrorCode.BAD_REQUEST)
        query = raw.get("query")
        if not isinstance(query, str) or not query.strip():
            raise RequestError("`query` must be a non-empty string.", ErrorCode.BAD_REQUEST)
        if len(query) > self.limits.max_query_length:
            raise RequestError(
                f"`query` is longer than {self.limits.max_query_length} characters.",
                ErrorCode.BAD_REQUEST,
            )
        for key, kind, label in (
            ("variables", dict, "an object"),
            ("extensions", dict, "an object"),
            ("operationName", str, "a string"),
        ):
            if raw.get(key) is not None and not isinstance(raw[key], kind):
                raise RequestError(f"`{key}` must be {label} or null.", ErrorCode.BAD_REQUEST)
        return {
            "query": query,
            "variables": raw.get("variables") or {},
            "operationName": raw.get("operationName"),
        }

    # -- execution -------------------------------------------------------------------------
    def _execute(
        self, document: DocumentNode, params: dict[str, Any], media_type: str, wrote: bool
    ) -> Response:
        started = time.perf_counter()
        state = current_app.extensions["ctxapi"]
        timings: list[float] = []
        settings, variables, name = state.settings, params["variables"], params["operationName"]
        fast = None
        try:
            if settings.fast_path and not wrote:
                fast = self.fast.queries(
                    params["query"], document, variables, name, settings, g.access
                )
            compiled = (
                {}
                if fast
                else precompile(self.schema, document, variables, name, settings, g.access)
            )
        except QueryTooComplex as error:
            metrics.too_complex(error.limit)
            refused = {"message": str(error), "extensions": {"code": error.code.value}}
            return self._respond({"errors": [refused]}, media_type, 400)
        token, request = QUERY_LOG.set(timings), REQUEST_ID.set(g.request_id)
        reads = PiiReads()
        try:
            result, done = self._fast(fast, state.db, reads) if fast else (None, {})
            if result is None:
                if fast:  # it gave up: graphql-core words the error, with what was read
                    compiled = precompile(
                        self.schema, document, variables, name, settings, g.access
                    )
                    compiled.update(done)
                elif not wrote:
                    metrics.executed("graphql")
                result = self._run(document, params, state, compiled, reads)
        finally:
            QUERY_LOG.reset(token)
            REQUEST_ID.reset(request)
        if reads.customers:
            try:
                state.audit.record(
                    "pii.read",
                    key=g.access.name,
                    keyId=g.access.key_id,
                    requestId=g.request_id,
                    operation=g.graphql_operation,
                    fields=sorted(reads.fields),
                    customers=sorted(reads.customers),
                )
            except AuditUnavailable:
                log.exception("request %s: the audit log cannot be written", g.request_id)
                message = "Personal data cannot be served now: its read cannot be audited."
                refused = {"message": message, "extensions": {"code": "UNAVAILABLE"}}
                return self._respond({"errors": [refused]}, media_type, 503)
        body: dict[str, Any] = {}
        status = 200
        if result.errors:
            body["errors"] = [self._format_error(error) for error in result.errors]
            codes = {error["extensions"]["code"] for error in body["errors"]}
            if ErrorCode.UNAVAILABLE.value in codes:
                status = 503
            elif result.data is None and media_type == GRAPHQL_RESPONSE:
                # Variables that do not coerce fail the request before any field runs.
                status = 400
        body["data"] = result.data
        extensions: dict[str, Any] = {"requestId": g.request_id}
        if wrote:  # another instance's reads see these writes when sent these bookmarks
            extensions["bookmarks"] = state.db.bookmarks()
        if state.settings.debug:
            extensions["timing"] = {"totalMs": round((time.perf_counter() - started) * 1000, 3)}
            extensions["cypher"] = {"queries": len(timings), "ms": round(sum(timings), 3)}
        body["extensions"] = extensions
        response = self._respond(body, media_type, status)
        if status == 503:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    def _fast(
        self, fast: Any, db: Any, reads: PiiReads
    ) -> tuple[ExecutionResult | None, dict[str, Any]]:
        """The answer of the compiled fast path (ctxapi.graphql.fast), None if it gave up; and
        what its root fields came to, for graphql-core to take as they are."""
        plan, queries = fast
        try:
            data, done = run(plan, queries, db.read, g.access.unmasked, reads.record)
        except Exception:
            log.exception("request %s: the fast path failed; graphql-core answers", g.request_id)
            data, done = None, {}
        metrics.executed("gave_up" if data is None else "fast")
        return (None if data is None else ExecutionResult(data=data)), done

    def _run(
        self,
        document: DocumentNode,
        params: dict[str, Any],
        state: Any,
        compiled: Any,
        reads: PiiReads,
    ) -> ExecutionResult:
        context = Context(
            db=state.db,
            settings=state.settings,
            request_id=g.request_id,
            access=g.access,
            compiled=compiled,
            reads=reads,
            audit=state.audit,
        )
        return execute_sync(
            self.schema,
            document,
            variable_values=params["variables"],
            operation_name=params["operationName"],
            context_value=context,
        )

    def _format_error(self, error: GraphQLError) -> dict[str, Any]:
        original = error.original_error
        formatted = dict(error.formatted)
        if original is None:
            code = (error.extensions or {}).get("code", ErrorCode.BAD_USER_INPUT.value)
        elif isinstance(original, ClientError):
            code = original.code.value
        elif isinstance(original, GraphQLError) and error.path is None:
            # A variable that does not coerce (a value outside an enum …) fails the request
            # before any field runs: the client's input. With a path it is a field's own
            # failure (a stored value no enum knows): INTERNAL below, logged.
            code = ErrorCode.BAD_USER_INPUT.value
        elif isinstance(original, InvalidBookmarks):
            code = ErrorCode.BAD_REQUEST.value
            formatted["message"] = (
                f"{BOOKMARKS_HEADER}: {original}; send the bookmarks a mutation's response"
                " gave (extensions.bookmarks)."
            )
        elif isinstance(original, DatabaseUnavailable):
            code = ErrorCode.UNAVAILABLE.value
            formatted["message"] = original.public_message()
        else:
            code = ErrorCode.INTERNAL.value
            formatted["message"] = f"Internal error (request {g.request_id})."
            log.error(
                "request %s: unexpected error at %s",
                g.request_id,
                error.path,
                exc_info=(type(original), original, original.__traceback__),
            )
        formatted["extensions"] = {"code": code}
        return formatted

    def _refuse(self, error: ClientError, media_type: str, status: int) -> Response:
        """A request refused before it runs (401, 403, 429), as a GraphQL error."""
        body = {"errors": [{"message": str(error), "extensions": {"code": error.code.value}}]}
        return self._respond(body, media_type, status)

    @staticmethod
    def _respond(body: dict[str, Any], media_type: str, status: int) -> Response:
        body.setdefault("extensions", {"requestId": g.request_id})
        return Response(orjson.dumps(body), status=status, mimetype=media_type)

    def _method_not_allowed(self, media_type: str, operation: OperationDefinitionNode) -> Response:
        message = f"A {operation.operation.value} cannot be sent with GET; use POST."
        body = {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
        response = self._respond(body, media_type, 405)
        response.headers["Allow"] = "POST"
        return response


@contextmanager
def _after(bookmarks: tuple[str, ...]) -> Iterator[None]:
    """This request's reads wait for ``bookmarks`` (writes made through another instance)."""
    token = BOOKMARKS.set(bookmarks)
    try:
        yield
    finally:
        BOOKMARKS.reset(token)


def _bookmarks(header: str | None) -> tuple[str, ...]:
    """The ``Ctxapi-Bookmarks`` header: bookmarks a mutation's response gave, comma-separated."""
    if not header:
        return ()
    values = tuple(value.strip() for value in header.split(",") if value.strip())
    if len(values) > MAX_BOOKMARKS or any(len(v) > 1000 or not v.isprintable() for v in values):
        raise RequestError(
            f"{BOOKMARKS_HEADER} holds at most {MAX_BOOKMARKS} bookmarks as a mutation's"
            " response gave them (extensions.bookmarks), comma-separated.",
            ErrorCode.BAD_REQUEST,
        )
    return values


class _NotAcceptable(Exception):
    """The client accepts none of the media types this endpoint can answer with."""


def _json_param(value: str | None, name: str) -> Any:
    if value is None or value == "":
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        raise RequestError(f"`{name}` is not valid JSON.", ErrorCode.BAD_REQUEST) from None
