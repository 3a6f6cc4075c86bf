"""The record schemas: their rules, and seed/README.md documenting exactly their fields."""

from __future__ import annotations

import re
from typing import Any

import pytest
from marshmallow import ValidationError

from ctxapi.config import PROJECT_ROOT
from ctxapi.money import format_minor_units
from ctxapi.store import ops
from ctxapi.store.graph import BY_NAME, RECORD_TYPES
from ctxapi.store.ops import Op
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


# -- delta records: the op and what a patch or a delete validates ----------------------------
def _validate(type_name: str, data: dict[str, Any]) -> tuple[Op, dict[str, Any]]:
    record_type = BY_NAME[type_name]
    return ops.validate(record_type, record_type.schema(), data)


def test_an_upsert_with_or_without_op_is_todays_record() -> None:
    order = {"id": "O1", "customer": "C1", "number": "1", "placedAt": "2026-01-01T10:00:00Z",
             "status": "paid", "total": "1.00", "currency": "EUR"}  # fmt: skip
    assert _validate("orders", order) == (Op.UPSERT, OrderRecord().load_record(order))
    assert _validate("orders", order | {"op": "upsert"}) == _validate("orders", order | {"op": ""})


@pytest.mark.parametrize(
    ("type_name", "data", "errors"),
    [
        ("orders", {"op": "Patch", "id": "O1"}, {"op": ["one of upsert, patch, delete"]}),
        ("orders", {"op": "patch", "status": "paid"}, {"id": ["Missing data for required field."]}),
        ("orders", {"op": "patch", "id": "O1", "total": "2.00"},
         {"currency": ["required when total is given"]}),
        ("orders", {"op": "patch", "id": "O1",
                    "items": [{"product": "P1", "quantity": 1, "unitPrice": "1.00"}]},
         {"currency": ["required when items are given"]}),
        ("returns", {"op": "patch", "id": "R1", "status": "refunded"},
         {"refundedAt": ["required when status is refunded"]}),
        ("feedback", {"op": "patch", "id": "F1", "kind": "nps"},
         {"score": ["required in a patch that gives kind"]}),
        ("feedback", {"op": "patch", "id": "F1", "kind": "ces", "score": 9},
         {"score": ["a ces score is 1 to 7, got 9"]}),
        ("identities", {"op": "delete", "customer": "C1", "kind": "email"},
         {"value": ["Missing data for required field."]}),
    ],
)  # fmt: skip
def test_a_patch_or_delete_is_checked_on_what_it_gives(
    type_name: str, data: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    with pytest.raises(ValidationError) as error:
        _validate(type_name, data)
    assert error.value.messages == errors


def test_a_patch_keeps_only_what_it_gives_and_a_delete_only_its_key() -> None:
    assert _validate("customers", {"op": "patch", "id": "C1", "locale": "fr", "tier": ""}) == (
        Op.PATCH,
        {"id": "C1", "locale": "fr"},  # no default tier: an absent field stays as stored
    )
    assert _validate(
        "identities",
        {"op": "delete", "customer": "C1", "kind": "email", "value": " A@X.io", "source": "crm"},
    ) == (Op.DELETE, {"customer": "C1", "kind": "email", "value": "a@x.io"})
