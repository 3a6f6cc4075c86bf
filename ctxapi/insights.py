"""The thresholds behind ``Customer.insights`` and ``proactiveQueue`` (docs/insights.md).

Defaults live here; a TOML file named by ``CTXAPI_INSIGHTS`` overrides any of them::

    recovery_ratio = 10
    vip_lifetime_value = 150000  # minor units
    [weights]
    lapsed = 0.3

The values travel to Cypher as one map parameter, so changing them never changes query text.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from ctxapi.seeding.records import TIERS


@dataclass(frozen=True)
class Weights:
    """How much each factor adds to the churn risk (the sum is capped at 1)."""

    open_negative: float = 0.2  # per open negative experience ...
    open_negatives_max: float = 0.4  # ... up to this
    detractor: float = 0.2  # the latest NPS answer in the window is a detractor
    sentiment: float = 0.15  # sentiment is negative now, or worsening
    effort: float = 0.15  # times the effort score (0 to 1)
    lapsed: float = 0.2  # no order for lapsed_days
    cooling: float = 0.1  # no order for half of lapsed_days


@dataclass(frozen=True)
class Thresholds:
    """Every number a rule in docs/insights.md uses; money is in minor units."""

    window_days: int = 365  # experiences, effort and value look back this far
    # Value
    vip_tiers: tuple[str, ...] = ("vip",)
    vip_lifetime_value: int = 200_000  # net of refunds, minor units (2,000.00)
    vip_orders_per_year: int = 8
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
    negative_sentiment: float = -0.3
    # Churn risk
    lapsed_days: int = 180
    risk_medium: float = 0.3
    risk_high: float = 0.6
    weights: Weights = field(default_factory=Weights)
    # Next best actions and the proactive queue
    refund_due_days: int = 5  # a received return should be refunded within this
    cart_days: int = 7  # an abandoned cart is worth a follow-up this long
    question_days: int = 14  # an unanswered question is worth a follow-up this long
    feedback_request_days: int = 90  # ask for feedback on cases resolved this recently
    escalate_contacts: int = 3  # an open case with this many contacts ...
    escalate_switches: int = 2  # ... or this many channel switches ...
    escalate_self_service_failures: int = 2  # ... or bot failures in 30 days: escalate
    # Shared context
    shared_problem_days: int = 30  # other customers' problem reports this recent count
    shared_order_days: int = 90  # for products the customer ordered this recently
    problem_sentiment: float = -0.3  # a contact at or below this reported a problem
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
        values["queue_tiers"] = [
            {"tier": tier, "head_hours": self.tier_head_start_hours.get(tier, 0)} for tier in TIERS
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
        data = dict(data)
        weights = data.pop("weights", {})
        if not isinstance(weights, dict):
            raise InsightsConfigError(f"{where}: weights must be a table, got {weights!r}")
        return replace(
            cls(),
            **_checked(cls, data, where),
            weights=replace(Weights(), **_checked(Weights, weights, where + " [weights]")),
        )


class InsightsConfigError(ValueError):
    """The insights configuration cannot be used."""


def _checked(kind: type, data: dict[str, Any], where: str) -> dict[str, Any]:
    known = {f.name: f for f in fields(kind) if f.name != "weights"}
    out: dict[str, Any] = {}
    for name, value in data.items():
        if name not in known:
            raise InsightsConfigError(f"{where}: unknown setting {name!r}")
        default = getattr(kind(), name)
        if name == "vip_tiers" and isinstance(value, list):
            value = tuple(str(tier) for tier in value)
        elif isinstance(default, float) and isinstance(value, int):
            value = float(value)
        if type(value) is not type(default):
            raise InsightsConfigError(
                f"{where}: {name} must be {type(default).__name__}, got {value!r}"
            )
        if name == "tier_head_start_hours":
            for tier, hours in value.items():
                if tier not in TIERS or type(hours) is not int or hours < 0:
                    raise InsightsConfigError(
                        f"{where}: tier_head_start_hours takes hours (int >= 0) for"
                        f" {', '.join(TIERS)}; got {tier} = {hours!r}"
                    )
        elif isinstance(value, int) and value < (1 if name == "sentiment_points" else 0):
            raise InsightsConfigError(f"{where}: {name} must not be below zero, got {value}")
        out[name] = value
    return out
