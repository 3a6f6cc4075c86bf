"""Identity normalization: every spelling of one identifier finds the same identity."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctxapi.identity import IdentityError, normalize


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("email", "  Ann.Lee@Example.COM ", "ann.lee@example.com"),
        ("phone", "(415) 555-0100", "+14155550100"),
        ("phone", "+44 20 7946 0958", "+442079460958"),
        ("phone", "+1-415-555-0100", "+14155550100"),
        ("social", "Twitter:@Ann_B", "twitter:ann_b"),
        ("social", " instagram : amelie.trails ", "instagram:amelie.trails"),
        ("chat", "LiveChat:V-00Ab", "livechat:V-00Ab"),
        ("messaging", "WhatsApp:+49 151 2345 6789", "whatsapp:+4915123456789"),
        ("messaging", "Messenger:ann.lee.77", "messenger:ann.lee.77"),
        ("external", "Shopify:9001", "shopify:9001"),
    ],
)
def test_spellings_normalize_to_one_value(kind: str, value: str, expected: str) -> None:
    assert normalize(kind, value) == expected


def test_phone_numbers_without_country_code_use_the_region() -> None:
    assert normalize("phone", "030 1234567", region="DE") == "+49301234567"
    assert normalize("phone", "030 1234567", region="de") == "+49301234567"


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("email", "not-an-email", "is not an email address"),
        ("phone", "call me", "is not a phone number"),
        ("phone", "+1 12", "is not a possible phone number"),
        ("social", "ann_b", "written network:id"),
        ("social", "x:@", "has no handle"),
        ("fax", "123", "unknown identity kind"),
        ("email", "   ", "non-empty"),
    ],
)
def test_what_cannot_be_normalized_says_why(kind: str, value: str, reason: str) -> None:
    with pytest.raises(IdentityError, match=reason):
        normalize(kind, value)


@given(st.emails())
def test_normalizing_twice_changes_nothing(email: str) -> None:
    once = normalize("email", email)
    assert normalize("email", once) == once
    assert normalize("email", email.upper()) == once
