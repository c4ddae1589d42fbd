"""Spoken replies are short; speech results become usable text; caller ID is only a hint."""

from __future__ import annotations

import pytest

from orchestrator.channels.speech import for_voice, normalize_speech, use_caller_id


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


def test_for_voice_keeps_the_opening_and_the_question() -> None:
    long = (
        "I found three charges on your account this month. "
        + "The details of each are listed in your bill under the section for payments. " * 5
        + "Shall I refund the duplicate of €12.50?"
    )
    spoken = for_voice(long, limit=160)
    assert spoken.startswith("I found three charges")
    assert spoken.endswith("Shall I refund the duplicate of €12.50?")
    assert len(spoken) < 300


def test_for_voice_reads_lists_masks_and_typing_words_for_the_ear() -> None:
    text = "Here are the plans:\n- Basic 2\n- Essential 10\n- Everyday 30\n- Unlimited\nWhich one would you like?"
    spoken = for_voice(text)
    assert "Basic 2, Essential 10, Everyday 30, and 1 more." in spoken
    assert spoken.endswith("Which one would you like?")
    code = for_voice("Thanks. I've sent a 6-digit code by text to ••• 123. Please type it here when it arrives.")
    assert "the number ending in 123" in code and "say it or key it in" in code and "•" not in code
