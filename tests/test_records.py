"""The record schemas: their rules, and seed/README.md documenting exactly their fields."""

from __future__ import annotations

import re

import pytest
from marshmallow import ValidationError

from ctxapi.config import PROJECT_ROOT
from ctxapi.money import format_minor_units
from ctxapi.store.graph import RECORD_TYPES
from ctxapi.store.records import (
    FeedbackRecord,
    OrderRecord,
    ReturnRecord,
    ShipmentRecord,
    to_minor_units,
)


def _documented_fields() -> dict[str, list[str]]:
    """Field names per ``## <type>`` section of seed/README.md, from its table's first column."""
    sections = re.split(r"^## ", (PROJECT_ROOT / "seed" / "README.md").read_text(), flags=re.M)
    found = {}
    for section in sections[1:]:
        name, _, body = section.partition("\n")
        rows = re.findall(r"^\| `([A-Za-z0-9]+)` \|", body, flags=re.M)
        if rows:
            found[name.strip()] = rows
    return found


def test_seed_readme_documents_every_field_of_every_record_type() -> None:
    documented = _documented_fields()
    for record_type in RECORD_TYPES:
        assert sorted(documented[record_type.name]) == sorted(record_type.schema().fields), (
            record_type.name
        )


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("129.90", "EUR", 12990), ("0.05", "EUR", 5), ("1500", "JPY", 1500), ("1.234", "KWD", 1234)],
)
def test_money_is_exact_minor_units(amount: str, currency: str, minor: int) -> None:
    assert to_minor_units(amount, currency) == minor
    assert format_minor_units(minor, currency) == amount


def test_money_with_too_many_decimals_or_as_a_float_is_refused() -> None:
    with pytest.raises(ValidationError, match="more than 0 decimals for JPY"):
        to_minor_units("10.5", "JPY")
    order = {
        "id": "O1", "customer": "C1", "number": "1", "placedAt": "2026-01-01T00:00:00Z",
        "status": "paid", "total": 10.5, "currency": "EUR",
    }  # fmt: skip
    with pytest.raises(ValidationError) as error:
        OrderRecord().load_record(order)
    assert error.value.messages == {"total": ['write amounts as decimal strings, e.g. "129.90"']}


@pytest.mark.parametrize(
    ("kind", "score", "ok"),
    [("csat", 5, True), ("csat", 6, False), ("nps", 0, True), ("nps", 11, False),
     ("ces", 7, True), ("ces", 0, False), ("review", 4.5, False)],
)  # fmt: skip
def test_feedback_scores_follow_their_scale(kind: str, score: float, ok: bool) -> None:
    record = {"id": "F", "customer": "C", "kind": kind, "score": score,
              "submittedAt": "2026-01-01T00:00:00Z"}  # fmt: skip
    if ok:
        assert FeedbackRecord().load_record(record)["score"] == score
    else:
        with pytest.raises(ValidationError, match="score"):
            FeedbackRecord().load_record(record)


def test_conditional_fields() -> None:
    shipment = {"id": "S", "order": "O", "carrier": "DHL", "status": "delivered"}
    with pytest.raises(ValidationError, match="required when status is delivered"):
        ShipmentRecord().load_record(shipment)
    refund = {"id": "R", "order": "O", "reason": "size", "status": "refunded",
              "requestedAt": "2026-01-01T00:00:00Z", "refundAmount": "5.00"}  # fmt: skip
    with pytest.raises(ValidationError) as error:
        ReturnRecord().load_record(refund)
    assert error.value.messages == {"currency": ["required when refundAmount is given"]}


def test_timestamps_need_a_zone() -> None:
    order = {"id": "O1", "customer": "C1", "number": "1", "placedAt": "2026-01-01T10:00:00",
             "status": "paid", "total": "1.00", "currency": "EUR"}  # fmt: skip
    with pytest.raises(ValidationError, match="placedAt"):
        OrderRecord().load_record(order)
