"""The thresholds behind ``Customer.insights`` and ``proactiveQueue`` (docs/insights.md).

Defaults live here; a TOML file named by ``CTXAPI_INSIGHTS`` overrides any of them::

    recovery_ratio = 10
    vip_lifetime_value = 150000  # minor units
    [weights]
    lapsed = 1.2  # log-odds

The values travel to Cypher as one map parameter, so changing them never changes query text.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any, cast, get_type_hints

from marshmallow import RAISE, Schema, ValidationError, post_load, validate
from marshmallow import fields as ma

from ctxapi.model import Tier

_TIERS = [t.value for t in Tier]


@dataclass(frozen=True)
class Weights:
    """The churn model's log-odds: what each signal adds (docs/insights.md, Churn risk).

    risk = 1 / (1 + exp(-(base + sum of the weights of the signals that hold)))
    """

    base: float = -2.2  # nothing known: a risk of 0.10
    open_negative: float = 1.4  # per open negative experience ...
    open_negatives_max: float = 2.2  # ... up to this
    detractor: float = 1.6  # the latest NPS answer in the window is a detractor
    sentiment: float = 1.5  # sentiment is negative now, or worsening into negative
    effort: float = 2.8  # times the effort score (0 to 1)
    lapsed: float = 0.9  # no order for lapsed_days
    lapsed_vip: float = 1.6  # ... and the customer is a VIP
    cooling: float = 0.5  # no order for half of lapsed_days


@dataclass(frozen=True)
class Priorities:
    """Each next best action's priority (0 to 100): higher comes first."""

    apologize_and_compensate: int = 100
    delivery_update: int = 90  # a late parcel nobody has told the customer about
    apologize: int = 85
    escalate: int = 80
    answer_question: int = 75
    recover_detractor: int = 72
    refund_overdue: int = 70
    follow_up_case: int = 65
    abandoned_cart: int = 60
    delivery_update_again: int = 55  # told once, and the parcel is still not there
    refund_due: int = 45
    request_feedback: int = 30


@dataclass(frozen=True)
class Thresholds:
    """Every number a rule in docs/insights.md uses; money is in minor units."""

    window_days: int = 365  # experiences, effort and contacts look back this far
    # Value
    vip_tiers: tuple[str, ...] = ("vip",)
    vip_lifetime_value: int = 200_000  # net of refunds, minor units (2,000.00)
    vip_orders_per_year: int = 8
    value_currency: str = "EUR"  # lifetime value and vip_lifetime_value are in this currency
    exchange_rates: dict[str, float] = field(default_factory=dict)  # 1 unit -> value_currency
    # Effort
    repeat_contact_days: int = 7
    effort_high: float = 0.5
    # Recovery balance: one negative takes this many positives to undo
    recovery_ratio: int = 12
    csat_negative_max: int = 2
    csat_positive_min: int = 4
    nps_detractor_max: int = 6
    nps_promoter_min: int = 9
    review_negative_max: int = 2
    review_positive_min: int = 4
    ces_negative_max: int = 3
    ces_positive_min: int = 5
    positive_sentiment: float = 0.3
    # Sentiment trend: the latest points, compared half against half
    sentiment_points: int = 6
    sentiment_change: float = 0.2
    sentiment_min_points: int = 3  # fewer points: direction UNKNOWN
    negative_sentiment: float = -0.3
    # Churn risk
    lapsed_days: int = 180
    risk_medium: float = 0.3  # a probability: 1 / (1 + exp(-log-odds))
    risk_high: float = 0.6
    weights: Weights = field(default_factory=Weights)
    priorities: Priorities = field(default_factory=Priorities)
    # Next best actions and the proactive queue
    refund_due_days: int = 5  # a received return should be refunded within this
    cart_days: int = 7  # an abandoned cart is worth a follow-up this long
    question_days: int = 14  # an unanswered question is worth a follow-up this long
    feedback_request_days: int = 90  # ask for feedback on cases resolved this recently
    detractor_days: int = 30  # call back a detractor whose answer is this recent
    escalate_contacts: int = 3  # an open case with this many contacts ...
    escalate_switches: int = 2  # ... or this many channel switches ...
    escalate_self_service_failures: int = 2  # ... or bot failures in 30 days: escalate
    delivery_update_days: int = 2  # an update sent this recently answers a late parcel
    incentive_percent: int = 15  # a VIP's suggested incentive: this share of the order ...
    incentive_default: int = 2000  # ... or this without an order (minor units) ...
    incentive_max: int = 10000  # ... at most this (minor units of value_currency)
    # How much the facts behind insights may hold (a busy customer costs the same as a quiet one)
    contacts_cap: int = 200  # the latest contacts in the window
    cases_cap: int = 50  # the latest cases opened in the window or still open
    case_contacts_cap: int = 50  # the first contacts of each case
    parcels_cap: int = 50  # the latest parcels promised or delivered in the window
    returns_cap: int = 50  # the latest returns in the window or waiting for a refund
    feedback_cap: int = 50  # the latest feedback answers
    # Shared context
    shared_problem_days: int = 30  # other customers' problem reports this recent count
    shared_order_days: int = 90  # for products the customer ordered this recently
    problem_sentiment: float = -0.3  # a contact at or below this reported a problem
    # An order-level contact reports a problem with the order's products only on these topics
    product_problem_topics: tuple[str, ...] = (
        "damaged_item", "damaged_delivery", "defective", "faulty_item", "missing_item",
        "wrong_item", "quality", "warranty", "product_issue", "product_safety",
    )  # fmt: skip
    # Proactive queue
    queue_days: int = 14  # how far past its due time an item stays in the queue
    case_follow_up_days: int = 2  # an open case with no update sent this long is due
    tier_head_start_hours: dict[str, int] = field(
        default_factory=lambda: {"vip": 72, "gold": 48, "silver": 24}
    )  # a tier's items count as due this much earlier

    @cached_property
    def parameter(self) -> dict[str, Any]:
        """The thresholds as one Cypher map parameter (built once: settings never change)."""
        values = asdict(self)
        values["vip_tiers"] = list(self.vip_tiers)
        values["product_problem_topics"] = list(self.product_problem_topics)
        values["queue_tiers"] = [
            {"tier": tier, "head_hours": self.tier_head_start_hours.get(tier, 0)} for tier in _TIERS
        ]
        return values

    @classmethod
    def from_file(cls, path: Path) -> Thresholds:
        """Defaults overridden by a TOML file; an unknown or mistyped key is an error."""
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise InsightsConfigError(f"{path}: {error}") from None
        return cls.from_mapping(data, where=str(path))

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, where: str = "insights") -> Thresholds:
        """Defaults overridden by ``data``; each problem is reported with ``where`` and the key."""
        try:
            thresholds: Thresholds = _THRESHOLDS.load(data)
        except ValidationError as error:
            raise InsightsConfigError("; ".join(_problems(error.messages, where))) from None
        return thresholds


