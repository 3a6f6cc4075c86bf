"""The two kinds of fixed fragment the compiler assembles queries from."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Value:
    """A scalar read from the node ``{v}``; ``money`` pairs ``[minor units, currency]``."""

    expr: str
    money: bool = False


@dataclass(frozen=True)
class Many:
    """A list reached from ``{v}``: rows ``{c}`` of ``target``, newest first by ``order``.

    ``filters`` maps a GraphQL argument to a condition on ``{c}`` using ``{p}`` for its value.
    A ``connection`` is paginated with ``first``/``after``; ``one`` keeps the first row only;
    ``ascending`` lists oldest (or lowest) first, for addresses, lines and parcels.
    """

    match: str
    target: str
    order: tuple[str, str] | None = None
    filters: dict[str, str] = field(default_factory=dict)
    connection: bool = False
    one: bool = False
    ascending: bool = False
    #: Parameters from the request context the fragment reads (``$__now``, ``$__t`` …).
    needs: tuple[str, ...] = ()


Spec = Value | Many
