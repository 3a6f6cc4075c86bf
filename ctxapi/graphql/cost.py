"""What one request may cost, bounded before anything reaches Neo4j.

Two gates, both cheap and both answered with ``QUERY_TOO_COMPLEX`` (HTTP 400) naming the limit
and the setting that raises it:

- **The document as written**, before graphql-core validates it (validation is quadratic in
  fields that share a response key): how many fields it has, how often one response key (or
  one fragment) repeats in a selection set once its fragments are merged, and how much work
  expanding fragments takes.
- **The compiled query**, while the compiler walks the selection with the request's variables
  (``Budget``): how deep lists nest in lists (Neo4j's planning time roughly doubles with each
  level), how many lists are selected, how many rows they may return (the product of the page
  sizes along each path, an unpaged list counting as ``list_fan_out``), and how many fields
  are selected in all. Every committed query and documented example stays well inside them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

from ctxapi.graphql.errors import ClientError, ErrorCode
from ctxapi.limits import SETTINGS, Limits


class QueryTooComplex(ClientError):
    """The request is over one of the limits; the message names it and its setting."""

    def __init__(self, what: str, limit: str, bound: int) -> None:
        super().__init__(
            f"The query {what}; the limit is {bound:,} ({SETTINGS[limit]}).",
            ErrorCode.QUERY_TOO_COMPLEX,
        )
        self.limit = limit


# -- the document as written ------------------------------------------------------------------
def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    """The fragments ``document`` defines, by name."""
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def check_document(document: DocumentNode, limits: Limits) -> None:
    """Raise QueryTooComplex when validating ``document`` could take long."""
    fragments = fragments_of(document)
    sets: list[SelectionSetNode] = []
    for definition in document.definitions:
        selection_set = getattr(definition, "selection_set", None)
        if selection_set is not None:
            sets.append(selection_set)
    work = _Work(limits.max_selected * 10)
    while sets:
        selection_set = sets.pop()
        keys: Counter[str] = Counter()
        for field in _merged(selection_set, fragments, work, set(), keys):
            keys[(field.alias or field.name).value] += 1
            if field.selection_set is not None:
                sets.append(field.selection_set)
        repeated = max(keys.values(), default=0)
        if repeated > limits.max_repeats:
            raise QueryTooComplex(
                f"repeats one field or fragment {repeated:,} times in one selection",
                "max_repeats",
                limits.max_repeats,
            )
    written = sum(1 for _ in _fields_as_written(document))
    if written > limits.max_fields:
        raise QueryTooComplex(f"has {written:,} fields", "max_fields", limits.max_fields)


class _Work:
    """Counts the steps of expanding fragments; too many is too complex."""

    def __init__(self, bound: int) -> None:
        self.steps = 0
        self.bound = bound

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.bound:
            raise QueryTooComplex(
                f"expands its fragments into more than {self.bound:,} selections",
                "max_selected",
                self.bound // 10,
            )


def _merged(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    work: _Work,
    open_fragments: set[str],
    keys: Counter[str],
) -> Iterator[FieldNode]:
    """The fields of one selection set with its fragments merged in; a spread is counted in
    ``keys`` as ``...Name`` and followed once (a fragment that spreads itself, which
    validation refuses, is not followed)."""
    for selection in selection_set.selections:
        work.step()
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _merged(selection.selection_set, fragments, work, open_fragments, keys)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            keys["..." + name] += 1
            if keys["..." + name] > 1:
                continue  # the same fragment twice adds nothing; graphql-core merges it too
            fragment = fragments.get(name)
            if fragment is not None and name not in open_fragments:
                inner = open_fragments | {name}
                yield from _merged(fragment.selection_set, fragments, work, inner, keys)


def _fields_as_written(document: DocumentNode) -> Iterator[FieldNode]:
    stack = [getattr(d, "selection_set", None) for d in document.definitions]
    while stack:
        selection_set = stack.pop()
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection
            stack.append(getattr(selection, "selection_set", None))


# -- the compiled query -----------------------------------------------------------------------
class Budget:
    """What the compiler has spent on one request; over a limit raises QueryTooComplex."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.depth = 0
        self.deepest = 0
        self.lists = 0
        self.rows = 0
        self.selected = 0
        self._path_rows = [1]

    def select(self, count: int) -> None:
        """``count`` more fields selected."""
        self.selected += count
        if self.selected > self.limits.max_selected:
            bound = self.limits.max_selected
            raise QueryTooComplex(f"selects {self.selected:,} fields", "max_selected", bound)

    def spend_rows(self, rows: int) -> None:
        """A list of ``rows`` rows that selects nothing further (a judged field's facts)."""
        with self.rows_of(rows):
            pass

    @contextmanager
    def rows_of(self, page: int | None) -> Iterator[None]:
        """Inside a list of ``page`` rows (None: unpaged, counted as ``list_fan_out``)."""
        limits = self.limits
        self.depth += 1
        self.deepest = max(self.deepest, self.depth)
        self.lists += 1
        rows = self._path_rows[-1] * (limits.list_fan_out if page is None else max(page, 1))
        self.rows += rows
        if self.depth > limits.max_list_depth:
            raise QueryTooComplex(
                f"nests lists {self.depth} deep", "max_list_depth", limits.max_list_depth
            )
        if self.lists > limits.max_lists:
            raise QueryTooComplex(f"selects {self.lists} lists", "max_lists", limits.max_lists)
        if self.rows > limits.max_rows:
            raise QueryTooComplex(f"may return {self.rows:,} rows", "max_rows", limits.max_rows)
        self._path_rows.append(rows)
        try:
            yield
        finally:
            self._path_rows.pop()
            self.depth -= 1
