"""Settings the channels read from the environment (``SWITCHBOARD_*``), apart from the core ones."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REFERENCE_SUPPORT_LINE = "+442079460000"
"""Northwind Mobile's support line in the reference dataset (a number reserved for fiction)."""


class ChannelSettings(BaseSettings):
    """What an operator sets to put the web chat and a phone number in front of customers."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    twilio_auth_token: SecretStr | None = Field(
        default=None, description="when set, every voice webhook must carry a valid X-Twilio-Signature"
    )
    twilio_auth_token_previous: SecretStr | None = Field(
        default=None, description="the token being rotated out: signatures made with it stay valid meanwhile"
    )
    public_url: str | None = Field(
        default=None,
        description="the base URL the voice platform calls, with any path prefix "
        "(https://example.com/support); signatures are checked over it and every action points into it",
    )
    phone_number: str | None = Field(
        default=REFERENCE_SUPPORT_LINE, description="the support line the web chat shows with a link code"
    )
    voice_language: str = "en-GB"
    voice_name: str | None = Field(
        default="Polly.Amy", description="a <Say voice=...> name; Polly and Google voices get SSML"
    )
    voice_currency: str = Field(default="GBP", description="the currency of an amount written without one")
    voice_hold_music_url: str | None = Field(
        default=None, description="audio <Play>ed to a caller waiting for a person (silence when unset)"
    )
    voice_hold_poll_seconds: int = Field(
        default=5, ge=1, le=30, description="how often a waiting caller's line looks for a person's words"
    )
    voice_hold_message_every: int = Field(
        default=6, ge=1, description="a waiting caller hears their place again every this many looks"
    )
    voice_answer_within_seconds: float = Field(
        default=1.5, gt=0, le=10, description="a turn still running after this continues behind a holding line"
    )
    voice_confirm_confidence: float = Field(
        default=0.6, ge=0, le=1, description="a yes or no heard with less confidence is asked again"
    )
    voice_callback_window_seconds: int = Field(
        default=1800, ge=0, description="a call back from the same number within this is offered the conversation"
    )
    link_code_ttl_seconds: int = Field(default=600, ge=30)
    stream_ticket_ttl_seconds: int = Field(default=60, ge=5)
    stream_lifetime_seconds: float = Field(
        default=25.0, gt=0, description="an event stream ends after this and the page opens a new one"
    )
    stream_poll_seconds: float = Field(
        default=1.0, gt=0, description="how often a stream looks for entries written outside this process"
    )

    def auth_tokens(self) -> list[str]:
        """The tokens a webhook signature may be made with, the current one first."""
        tokens = [self.twilio_auth_token, self.twilio_auth_token_previous]
        return [t.get_secret_value() for t in tokens if t is not None and t.get_secret_value()]
