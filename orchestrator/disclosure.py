"""Telling the customer, at the start of every channel, that an automated assistant answers them.

The EU AI Act (Art. 50) asks that people know when they are talking to an AI system. Every
conversation opens with this notice: the web chat's page and the API's greeting, the first words
of a phone call, and the terminal chat (which prints the API's greeting). The notice is also the
first transcript entry of every conversation (``skill = "ai-disclosure"``), so the human agent's
console and the vCon export show that it was given, and when.

The wording is a setting, per channel and language (``SWITCHBOARD_AI_DISCLOSURE``, JSON:
``{"voice": {"en": "..."}}``); ``{operator}`` in a text is replaced by ``SWITCHBOARD_OPERATOR_NAME``.
A channel or language without its own text falls back to the channel's English text, then to chat's.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DISCLOSURE_SKILL = "ai-disclosure"
"""The transcript entry's skill that marks the notice (the supervisor speaks it)."""

FALLBACK_CHANNEL = "chat"
FALLBACK_LANGUAGE = "en"

DEFAULT_TEXTS: dict[str, dict[str, str]] = {
    "chat": {
        "en": "Hi, you're chatting with {operator}'s automated assistant, not a person. "
        "You can ask for a person at any time by saying so. How can I help you today?"
    },
    "voice": {
        "en": "Hi, you're speaking with {operator}'s automated assistant, not a person. "
        "You can ask for a person at any time by saying so."
    },
}


class DisclosureSettings(BaseSettings):
    """What an operator sets to word the notice (``SWITCHBOARD_*``)."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    operator_name: str = Field(default="Northwind Mobile", min_length=1, description="who the customer is talking to")
    ai_disclosure: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="channel -> language -> text, over the defaults for chat and voice in English",
    )


@dataclass(frozen=True)
class Disclosure:
    """The notice's texts, resolved once at start-up."""

    texts: dict[str, dict[str, str]]

    @classmethod
    def from_settings(cls, settings: DisclosureSettings | None = None) -> Disclosure:
        settings = settings if settings is not None else DisclosureSettings()
        merged = {channel: dict(by_language) for channel, by_language in DEFAULT_TEXTS.items()}
        for channel, by_language in settings.ai_disclosure.items():
            merged.setdefault(channel.lower(), {}).update(
                {language.lower(): text.strip() for language, text in by_language.items() if text.strip()}
            )
        texts = {
            channel: {language: text.replace("{operator}", settings.operator_name) for language, text in by.items()}
            for channel, by in merged.items()
        }
        return cls(texts)

    def text(self, channel: str, language: str = FALLBACK_LANGUAGE) -> str:
        """The notice for ``channel`` in ``language`` (a tag such as ``en-GB`` also finds ``en``)."""
        tag = language.lower()
        languages = [tag, tag.split("-")[0], FALLBACK_LANGUAGE]
        for name in (channel.lower(), FALLBACK_CHANNEL):
            by_language = self.texts.get(name, {})
            for candidate in languages:
                if candidate in by_language:
                    return by_language[candidate]
        return self.texts[FALLBACK_CHANNEL][FALLBACK_LANGUAGE]
