"""One reader of a customer's yes or no, for the supervisor and the specialists alike."""

from __future__ import annotations

import pytest

from shared.yes_no import OTHER_LANGUAGE_YES, read, short_answer, vouching_answer, yes_no


@pytest.mark.parametrize(
    "text", ["yes", "Yep", "yeah sure", "Yess please", "ok go ahead", "sur", "definately", "yes, cancel it", "'yes'"]
)
def test_yes(text: str) -> None:
    assert yes_no(text) is True


@pytest.mark.parametrize("text", ["no", "nah", "Nope.", "no thanks", "never mind", "don't", "noo", "no, keep it"])
def test_no(text: str) -> None:
    assert yes_no(text) is False


@pytest.mark.parametrize("text", ["maybe", "what does it include", "", "yes no"])
def test_neither(text: str) -> None:
    assert yes_no(text) is None


@pytest.mark.parametrize(
    ("text", "opening", "after"),
    [("yes", True, 0), ("Yes, cancel it", True, 2), ("go ahead please", True, 1), ("please put me through", True, 3),
     ("ok, now change my plan please", True, 5), ("yesss", True, 0), ("sí", True, 0), ("Ja, bitte", True, 1),
     ("no", False, 0), ("noo thanks", False, 1), ("no thanks, I'm fine", False, 2), ("not now", False, 0),
     ("nope", False, 0), ("cancel my contract", None, 0), ("right, my bill", None, 0), ("yesterday's bill", None, 0),
     ("", None, 0)],
)  # fmt: skip
def test_the_opening_of_a_reply(text: str, opening: bool | None, after: int) -> None:
    reading = read(text)
    assert (reading.opening, reading.words_after) == (opening, after)


@pytest.mark.parametrize(
    ("text", "answer"),
    [("yes, cancel it", True), ("no, keep it", False), ("no, keep it as it is", None),
     ("ok, now change my plan please", None), ("cancel it", None), ("yeah", True)],
)  # fmt: skip
def test_a_short_answer_is_a_yes_or_no_with_few_words_after_it(text: str, answer: bool | None) -> None:
    assert short_answer(text) is answer


@pytest.mark.parametrize("yes", OTHER_LANGUAGE_YES)
def test_yes_in_the_languages_we_offer_a_colleague_in(yes: str) -> None:
    assert read(yes).opening is True


@pytest.mark.parametrize(
    ("text", "answer"),
    [("yes, it's my own number", True), ("yes I am the account holder", True),
     ("yes, I have their permission", True), ("yes, I'm the holder and it's my number", True),
     ("yes, it's mine and my internet is down", None), ("no, I'm not the account holder", False),
     ("ok, now change my plan please", None), ("yes it is, but can you change my plan", None),
     ("yes, it's mine - what about my bill?", None), ("yes, my internet is down", None), ("it's my number", None)],
)  # fmt: skip
def test_a_yes_that_only_vouches_for_itself_is_an_answer(text: str, answer: bool | None) -> None:
    assert vouching_answer(text) is answer
