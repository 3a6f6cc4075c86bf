"""Error codes a client sees in ``errors[].extensions.code``, and how exceptions map to them."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """The codes of ctxapi's GraphQL errors (clients switch on these, never on messages)."""

    BAD_USER_INPUT = "BAD_USER_INPUT"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_REQUEST = "BAD_REQUEST"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    NOT_FOUND = "NOT_FOUND"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


class ClientError(Exception):
    """Raised by resolvers for errors the client caused or should know about."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.BAD_USER_INPUT) -> None:
        super().__init__(message)
        self.code = code
