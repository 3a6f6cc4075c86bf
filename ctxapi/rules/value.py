"""Value and VIP status: money kept per currency, never summed across currencies silently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from ctxapi.money import as_money, format_minor_units, minor_digits
from ctxapi.rules.facts import Facts
from ctxapi.rules.text import cypher_time, days_between
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
    last_order_at: datetime | None
    days_since_last_order: int | None
    vip_reasons: list[str]
    facts: Facts

    @property
    def vip(self) -> bool:
        return bool(self.vip_reasons)

    def answer(self) -> dict[str, Any]:
        """The ``ValueInsight`` fields."""
        by_currency = sorted(self.facts.totals, key=lambda t: (-t.orders, t.currency))
        return {
            "lifetimeValue": self._in_currency(self.net),
            "grossSales": self._in_currency(self.gross),
            "refunded": self._in_currency(self.refunded),
            "byCurrency": [
                {
                    "currency": t.currency,
                    "orders": t.orders,
                    "lifetimeValue": as_money(t.gross - t.refunded, t.currency),
                    "grossSales": as_money(t.gross, t.currency),
                    "refunded": as_money(t.refunded, t.currency),
                }
                for t in by_currency
            ],
            "convertedFrom": self.converted_from,
            "orderCount": self.orders,
            "ordersLastYear": self.orders_last_year,
            "lastOrderAt": cypher_time(self.last_order_at),
            "daysSinceLastOrder": self.days_since_last_order,
            "tier": self.facts.tier,
            "vip": self.vip,
            "vipReasons": self.vip_reasons,
        }

    def _in_currency(self, minor: int | None) -> dict[str, str] | None:
        if minor is None or not self.facts.totals:
            return None
        return as_money(minor, self.currency)


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
    # Each currency's net, gross and refunded in value_currency (None: no rate for it).
    amounts = {
        x.currency: [convert(a, x.currency, t) for a in (x.gross - x.refunded, x.gross, x.refunded)]
        for x in facts.totals
    }

    def total(column: int) -> int | None:
        """A column's sum, known when every currency's amount is."""
        found = [row[column] for row in amounts.values()]
        return None if None in found else sum(a for a in found if a is not None)

    net, gross, refunded = total(0), total(1), total(2)
    converted = [
        x.currency
        for x in facts.totals
        if x.currency != t.value_currency and x.currency in t.exchange_rates
    ]
    last = max((x.last_order_at for x in facts.totals if x.last_order_at is not None), default=None)
    days = None if last is None else days_between(last, facts.now)
    orders_last_year = sum(x.orders_last_year for x in facts.totals)
    # Without a rate for every currency the total is unknown, but the part that can be said
    # (the value currency and the converted ones, when it is positive) is a lower bound.
    nets = {currency: row[0] for currency, row in amounts.items()}
    unconverted = [currency for currency, amount in nets.items() if amount is None]
    at_least = sum(amount for amount in nets.values() if amount is not None and amount > 0)
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
        gross=gross,
        refunded=refunded,
        converted_from=converted,
        orders=sum(x.orders for x in facts.totals),
        orders_last_year=orders_last_year,
        last_order_at=last,
        days_since_last_order=days,
        vip_reasons=reasons,
        facts=facts,
    )
