"""Reading a postal address from what a customer typed, before identity checks it."""

from __future__ import annotations

import pytest

from agents.identity.address import ADDRESS_WORDS, address_in


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            "I've moved, my new address is 4 Rosemary Lane, Glenbrook, GB2 7XQ",
            {"line1": "4 Rosemary Lane", "line2": None, "town": "Glenbrook", "postcode": "GB2 7XQ"},
        ),
        (
            "Flat 2, 4 Rosemary Lane, Glenbrook, gb27xq",
            {"line1": "Flat 2", "line2": "4 Rosemary Lane", "town": "Glenbrook", "postcode": "GB2 7XQ"},
        ),
        (
            "address: Rose Cottage, Mill Lane, Larkhill, LH1 2AB.",
            {"line1": "Rose Cottage", "line2": "Mill Lane", "town": "Larkhill", "postcode": "LH1 2AB"},
        ),
    ],
)
def test_an_address_with_commas_and_a_postcode_is_read(text: str, address: dict) -> None:
    assert address_in(text).address == address


def test_what_is_missing_is_named() -> None:
    assert address_in("4 Rosemary Lane, Glenbrook, 12345").problem == "postcode"
    assert address_in("4 Rosemary Lane Glenbrook GB2 7XQ").problem == "commas"


def test_an_email_address_is_not_a_postal_one() -> None:
    assert ADDRESS_WORDS.search("please change my postal address") and ADDRESS_WORDS.search("I moved house")
    assert ADDRESS_WORDS.search("pls change my postal adress")
    assert not ADDRESS_WORDS.search("change my email address please")
