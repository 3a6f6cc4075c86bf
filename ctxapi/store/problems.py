"""What a write refuses, in the caller's terms: a field path, a message, a code.

The API returns these as the payload's ``userErrors`` (nothing is written when there is one);
the loader's rejects say the same things in its own file. Messages name ids, never personal
data (an email, a phone number, a name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ProblemCode(StrEnum):
    """Why a mutation refused its input; clients switch on these, never on messages."""

    #: A value that is not valid (out of range, malformed, not one of a set).
    INVALID = "INVALID"
    #: A field the write needs is missing.
    REQUIRED = "REQUIRED"
    #: A record the input names does not exist (or is of a brand the key does not see).
    NOT_FOUND = "NOT_FOUND"
    #: A record the input names belongs to another customer.
    NOT_THE_CUSTOMERS = "NOT_THE_CUSTOMERS"
    #: An identifier several customers share: the message lists their ids; ask who is speaking.
    AMBIGUOUS_IDENTITY = "AMBIGUOUS_IDENTITY"
    #: The idempotency key was used before for a different request.
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    #: The graph's state forbids the write (e.g. merging a customer into itself).
    CONFLICT = "CONFLICT"

    @property
    def description(self) -> str:
        """What the code means (the GraphQL enum shows it)."""
        return MEANINGS[self.value]


#: What each code means, for the GraphQL enum's descriptions.
MEANINGS: dict[str, str] = {
    "INVALID": "A value is not valid (out of range, malformed, not one of a set).",
    "REQUIRED": "A field the write needs is missing.",
    "NOT_FOUND": "A record the input names does not exist, or is of a brand the key does not see.",
    "NOT_THE_CUSTOMERS": "A record the input names belongs to another customer.",
    "AMBIGUOUS_IDENTITY": "An identifier several customers share; the message lists their ids:"
    " ask who is speaking and name the customer.",
    "IDEMPOTENCY_CONFLICT": "The idempotency key was used before for a different request.",
    "CONFLICT": "The graph's state forbids the write (merging a customer into itself …).",
}


@dataclass(frozen=True)
class Problem:
    """One reason a write is refused: where in the input (``field``), why, and its code."""

    field: tuple[str, ...]
    message: str
    code: ProblemCode

    def as_dict(self) -> dict[str, Any]:
        return {"field": list(self.field), "message": self.message, "code": self.code}


class Refused(Exception):
    """Raised inside a write transaction to roll it back with the caller's problems."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def refused(field: str, message: str, code: ProblemCode) -> Refused:
    """Refused for one problem of one input field (``["input", field]``)."""
    return Refused([Problem(("input", field), message, code)])


def from_validation(
    messages: Mapping[str, Any], prefix: tuple[str, ...], names: Mapping[str, str]
) -> list[Problem]:
    """marshmallow's messages (``{"summary": ["Missing data …"]}``, nested for lists and
    objects) as problems; ``names`` maps a record's field to the input's (``case`` →
    ``caseId``)."""
    problems: list[Problem] = []
    for key, value in messages.items():
        path = (*prefix, names.get(str(key), str(key)))
        if key == "_schema":
            path = prefix
        if isinstance(value, Mapping):
            problems += from_validation(value, path, {})
            continue
        for message in value if isinstance(value, list) else [value]:
            if isinstance(message, Mapping):
                problems += from_validation(message, path, {})
                continue
            text = str(message)
            code = ProblemCode.REQUIRED if text.startswith("Missing data") else ProblemCode.INVALID
            problems.append(Problem(path, text, code))
    return problems
