"""The speller corrects a customer's typos to the known word closest to what they typed."""

from __future__ import annotations

import pytest

from orchestrator.routing.spelling import Speller, distance


@pytest.mark.parametrize(
    ("a", "b", "edits"),
    [
        ("want", "want", 0),
        ("wnat", "want", 1),  # neighbours swapped
        ("tken", "taken", 1),  # a letter dropped
        ("refundd", "refund", 1),  # a letter doubled
        ("bolt", "bill", 2),
        ("gve", "get", 2),
        ("", "abc", 3),
    ],
)
def test_distance_counts_a_swap_of_neighbours_as_one_edit(a: str, b: str, edits: int) -> None:
    assert distance(a, b) == edits
    assert distance(b, a) == edits
    # Within a limit the distance is exact; past it, one more than the limit.
    assert distance(a, b, limit=edits) == edits
    if edits:
        assert distance(a, b, limit=edits - 1) == edits


def test_a_word_one_edit_away_beats_a_commoner_word_two_edits_away() -> None:
    # "take" is seen far more often, but "tken" is "taken" with one letter dropped.
    speller = Speller(["take"] * 50 + ["taken"])
    assert speller.correct("tken") == "taken"


def test_a_telling_slip_beats_a_commoner_change_of_letter() -> None:
    # "wnat" is "what" with one letter changed and "want" with two letters swapped; the swap wins.
    speller = Speller(["what"] * 50 + ["want"])
    assert speller.correct("wnat") == "want"
    # A dropped letter ("yor" for "your") beats a changed one ("you").
    speller = Speller(["you"] * 50 + ["your"])
    assert speller.correct("yor") == "your"


def test_among_equally_close_words_the_commoner_wins() -> None:
    speller = Speller(["bill"] * 5 + ["ball"])
    assert speller.correct("bell") == "bill"


def test_known_short_and_unmatched_words_are_left_alone() -> None:
    speller = Speller(["refund", "bill"])
    assert speller.correct("refund") == "refund"
    assert speller.correct("xy") == "xy"
    assert speller.correct("zzzzzz") == "zzzzzz"
    assert speller.correct("12ab") == "12ab"
    # The first letter is kept: customers rarely mistype it, and it keeps candidates few.
    assert speller.correct("vill") == "vill"
    assert speller.correct_text("my refnud and my bil") == "my refund and my bill"
