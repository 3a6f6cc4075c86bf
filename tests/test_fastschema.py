"""The record schemas' fast path: the same record as marshmallow's, or no answer at all."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from ctxapi.seeding.generate import Generator
from ctxapi.store.fastschema import compile_schema
from ctxapi.store.graph import RECORD_TYPES, RecordType

#: Values a field may be given instead of its own: wrong types, empty, near misses.
ODD: st.SearchStrategy[Any] = st.sampled_from(
    [None, "", " ", "x", "0", "1.5", "true", "EUR", "eur", "US", "-1", 0, 1, -1, 2**70, 1.5,
     -0.5, 7.0, True, False, [], {}, [{}], {"kind": "email"}, "2026-01-01T00:00:00",
     "2026-01-01T00:00:00Z", "2026-01-01T00:00:00+25:00", "2026-02-30T00:00:00Z", "12.999",
     "1e3", " 12.50", "nan", "open", "email", "+1 202 555 0100", "a@b.example"]
)  # fmt: skip


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """A few generated records of every type, as the loader reads them."""
    folder = tmp_path_factory.mktemp("generated")
    Generator(60, seed=5).run(folder)
    return {
        t.name: [orjson.loads(line) for line in Path(folder, f"{t.name}.jsonl").read_bytes()
                 .splitlines()[:80]]
        for t in RECORD_TYPES
    }  # fmt: skip


def _both(record_type: RecordType, data: dict[str, Any]) -> tuple[Any, Any]:
    """(the fast path's answer, marshmallow's record or its ValidationError)."""
    schema = record_type.schema()
    given_data = copy.deepcopy(data)
    fast = compile_schema(schema)
    assert fast is not None, record_type.name
    quick = fast(given_data)
    assert given_data == data, "the fast path changed its input"
    try:
        return quick, schema.load(copy.deepcopy(data))
    except ValidationError as error:
        return quick, error


def _same(left: Any, right: Any) -> bool:
    """Equal, and of the same types all the way down (1 is not 1.0 nor True here)."""
    return bool(_exact(left) == _exact(right))


def _exact(value: Any) -> Any:
    if isinstance(value, dict):
        return sorted((key, _exact(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_exact(item) for item in value]
    return type(value).__name__, repr(value)


def test_every_generated_record_takes_the_fast_path_to_marshmallows_record(
    generated: dict[str, list[dict[str, Any]]],
) -> None:
    for record_type in RECORD_TYPES:
        for data in generated[record_type.name]:
            # when
            quick, slow = _both(record_type, data)
            # then: plain records are answered, and exactly as marshmallow answers them
            assert quick is not None, (record_type.name, data)
            assert _same(quick, slow), (record_type.name, quick, slow)


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_an_odd_record_gets_marshmallows_answer_or_none(
    generated: dict[str, list[dict[str, Any]]], data: st.DataObject
) -> None:
    # given: a generated record with some fields changed, dropped or added, or all as text
    record_type = data.draw(st.sampled_from(RECORD_TYPES))
    record = copy.deepcopy(data.draw(st.sampled_from(generated[record_type.name])))
    names = [*sorted(record_type.schema().fields), "op", "unknownField"]
    for name in data.draw(st.lists(st.sampled_from(names), max_size=3)):
        if data.draw(st.booleans()):
            record[name] = copy.deepcopy(data.draw(ODD))
        else:
            record.pop(name, None)
    if record_type.csv and data.draw(st.booleans()):
        record = {k: v if isinstance(v, str) else str(v) for k, v in record.items()}
    # when
    quick, slow = _both(record_type, record)
    # then: the fast path never takes what marshmallow refuses, nor loads it otherwise
    if quick is not None:
        assert not isinstance(slow, ValidationError), (record_type.name, record, slow)
        assert _same(quick, slow), (record_type.name, record)
