"""Natural references resolve against what the customer was shown: place, size, price, date, comparison."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from agents.runtime.references import Shown, resolve

SATURDAY = date(2026, 12, 5)
PLANS = [
    Shown("Basic 2GB (£8.00 a month)", Decimal("8.00"), 2),
    Shown("Essentials 10GB (£12.00 a month)", Decimal("12.00"), 10),
    Shown("Everyday 30GB (£16.00 a month)", Decimal("16.00"), 30),
    Shown("Plus 60GB (£22.00 a month)", Decimal("22.00"), 60),
]
CHARGES = [
    Shown("£16.00 on 1 Dec", Decimal("16.00"), on=date(2026, 12, 1)),  # last Tuesday
    Shown("£12.00 on 24 Nov", Decimal("12.00"), on=date(2026, 11, 24)),
    Shown("£9.50 on 3 Dec", Decimal("9.50"), on=date(2026, 12, 3)),
]


@pytest.mark.parametrize(
    ("said", "index"),
    [
        ("the 30GB one", 2),
        ("the 30 gig one please", 2),
        ("the £22 one", 3),
        ("the 12 pounds one", 1),
        ("the second one", 1),
        ("number 3", 2),
        ("2", 1),
        ("the last one", 3),
        ("the cheapest", 0),
        ("the biggest one", 3),
    ],
)
def test_a_plan_by_size_price_or_place(said: str, index: int) -> None:
    assert resolve(said, PLANS, SATURDAY).index == index


@pytest.mark.parametrize(
    ("said", "index"),
    [
        ("the second charge", 1),
        ("the one from last Tuesday", 0),
        ("the one on 24 November", 1),
        ("November 24th", 1),
        ("the charge from the 3rd", 2),
        ("on Thursday", 2),
        ("the £9.50 one", 2),
    ],
)
def test_a_charge_by_place_date_or_amount(said: str, index: int) -> None:
    assert resolve(said, CHARGES, SATURDAY).index == index


def test_the_cheaper_one_compares_with_what_the_customer_has() -> None:
    assert resolve("the cheaper one", PLANS, SATURDAY, current=1).index == 0  # only Basic costs less
    several = resolve("the cheaper one", PLANS, SATURDAY, current=3)
    assert several.index is None and several.candidates == (0, 1, 2)
    assert several.question(PLANS, "plan") == (
        "Just to be sure I pick the right plan: do you mean Basic 2GB (£8.00 a month), "
        "Essentials 10GB (£12.00 a month) or Everyday 30GB (£16.00 a month)?"
    )
    assert resolve("the cheaper one", PLANS[:2], SATURDAY).index == 0  # of two shown
    assert resolve("the bigger one", PLANS[2:], SATURDAY).index == 1


def test_clues_narrow_together() -> None:
    both = [*CHARGES, Shown("£20.00 on 1 Dec", Decimal("20.00"), on=date(2026, 12, 1))]
    ambiguous = resolve("the one from last Tuesday", both, SATURDAY)
    assert ambiguous.index is None and ambiguous.candidates == (0, 3) and ambiguous.clue
    assert "£16.00 on 1 Dec or £20.00 on 1 Dec" in ambiguous.question(both, "charge")
    assert resolve("last Tuesday's, the £20 one", both, SATURDAY).index == 3


def test_a_reference_to_nothing_shown_asks_with_the_whole_list() -> None:
    missing = resolve("the 100GB one", PLANS, SATURDAY)
    assert missing.index is None and missing.clue and missing.candidates == ()
    assert missing.question(PLANS, "plan").startswith("Sorry, I couldn't tell which plan you mean. Was it Basic")
    assert resolve("the fifth one", PLANS, SATURDAY).candidates == ()


def test_words_that_are_no_reference_are_left_alone() -> None:
    for said in ("yes please", "I want to change my plan", "what does it include", "last time it failed"):
        found = resolve(said, PLANS, SATURDAY)
        assert found.index is None and not found.clue, said
