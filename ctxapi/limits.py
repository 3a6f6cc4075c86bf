"""The bounds on what one GraphQL request may cost (enforced by ctxapi.graphql.cost)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """The bounds; each is a setting (README, "Configuration")."""

    max_tokens: int = 1000  # CTXAPI_MAX_TOKENS: lexical tokens (the headline query has 231)
    max_query_length: int = 20_000  # CTXAPI_MAX_QUERY_LENGTH: characters of the document
    max_fields: int = 500  # CTXAPI_MAX_FIELDS: field selections as written
    max_repeats: int = 5  # CTXAPI_MAX_REPEATS: one response key or fragment in one selection
    max_list_depth: int = 4  # CTXAPI_MAX_LIST_DEPTH: lists nested in lists
    max_lists: int = 40  # CTXAPI_MAX_LISTS: list fields selected
    max_rows: int = 10_000  # CTXAPI_MAX_ROWS: rows all lists may return together
    max_selected: int = 1_000  # CTXAPI_MAX_SELECTED: fields selected, fragments expanded
    list_fan_out: int = 20  # what an unpaged list (identities, lines, parcels …) counts as


#: The environment variable of each limit, for messages and configuration.
SETTINGS = {
    "max_tokens": "CTXAPI_MAX_TOKENS",
    "max_query_length": "CTXAPI_MAX_QUERY_LENGTH",
    "max_fields": "CTXAPI_MAX_FIELDS",
    "max_repeats": "CTXAPI_MAX_REPEATS",
    "max_list_depth": "CTXAPI_MAX_LIST_DEPTH",
    "max_lists": "CTXAPI_MAX_LISTS",
    "max_rows": "CTXAPI_MAX_ROWS",
    "max_selected": "CTXAPI_MAX_SELECTED",
    "list_fan_out": "CTXAPI_LIST_FAN_OUT",
}
