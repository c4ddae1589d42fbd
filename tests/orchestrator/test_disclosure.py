"""The notice's wording: defaults, overrides per channel and language, and the fall-backs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from orchestrator.disclosure import Disclosure, DisclosureSettings


def test_the_defaults_name_the_operator_and_how_to_reach_a_person() -> None:
    disclosure = Disclosure.from_settings(DisclosureSettings())
    for channel in ("chat", "voice"):
        text = disclosure.text(channel)
        assert "Northwind Mobile's automated assistant" in text and "ask for a person at any time" in text
        assert "{operator}" not in text
    assert disclosure.text("chat") != disclosure.text("voice")


def test_an_override_replaces_only_its_channel_and_language() -> None:
    settings = DisclosureSettings(
        operator_name="Example Telecom",
        ai_disclosure={"voice": {"de": "Hier spricht der digitale Assistent von {operator}.", "en": "  "}},
    )
    disclosure = Disclosure.from_settings(settings)
    assert disclosure.text("voice", "de-DE") == "Hier spricht der digitale Assistent von Example Telecom."
    assert disclosure.text("voice", "en-GB").startswith("Hi, you're speaking with Example Telecom's")  # blank ignored
    assert disclosure.text("voice", "fr") == disclosure.text("voice", "en")
    assert disclosure.text("chat", "de") == disclosure.text("chat", "en")
    assert disclosure.text("email") == disclosure.text("chat"), "a channel without its own text reads chat's"


def test_the_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_AI_DISCLOSURE", '{"Chat": {"EN": "An AI answers here."}}')
    assert Disclosure.from_settings().text("chat") == "An AI answers here."
    monkeypatch.setenv("SWITCHBOARD_AI_DISCLOSURE", '["not", "a", "mapping"]')
    with pytest.raises(ValidationError):
        DisclosureSettings()