class InsightsConfigError(ValueError):
    """The insights configuration cannot be used."""


# -- the TOML file's schema, derived from the dataclasses above --------------------------------
# Values are checked exactly as TOML gives them: no strings for numbers, no booleans for either;
# an int is accepted where a float is expected, not the other way round.
_UNKNOWN = "unknown setting"


class _Setting(ma.Field[Any]):
    """One value of the file; its messages complete "<key> ...", e.g. "must be int, got 'x'"."""

    expected = "a value"

    def __init__(self, *, validate: validate.Validator | None = None) -> None:
        super().__init__(
            validate=validate, error_messages={"null": f"must be {self.expected}, got None"}
        )

    def wrong(self, value: Any) -> ValidationError:
        return ValidationError(f"must be {self.expected}, got {value!r}")


class _Int(_Setting):
    expected = "int"

    def __init__(self, *, minimum: int = 0, maximum: int | None = None) -> None:
        below = "zero" if minimum == 0 else str(minimum)
        error = f"must not be below {below}, got {{input}}"
        if maximum is not None:
            error = f"must be between {minimum} and {maximum}, got {{input}}"
        super().__init__(validate=validate.Range(min=minimum, max=maximum, error=error))

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> int:
        if type(value) is not int:  # a bool is not a number here
            raise self.wrong(value)
        return value


class _Float(_Setting):
    expected = "float"

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> float:
        if type(value) is int:
            return float(value)
        if type(value) is not float:
            raise self.wrong(value)
        return value


class _Tiers(_Setting):
    """A list of tier values, loaded as a tuple."""

    expected = f"a list of tiers ({', '.join(_TIERS)})"

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> tuple[str, ...]:
        if not isinstance(value, list) or any(tier not in _TIERS for tier in value):
            raise self.wrong(value)
        return tuple(str(tier) for tier in value)


class _TierHours(_Setting):
    """A table of tier -> hours; it replaces the default table (a tier left out gets 0)."""

    expected = "a table"

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> dict[str, int]:
        if not isinstance(value, dict):
            raise self.wrong(value)
        for tier, hours in value.items():
            if tier not in _TIERS or type(hours) is not int or hours < 0:
                raise ValidationError(
                    f"takes hours (int >= 0) for {', '.join(_TIERS)}; got {tier} = {hours!r}"
                )
        return dict(value)


