"""A fast path of the record schemas for the records that are plainly valid.

marshmallow spends most of a load's validation time on its own machinery (error stores,
validator chains built per value, hooks looked up per record), not on the checks. ``compile``
turns a schema instance into one function that walks the same fields, with the same
conversions, the same validators (called directly) and the same ``validates_schema`` and
``post_load`` hooks, and gives up (``None``) at the first thing it does not take plainly: a
value of another type than JSON gives for the field, a field missing or unknown, a validator or
hook that fails. The caller then asks marshmallow, which gives the same record or the errors
in its own words; so the fast path only ever saves time, and the schema stays the one source
of truth (``tests/test_records.py`` compares both on every record type).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, missing
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

#: A compiled schema: the loaded record, or None when marshmallow must decide.
Check = Callable[[dict[str, Any]], dict[str, Any] | None]
Convert = Callable[[Any], Any]


class _GiveUp(Exception):
    """Not plainly valid: marshmallow decides (and words the errors)."""


def compile_schema(schema: Schema) -> Check | None:
    """The fast path of ``schema`` (an instance, bound to its settings), or None when it has
    something the fast path does not mirror (then every record goes through marshmallow)."""
    try:
        load = _record(schema)
    except _GiveUp:
        return None

    def check(data: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return load(data)
        except (_GiveUp, ValidationError, ArithmeticError, LookupError, TypeError, ValueError):
            return None

    return check


def _record(schema: Schema) -> Callable[[dict[str, Any]], dict[str, Any]]:
    hooks = schema._hooks  # marshmallow's own record of the decorated hooks
    if hooks[PRE_LOAD] or hooks[VALIDATES] or schema.many or schema.partial:
        raise _GiveUp
    if any(many or kw.get("pass_original") for tag in (POST_LOAD, VALIDATES_SCHEMA)
           for _, many, kw in hooks[tag]):  # fmt: skip
        raise _GiveUp
    validators = [getattr(schema, name) for name, _, _ in hooks[VALIDATES_SCHEMA]]
    processors = [getattr(schema, name) for name, _, _ in hooks[POST_LOAD]]
    plan = [_field(name, field) for name, field in schema.load_fields.items()]
    known = frozenset(name for name, *_ in plan)
    unknown = schema.unknown
    kw = {"many": False, "partial": None, "unknown": unknown}

    def load(data: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(data, dict) or (unknown == "raise" and not known.issuperset(data)):
            raise _GiveUp
        record: dict[str, Any] = {}
        for name, convert, required, default in plan:
            value = data.get(name, missing)
            if value is missing:
                if required:
                    raise _GiveUp
                if default is not missing:
                    record[name] = default() if callable(default) else default
                continue
            record[name] = convert(value)
        for validate in validators:
            validate(record, **kw)
        for process in processors:
            record = process(record, **kw)
        return record

    return load


def _field(name: str, field: fields.Field[Any]) -> tuple[str, Convert, bool, Any]:
    if field.data_key not in (None, name) or field.attribute not in (None, name):
        raise _GiveUp
    if field.pre_load or field.post_load or field.allow_none:
        raise _GiveUp
    return name, _converter(field), field.required, field.load_default


def _converter(field: fields.Field[Any]) -> Convert:
    """``value`` → the field's output, exactly as ``field.deserialize`` makes it, or _GiveUp."""
    base = _base(field)
    checks = tuple(field.validators)
    if not checks:
        return base

    def convert(value: Any) -> Any:
        output = base(value)
        for check in checks:
            check(output)
        return output

    return convert


def _base(field: fields.Field[Any]) -> Convert:
    kind = type(field)  # exactly these classes: a subclass (Money …) may deserialize otherwise
    if kind is fields.String:
        return _string
    if isinstance(field, fields.Integer) and kind is fields.Integer and field.strict:
        return _integer
    if isinstance(field, fields.Float) and kind is fields.Float and not field.allow_nan:
        return _float
    if kind is fields.Boolean:
        return _boolean
    if (
        isinstance(field, fields.AwareDateTime)
        and kind is fields.AwareDateTime
        and field.format in (None, "iso")
        and field.default_timezone is None
    ):
        return _aware
    if (
        isinstance(field, fields.Nested)
        and kind is fields.Nested
        and not field.many
        and (field.unknown is None)
    ):
        nested = field.schema
        if isinstance(nested, Schema):
            return _nested(_record(nested))
    if isinstance(field, fields.List) and kind is fields.List:
        inner = _converter(field.inner)
        return lambda value: [inner(item) for item in value] if type(value) is list else _no()
    # Any other field (Money …): its own deserialize, validators and all, still exact.
    deserialize = field.deserialize
    return lambda value: deserialize(value)


def _no() -> Any:
    raise _GiveUp


def _string(value: Any) -> str:
    if type(value) is not str:
        raise _GiveUp
    return value


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise _GiveUp
    return value


def _float(value: Any) -> float:
    if type(value) is not float and type(value) is not int:
        raise _GiveUp
    number = float(value)
    if not math.isfinite(number):
        raise _GiveUp
    return number


def _boolean(value: Any) -> bool:
    if value is not True and value is not False:
        raise _GiveUp
    return value


def _aware(value: Any) -> datetime:
    if type(value) is not str:
        raise _GiveUp
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise _GiveUp
    return moment


def _nested(load: Callable[[dict[str, Any]], dict[str, Any]]) -> Convert:
    return lambda value: load(value) if type(value) is dict else _no()
