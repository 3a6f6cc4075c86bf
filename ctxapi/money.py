"""Money: integer minor units beside an ISO 4217 currency, never a float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# ISO 4217 currencies whose minor unit is not 1/100.
_MINOR_DIGITS = {
    "JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "PYG": 0, "UGX": 0, "XAF": 0, "XOF": 0,
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "LYD": 3, "IQD": 3,
}  # fmt: skip


class MoneyError(ValueError):
    """An amount that cannot be stored exactly; the message says why."""


def minor_digits(currency: str) -> int:
    """How many decimal places the currency's amounts have (2 for most)."""
    return _MINOR_DIGITS.get(currency, 2)


def to_minor_units(amount: str, currency: str) -> int:
    """``"129.90", "EUR"`` → ``12990``; more decimals than the currency has is an error.

    Money is stored as integer minor units beside its ISO 4217 currency, never as a float.
    """
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise MoneyError(f"{amount!r} is not a decimal amount") from None
    if not value.is_finite():
        raise MoneyError(f"{amount!r} is not a decimal amount")
    digits = minor_digits(currency)
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{amount!r} has more than {digits} decimals for {currency}")
    return int(scaled)


def as_money(minor: int, currency: str) -> dict[str, str]:
    """The API's ``Money``: ``{"amount": "129.90", "currency": "EUR"}``."""
    return {"amount": format_minor_units(minor, currency), "currency": currency}


def format_minor_units(minor: int, currency: str) -> str:
    """``12990, "EUR"`` → ``"129.90"`` (the inverse of to_minor_units)."""
    digits = minor_digits(currency)
    return f"{Decimal(minor).scaleb(-digits):.{digits}f}"
