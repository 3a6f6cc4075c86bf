"""One marshmallow schema per record type: the single source of truth of the input format.

seed/README.md documents the same fields for people; ``tests/test_records.py`` keeps the two
in step. Loaded records are plain dicts: timestamps as aware datetimes, money as integer
minor units (``12990`` for 129.90 EUR) with its currency, identities normalized.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from ctxapi import model as m
from ctxapi import money
from ctxapi.identity import IdentityError, normalize


def _values(kind: type[StrEnum]) -> tuple[str, ...]:
    """The stored values of a closed set of the model, for ``validate.OneOf``."""
    return tuple(member.value for member in kind)


CHANNELS = _values(m.Channel)
DIRECTIONS = _values(m.Direction)
TIERS = _values(m.Tier)
ORDER_STATUSES = _values(m.OrderStatus)
ORDER_CHANNELS = _values(m.SalesChannel)
SHIPMENT_STATUSES = _values(m.ShipmentStatus)
CONDITIONS = _values(m.Condition)
RETURN_STATUSES = _values(m.ReturnStatus)
CASE_STATUSES = _values(m.CaseStatus)
PRIORITIES = _values(m.Priority)
INTERACTION_STATUSES = _values(m.InteractionStatus)
FEEDBACK_KINDS = _values(m.FeedbackKind)
ADDRESS_KINDS = _values(m.AddressKind)
IDENTITY_KINDS = _values(m.IdentityKind)
ABOUT_TYPES = m.ABOUT_TYPES
RATES_TYPES = m.RATES_TYPES
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def to_minor_units(amount: str, currency: str) -> int:
    """The model's ``to_minor_units``, its error as a marshmallow ValidationError."""
    try:
        return money.to_minor_units(amount, currency)
    except money.MoneyError as error:
        raise ValidationError(str(error)) from None


class Money(fields.String):
    """A decimal amount written as a string (``"129.90"``), never a float."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValidationError('write amounts as decimal strings, e.g. "129.90"')
        text = str(value).strip()
        if not re.fullmatch(r"-?\d+(\.\d+)?", text):
            raise ValidationError(f"{value!r} is not a decimal amount")
        return text


Timestamp = fields.AwareDateTime  # ISO-8601 with a zone; a naive time is rejected


def _id() -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=200))


def _ref(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=200), **kwargs)


def _currency(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Regexp(_CURRENCY, error="not an ISO 4217 code such as EUR"), **kwargs
    )


class RecordSchema(Schema):
    """Common rules: unknown fields are errors; an empty CSV cell counts as absent."""

    class Meta:
        unknown = RAISE

    def load_record(self, data: dict[str, Any]) -> dict[str, Any]:
        """Validate one record; raise ValidationError with every field's problems."""
        return self.load({k: v for k, v in data.items() if v != ""})  # type: ignore[no-any-return]


def _money_fields(record: dict[str, Any], amount_key: str, target: str) -> None:
    """Replace ``record[amount_key]`` (a decimal string) with ``record[target]`` in minor units."""
    amount = record.pop(amount_key, None)
    if amount is None:
        return
    currency = record.get("currency")
    if currency is None:
        raise ValidationError({"currency": [f"required when {amount_key} is given"]})
    try:
        record[target] = to_minor_units(amount, currency)
    except ValidationError as error:
        raise ValidationError({amount_key: error.messages}) from None


class BrandRecord(RecordSchema):
    """A brand of the retailer; every customer belongs to one."""

    id = _id()
    name = fields.String(required=True, validate=validate.Length(min=1))


class AgentRecord(RecordSchema):
    """A support agent (or a bot, with ``bot: true``)."""

    id = _id()
    name = fields.String(required=True, validate=validate.Length(min=1))
    team = fields.String()
    bot = fields.Boolean(load_default=False)


class ProductRecord(RecordSchema):
    """A product by SKU."""

    id = _id()
    name = fields.String(required=True, validate=validate.Length(min=1))
    category = fields.String()
    price = Money()
    currency = _currency()

    @post_load
    def money(self, record: dict[str, Any], **_: Any) -> dict[str, Any]:
        _money_fields(record, "price", "priceMinor")
        return record


