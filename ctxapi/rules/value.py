"""Value and VIP status: money kept per currency, never summed across currencies silently."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from ctxapi.money import format_minor_units, minor_digits
from ctxapi.rules.facts import Facts
from ctxapi.rules.text import cypher_time, days_between, money
from ctxapi.thresholds import Thresholds


@dataclass(frozen=True)
class Value:
    """What the customer is worth, in ``value_currency`` where it can be said."""

    currency: str
    net: int | None  # None: an amount in a currency without an exchange rate
    gross: int | None
    refunded: int | None
    converted_from: list[str]
    orders: int
    orders_last_year: int
    days_since_last_order: int | None
    vip_reasons: list[str]
    facts: Facts

    @property
    def vip(self) -> bool:
        return bool(self.vip_reasons)

    def answer(self) -> dict[str, Any]:
        """The ``ValueInsight`` fields."""
        last = max(
            (t.last_order_at for t in self.facts.totals if t.last_order_at is not None),
            default=None,
        )
        by_currency = sorted(self.facts.totals, key=lambda t: (-t.orders, t.currency))
        return {
            "lifetimeValue": self._money(self.net),
            "grossSales": self._money(self.gross),
            "refunded": self._money(self.refunded),
            "byCurrency": [
                {
                    "currency": t.currency,
                    "orders": t.orders,
                    "lifetimeValue": money(t.gross - t.refunded, t.currency),
                    "grossSales": money(t.gross, t.currency),
                    "refunded": money(t.refunded, t.currency),
                }
                for t in by_currency
            ],
            "convertedFrom": self.converted_from,
            "orderCount": self.orders,
            "ordersLastYear": self.orders_last_year,
            "lastOrderAt": cypher_time(last),
            "daysSinceLastOrder": self.days_since_last_order,
            "tier": self.facts.tier,
            "vip": self.vip,
            "vipReasons": self.vip_reasons,
        }

    def _money(self, minor: int | None) -> dict[str, str] | None:
        if minor is None or not self.facts.totals:
            return None
        return money(minor, self.currency)


def convert(minor: int, currency: str, t: Thresholds) -> int | None:
    """``minor`` units of ``currency`` in minor units of ``value_currency`` (rounded half to
    even), or None without a rate."""
    if currency == t.value_currency:
        return minor
    rate = t.exchange_rates.get(currency)
    if rate is None:
        return None
    amount = Decimal(minor).scaleb(-minor_digits(currency)) * Decimal(str(rate))
    return int(amount.scaleb(minor_digits(t.value_currency)).quantize(Decimal(1), ROUND_HALF_EVEN))


def judge_value(facts: Facts, t: Thresholds) -> Value:
    """Lifetime value (in value_currency, converted with exchange_rates), recency, VIP."""
    sums: dict[str, int | None] = {"net": 0, "gross": 0, "refunded": 0}
    converted: list[str] = []
    for totals in facts.totals:
        amounts = {
            "net": totals.gross - totals.refunded,
            "gross": totals.gross,
            "refunded": totals.refunded,
        }
        for name, amount in amounts.items():
            inside = convert(amount, totals.currency, t)
            before = sums[name]
            sums[name] = None if inside is None or before is None else before + inside
        if totals.currency != t.value_currency and totals.currency in t.exchange_rates:
            converted.append(totals.currency)
    last = max((x.last_order_at for x in facts.totals if x.last_order_at is not None), default=None)
    days = None if last is None else days_between(last, facts.now)
    orders_last_year = sum(x.orders_last_year for x in facts.totals)
    net = sums["net"]
    # Without a rate for every currency the total is unknown, but the part that can be said
    # (the value currency and the converted ones, when it is positive) is a lower bound.
    known = {x.currency: convert(x.gross - x.refunded, x.currency, t) for x in facts.totals}
    unconverted = [currency for currency, amount in known.items() if amount is None]
    at_least = sum(amount for amount in known.values() if amount is not None and amount > 0)
    bar = format_minor_units(t.vip_lifetime_value, t.value_currency)
    reasons: list[str] = []
    if facts.tier in t.vip_tiers:
        reasons.append("tier " + facts.tier)
    if net is not None and facts.totals and net >= t.vip_lifetime_value:
        said = format_minor_units(net, t.value_currency)
        reasons.append(f"lifetime value {said} {t.value_currency} (VIP from {bar})")
    elif net is None and at_least >= t.vip_lifetime_value:
        said = format_minor_units(at_least, t.value_currency)
        without = ", ".join(unconverted)
        reasons.append(
            f"lifetime value at least {said} {t.value_currency} without {without} (VIP from {bar})"
        )
    if orders_last_year >= t.vip_orders_per_year:
        reasons.append(str(orders_last_year) + " orders in the last 12 months")
    return Value(
        currency=t.value_currency,
        net=net,
        gross=sums["gross"],
        refunded=sums["refunded"],
        converted_from=converted,
        orders=sum(x.orders for x in facts.totals),
        orders_last_year=orders_last_year,
        days_since_last_order=days,
        vip_reasons=reasons,
        facts=facts,
    )
