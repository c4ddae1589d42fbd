"""Understanding short customer replies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.runtime.text import (
    best_match,
    find_amount,
    find_code,
    find_customer_hint,
    find_phone,
    mask_tail,
    money,
)

PLANS = ["Basic 10", "Unlimited Max", "Family Share"]


@pytest.mark.parametrize(
    ("text", "index"),
    [("Unlimited Max please", 1), ("the unlimted one", 1), ("family", 2), ("basic 10", 0), ("gold plan", None)],
)
def test_plan_names_match_fuzzily(text: str, index: int | None) -> None:
    assert best_match(text, PLANS) == index


def test_codes_identifiers_and_amounts() -> None:
    assert find_code("it's 123 456") == "123456"
    assert find_code("12345") is None
    assert find_code("1234567") is None
    assert find_customer_hint("my email is Ana@Example.com") == "ana@example.com"
    assert find_customer_hint("account ACC 1234567") == "ACC-1234567"
    assert find_customer_hint("customer cust-00042") == "CUST-00042"
    assert find_phone("call me on +1 (555) 010-0123") == "+15550100123"
    assert find_phone("the code is 123456") is None
    assert find_customer_hint("hello there") is None
    assert find_amount("refund the €32,50 one") == Decimal("32.50")
    assert find_amount("nothing") is None


def test_formatting() -> None:
    assert money(32.5, "EUR") == "€32.50"
    assert money(-3, "usd") == "-$3.00"
    assert money("7") == "£7.00"  # never a bare amount: the house currency when the system names none
    assert money(12, "CHF") == "12.00 CHF"
    assert mask_tail("+15550100123") == "••• 123"
    assert mask_tail("••• 123") == "••• 123"