class CustomerRecord(RecordSchema):
    """A customer of one brand."""

    id = _id()
    brand = _ref(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    tier = fields.String(load_default="standard", validate=validate.OneOf(TIERS))
    locale = fields.String(validate=validate.Length(min=2, max=35))
    createdAt = Timestamp()  # noqa: N815 - field names are the file format's


class AddressRecord(RecordSchema):
    """A postal address a customer lives at or ships to."""

    id = _id()
    customer = _ref(required=True)
    kind = fields.String(load_default="shipping", validate=validate.OneOf(ADDRESS_KINDS))
    line1 = fields.String(required=True)
    line2 = fields.String()
    city = fields.String(required=True)
    postalCode = fields.String()  # noqa: N815
    region = fields.String()
    country = fields.String(
        required=True, validate=validate.Regexp(r"^[A-Z]{2}$", error="an ISO 3166 code, e.g. DE")
    )


class IdentityRecord(RecordSchema):
    """An identifier (email, phone, handle …) linked to a customer, with where the link came from.

    Keyed by (kind, normalized value, customer): the same identity may identify several
    customers (a family landline), each link with its own provenance.
    """

    customer = _ref(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(IDENTITY_KINDS))
    value = fields.String(required=True)
    region = fields.String(validate=validate.Regexp(r"^[A-Za-z]{2}$"))
    source = fields.String(load_default="import")
    confidence = fields.Float(load_default=1.0, validate=validate.Range(0.0, 1.0))
    linkedAt = Timestamp()  # noqa: N815

    #: The default region for phone numbers without a country code (set by the loader).
    phone_region = "US"

    @post_load
    def normalized(self, record: dict[str, Any], **_: Any) -> dict[str, Any]:
        region = record.pop("region", None) or self.phone_region
        try:
            record["value"] = normalize(record["kind"], record["value"], region=region)
        except IdentityError as error:
            raise ValidationError({"value": [str(error)]}) from None
        return record


class LineItem(Schema):
    """One line of an order."""

    class Meta:
        unknown = RAISE

    product = _ref(required=True)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    unitPrice = Money(required=True)  # noqa: N815


class OrderRecord(RecordSchema):
    """An order (or an abandoned cart) with its line items."""

    id = _id()
    customer = _ref(required=True)
    number = fields.String(required=True, validate=validate.Length(min=1, max=100))
    placedAt = Timestamp(required=True)  # noqa: N815
    status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    channel = fields.String(validate=validate.OneOf(ORDER_CHANNELS))
    total = Money(required=True)
    currency = _currency(required=True)
    items = fields.List(fields.Nested(LineItem), load_default=list)

    @post_load
    def money(self, record: dict[str, Any], **_: Any) -> dict[str, Any]:
        _money_fields(record, "total", "totalMinor")
        items = record.get("items", [])  # a patch may leave them out
        if items and "currency" not in record:  # only a patch can lack it
            raise ValidationError({"currency": ["required when items are given"]})
        for index, item in enumerate(items):
            try:
                item["unitPriceMinor"] = to_minor_units(item.pop("unitPrice"), record["currency"])
            except ValidationError as error:
                raise ValidationError({"items": {index: {"unitPrice": error.messages}}}) from None
        return record


class ShipmentRecord(RecordSchema):
    """A parcel of an order and where it is."""

    id = _id()
    order = _ref(required=True)
    carrier = fields.String(required=True)
    trackingNumber = fields.String()  # noqa: N815
    status = fields.String(required=True, validate=validate.OneOf(SHIPMENT_STATUSES))
    shippedAt = Timestamp()  # noqa: N815
    promisedAt = Timestamp()  # noqa: N815
    deliveredAt = Timestamp()  # noqa: N815
    condition = fields.String(validate=validate.OneOf(CONDITIONS))

    @validates_schema
    def delivered_has_a_time(self, record: dict[str, Any], **_: Any) -> None:
        if record.get("status") == "delivered" and record.get("deliveredAt") is None:
            raise ValidationError({"deliveredAt": ["required when status is delivered"]})


class ReturnRecord(RecordSchema):
    """A return of an order and its refund."""

    id = _id()
    order = _ref(required=True)
    reason = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(RETURN_STATUSES))
    requestedAt = Timestamp(required=True)  # noqa: N815
    receivedAt = Timestamp()  # noqa: N815
    refundAmount = Money()  # noqa: N815
    currency = _currency()
    refundedAt = Timestamp()  # noqa: N815

    @post_load
    def money(self, record: dict[str, Any], **_: Any) -> dict[str, Any]:
        _money_fields(record, "refundAmount", "refundMinor")
        if record.get("status") == "refunded" and record.get("refundedAt") is None:
            raise ValidationError({"refundedAt": ["required when status is refunded"]})
        return record


