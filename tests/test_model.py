"""The graph's vocabulary: one place for every closed set, and Cypher that only uses its values."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest

from ctxapi import model
from ctxapi.graphql.fields import Judged, Many, Value, registry
from ctxapi.graphql.proactive import QUEUE
from ctxapi.graphql.schema import schema
from ctxapi.store import graph

#: Which sets a property compared in Cypher takes its values from.
PROPERTIES: dict[str, tuple[type[StrEnum], ...]] = {
    "status": (
        model.OrderStatus, model.ShipmentStatus, model.ReturnStatus, model.CaseStatus,
        model.InteractionStatus,
    ),
    "kind": (
        model.FeedbackKind, model.IdentityKind, model.AddressKind, model.TimelineKind,
        model.ExperienceKind, model.ActionKind,
    ),
    "condition": (model.Condition,),
    "direction": (model.Direction,),
    "channel": (model.Channel, model.SalesChannel),
    "tier": (model.Tier,),
    "code": (model.RiskFactorCode,),
}  # fmt: skip
_NAMES = "|".join(PROPERTIES)
_COMPARED = re.compile(r"\.(" + _NAMES + r")\s*(?:=|<>)\s*'([^']*)'")
_IN_LIST = re.compile(r"\.(" + _NAMES + r")\s+IN\s+\[([^\]]*)\]")
_IN_MAP = re.compile(r"[{,]\s*(" + _NAMES + r"):\s*'([^']*)'")
_CASE = re.compile(
    r"CASE \w+\.(" + _NAMES + r")((?:\s+WHEN\s+'[^']*'\s+THEN\s+[^W]*?)+)(?=\s+ELSE|\s+END)"
)


def literals(text: str) -> list[tuple[str, str]]:
    """Every (property, value) a Cypher text compares a closed-set property with."""
    found = [(m[1], m[2]) for m in _COMPARED.finditer(text)]
    found += [(m[1], m[2]) for m in _IN_MAP.finditer(text)]
    for match in _IN_LIST.finditer(text):
        found += [(match[1], value) for value in re.findall(r"'([^']*)'", match[2])]
    for match in _CASE.finditer(text):
        found += [(match[1], value) for value in re.findall(r"WHEN\s+'([^']*)'", match[2])]
    return found


def unknown(text: str) -> list[tuple[str, str]]:
    """The literals of ``text`` that no set of their property has."""
    return [
        (name, value)
        for name, value in literals(text)
        if not any(value in {member.value for member in kind} for kind in PROPERTIES[name])
    ]


def every_cypher_text() -> list[str]:
    """The fragments of every compiled field and entry, the queue, and the loader's writes."""
    specs = registry(schema.graphql_schema)
    texts = [entry.seek for entry in specs.entries.values()] + [QUEUE]
    for fields in specs.fields.values():
        for spec in fields.values():
            if isinstance(spec, Value):
                texts.append(spec.expr)
            elif isinstance(spec, Many):
                texts += [spec.match, *(spec.order or ()), *spec.filters.values()]
            elif isinstance(spec, Judged):
                texts.append(spec.facts)
    texts += [
        value for value in vars(graph).values() if isinstance(value, str) and "MATCH" in value
    ]
    return texts


def test_cypher_compares_closed_sets_only_with_values_of_the_model() -> None:
    # given every fragment the API and the loader send
    texts = every_cypher_text()
    # when
    found = [literal for text in texts for literal in literals(text)]
    wrong = [literal for text in texts for literal in unknown(text)]
    # then there are many such comparisons, and each uses a value the model has
    assert len(found) > 40
    assert {name for name, _ in found} >= {"status", "kind", "condition", "direction"}
    assert not wrong


@pytest.mark.parametrize(
    "text",
    [
        "WHERE o.status = 'canceled'",
        "MATCH (s:Shipment {condition: 'broken'})",
        "WHERE k.status IN ['open', 'waiting']",
        "CASE f.kind WHEN 'nps' THEN 1 WHEN 'csats' THEN 2 END",
    ],
)
def test_a_misspelt_value_in_cypher_is_found(text: str) -> None:
    assert unknown(text)


def test_members_of_different_sets_keep_their_own_meaning() -> None:
    # given values that two sets share
    # then each member is described by its own set
    assert model.ProactiveReason.UNRESOLVED_CASE.description.startswith("An open case with no")
    assert model.ExperienceKind.UNRESOLVED_CASE.description == "A case still open or pending."
    assert model.Priority.HIGH.description == "Stored as `high`."
    assert model.Level.HIGH.description == "At or above the high threshold."


def test_the_cypher_literals_spell_the_sets() -> None:
    assert model.cypher_list(model.OPEN_CASE_STATUSES) == model.OPEN_CASES
    assert model.may_fall_due("Case", "k") == "k.status IN ['open', 'pending']"
    with pytest.raises(ValueError, match="out of step"):
        model._checked("['open']", model.OPEN_CASE_STATUSES)