class _TableSchema(Schema):
    """A TOML table loaded into the dataclass ``kind``; a key left out keeps its default."""

    class Meta:
        unknown = RAISE
        register = False

    error_messages = {"unknown": _UNKNOWN, "type": "must be a table"}  # noqa: RUF012 (marshmallow)

    def __init__(self, kind: type[Any]) -> None:
        super().__init__()
        self.kind = kind

    @post_load
    def _build(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return self.kind(**data)


class _Table(ma.Nested):
    """A nested table such as ``[weights]``, with its own unknown-key check."""

    def __init__(self, schema: _TableSchema) -> None:
        super().__init__(schema, error_messages={"null": "must be a table, got None"})

    def _deserialize(
        self,
        value: Any,
        attr: str | None,
        data: Mapping[str, Any] | None,
        partial: bool | Sequence[str] | AbstractSet[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        if not isinstance(value, dict):
            raise ValidationError(f"must be a table, got {value!r}")
        return super()._deserialize(value, attr, data, partial, **kwargs)


class _Currency(_Setting):
    """An ISO 4217 code such as EUR."""

    expected = "a currency code such as EUR"

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str:
        if not (isinstance(value, str) and len(value) == 3 and value.isalpha() and value.isupper()):
            raise self.wrong(value)
        return value


class _Rates(_Setting):
    """A table of currency -> how much one unit is worth in value_currency."""

    expected = "a table"

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> dict[str, float]:
        if not isinstance(value, dict):
            raise self.wrong(value)
        rates: dict[str, float] = {}
        for currency, rate in value.items():
            good = len(currency) == 3 and currency.isalpha() and currency.isupper()
            if not good or type(rate) not in (int, float) or rate <= 0:
                raise ValidationError(
                    "takes currency = rate (a number > 0), e.g. GBP = 1.17;"
                    f" got {currency} = {rate!r}"
                )
            rates[currency] = float(rate)
        return rates


class _Words(_Setting):
    """A list of strings, loaded as a tuple."""

    expected = "a list of strings"

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> tuple[str, ...]:
        if not isinstance(value, list) or any(not isinstance(word, str) for word in value):
            raise self.wrong(value)
        return tuple(value)


_BY_TYPE: dict[Any, type[_Setting]] = {int: _Int, float: _Float}


def _schema(kind: type[Any], special: Mapping[str, ma.Field[Any]] | None = None) -> _TableSchema:
    """The schema of a dataclass: ``special`` fields by name, the others by their int/float type."""
    special = special or {}
    types = get_type_hints(kind)
    declared: dict[str, ma.Field[Any]] = {}
    for each in fields(kind):
        if each.name in special:
            declared[each.name] = special[each.name]
        elif types[each.name] in _BY_TYPE:
            declared[each.name] = _BY_TYPE[types[each.name]]()
        else:
            raise TypeError(f"{kind.__name__}.{each.name}: no schema field for {types[each.name]}")
    schema = _TableSchema.from_dict(declared, name=f"{kind.__name__}Schema")
    return cast("type[_TableSchema]", schema)(kind)


_THRESHOLDS = _schema(
    Thresholds,
    {
        "vip_tiers": _Tiers(),
        "sentiment_points": _Int(minimum=1),
        "sentiment_min_points": _Int(minimum=2),
        "tier_head_start_hours": _TierHours(),
        "weights": _Table(_schema(Weights)),
        "priorities": _Table(
            _schema(Priorities, {f.name: _Int(maximum=100) for f in fields(Priorities)})
        ),
        "value_currency": _Currency(),
        "exchange_rates": _Rates(),
        "product_problem_topics": _Words(),
    },
)


def _problems(errors: Mapping[str, Any] | list[Any], where: str) -> Iterator[str]:
    """marshmallow's error messages as sentences naming ``where`` (file, table) and the key."""
    if not isinstance(errors, Mapping):
        errors = {"_schema": errors}
    for key, messages in errors.items():
        if isinstance(messages, Mapping):  # the errors inside a nested table
            yield from _problems(messages, f"{where} [{key}]")
            continue
        for message in messages:
            if message == _UNKNOWN:
                yield f"{where}: unknown setting {key!r}"
            elif key == "_schema":
                yield f"{where}: {message}"
            else:
                yield f"{where}: {key} {message}"