class CaseRecord(RecordSchema):
    """One problem of a customer, however many contacts it takes."""

    id = _id()
    customer = _ref(required=True)
    subject = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(CASE_STATUSES))
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))
    openedAt = Timestamp(required=True)  # noqa: N815
    resolvedAt = Timestamp()  # noqa: N815


class IdentityRef(Schema):
    """Which of the customer's identities a contact came through."""

    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=validate.OneOf(IDENTITY_KINDS))
    value = fields.String(required=True)
    region = fields.String(validate=validate.Regexp(r"^[A-Za-z]{2}$"))


class TypedRef(Schema):
    """A reference to a record of another type: ``{"type": "order", "id": "O-1"}``."""

    class Meta:
        unknown = RAISE

    type = fields.String(required=True)
    id = _ref(required=True)


class InteractionRecord(RecordSchema):
    """One contact on one channel: a call, an email, a chat, a message, a visit."""

    id = _id()
    customer = _ref(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    occurredAt = Timestamp(required=True)  # noqa: N815
    summary = fields.String(required=True)
    topic = fields.String()
    status = fields.String(load_default="resolved", validate=validate.OneOf(INTERACTION_STATUSES))
    sentiment = fields.Float(validate=validate.Range(-1.0, 1.0))
    selfService = fields.Boolean(load_default=False)  # noqa: N815
    respondedAt = Timestamp()  # noqa: N815
    durationSeconds = fields.Integer(strict=True, validate=validate.Range(min=0))  # noqa: N815
    identity = fields.Nested(IdentityRef)
    case = _ref()
    agent = _ref()
    about = fields.List(fields.Nested(TypedRef), load_default=list)

    phone_region = "US"

    @post_load
    def references(self, record: dict[str, Any], **_: Any) -> dict[str, Any]:
        identity = record.get("identity")
        if identity is not None:
            region = identity.pop("region", None) or self.phone_region
            try:
                identity["value"] = normalize(identity["kind"], identity["value"], region=region)
            except IdentityError as error:
                raise ValidationError({"identity": {"value": [str(error)]}}) from None
        for index, ref in enumerate(record.get("about", [])):  # a patch may leave it out
            if ref["type"] not in ABOUT_TYPES:
                raise ValidationError(
                    {"about": {index: {"type": [f"one of {', '.join(ABOUT_TYPES)}"]}}}
                )
        return record


class FeedbackRecord(RecordSchema):
    """A CSAT, NPS or CES answer, or a review, and what it rates."""

    id = _id()
    customer = _ref(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(FEEDBACK_KINDS))
    score = fields.Integer(required=True, strict=True)
    comment = fields.String()
    submittedAt = Timestamp(required=True)  # noqa: N815
    rates = fields.Nested(TypedRef)

    @validates_schema
    def score_in_range(self, record: dict[str, Any], **_: Any) -> None:
        kind, score = record.get("kind"), record.get("score")
        if kind in FEEDBACK_KINDS and score is not None:
            low, high = m.SCORE_RANGES[m.FeedbackKind(kind)]
            if not low <= score <= high:
                raise ValidationError(
                    {"score": [f"a {kind} score is {low} to {high}, got {score}"]}
                )
        rates = record.get("rates")
        if rates is not None and rates.get("type") not in RATES_TYPES:
            raise ValidationError({"rates": {"type": [f"one of {', '.join(RATES_TYPES)}"]}})
