"""Speech results become what the caller meant; a number the caller says wins over caller ID."""

from __future__ import annotations

import pytest

from orchestrator.channels.speech import normalize_speech, use_caller_id


@pytest.mark.parametrize(
    ("heard", "expected"),
    [
        ("1 2 3 4 5 6", "123456"),
        ("123 456.", "123456"),
        ("one two three four five six", "123456"),
        ("my code is 4 8 1, 9 0 2", "my code is 481902"),
        ("1234 5678", "12345678"),
        ("oh one two three four five six seven", "01234567"),
        ("2 lines for 30 euros", "2 lines for 30 euros"),
        ("I want one plan for two people", "I want one plan for two people"),
        ("+44 7700 900123", "+447700900123"),
        ("", ""),
        # Phone numbers the way people say them: "oh" for zero, "double" and "triple".
        ("my phone number is oh seven seven double oh nine double oh five nine six", "my phone number is 07700900596"),
        ("it's 07700 900596", "it's 07700900596"),
        ("oh seven seven oh oh, nine oh oh, one two three", "07700900123"),
        ("triple seven, four five six", "777456"),
        ("oh double seven double oh nine double oh one double oh", "07700900100"),
        # E-mail addresses: "at", "dot", "underscore", "dash", and letters spelled out.
        ("my email is jo dot bloggs at example dot co dot uk", "my email is jo.bloggs@example.co.uk"),
        ("j o b l o g g s at example dot com", "jobloggs@example.com"),
        ("it's sam underscore lee at mail dash box dot org", "it's sam_lee@mail-box.org"),
        ("I'm at home", "I'm at home"),
        # Account numbers: said with or without the letters.
        ("account number one two three four five six seven", "ACC-1234567"),
        ("A C C 1234567", "ACC-1234567"),
        ("my account is 1 2 3 4 5 6 7", "my ACC-1234567"),
        # Codes.
        ("double four one, nine oh two", "441902"),
    ],
)
def test_normalize_speech_joins_codes_and_numbers_only(heard: str, expected: str) -> None:
    assert normalize_speech(heard) == expected


def test_caller_id_replaces_this_number_only_with_a_real_number() -> None:
    assert use_caller_id("it's this number", "+447700900123") == "it's +447700900123"
    assert use_caller_id("use the number I'm calling from", "+15551234567") == "use +15551234567"
    assert use_caller_id("it's this number", "Anonymous") == "it's this number"
    assert use_caller_id("it's this number", None) == "it's this number"
    assert use_caller_id("my email is a@b.co", "+15551234567") == "my email is a@b.co"


def test_a_number_the_caller_says_wins_over_caller_id() -> None:
    said = normalize_speech("my phone number is oh seven seven double oh nine double oh five nine six")
    assert use_caller_id(said, "+447700900111") == "my phone number is 07700900596"
    assert use_caller_id("my number is ACC-1234567", "+447700900111") == "my number is ACC-1234567"
