"""Parsed and validated GraphQL documents, cached by query text (ctxapi.graphql.view)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate

from ctxapi.graphql.cost import QueryTooComplex, check_document
from ctxapi.graphql.errors import ErrorCode
from ctxapi.limits import Limits


@dataclass(frozen=True)
class Prepared:
    """A query's parsed document (None if it does not parse) and its parse/validation errors;
    ``limit`` names the limit of a document refused as QUERY_TOO_COMPLEX."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...] = ()
    limit: str | None = None


class DocumentCache:
    """Parsed and validated documents by query text (LRU), so a repeated query skips both."""

    def __init__(self, schema: GraphQLSchema, limits: Limits, size: int = 512) -> None:
        self.schema = schema
        self.limits = limits
        self.size = size
        self._entries: OrderedDict[str, Prepared] = OrderedDict()
        self._lock = Lock()

    def get(self, query: str) -> Prepared:
        """``query`` parsed and validated, from the cache when it was seen before."""
        with self._lock:
            entry = self._entries.get(query)
            if entry is not None:
                self._entries.move_to_end(query)
                return entry
        entry = self._load(query)
        with self._lock:
            self._entries[query] = entry
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return entry

    def _load(self, query: str) -> Prepared:
        try:
            document = parse(query, no_location=False, max_tokens=self.limits.max_tokens)
        except GraphQLError as syntax_error:
            syntax_error.extensions = {"code": ErrorCode.GRAPHQL_PARSE_FAILED.value}
            return Prepared(None, (syntax_error,))
        try:
            check_document(document, self.limits)
        except QueryTooComplex as too_complex:
            error = GraphQLError(str(too_complex), extensions={"code": too_complex.code.value})
            return Prepared(None, (error,), too_complex.limit)
        errors = validate(self.schema, document)
        for error in errors:
            error.extensions = {"code": ErrorCode.GRAPHQL_VALIDATION_FAILED.value}
        return Prepared(document, tuple(errors))
