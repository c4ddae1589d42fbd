"""Settings the channels read from the environment (``SWITCHBOARD_*``), apart from the core ones."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ChannelSettings(BaseSettings):
    """What an operator sets to put the web chat and a phone number in front of customers."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    twilio_auth_token: SecretStr | None = Field(
        default=None, description="when set, every voice webhook must carry a valid X-Twilio-Signature"
    )
    public_url: str | None = Field(
        default=None,
        description="the base URL the voice platform calls (https://support.example.com) when a proxy "
        "rewrites the Host header; signatures are computed over the public URL",
    )
    phone_number: str | None = Field(default=None, description="the support line shown in the web chat")
    voice_language: str = "en-US"
    voice_name: str | None = Field(default=None, description="a <Say voice=...> name, e.g. Polly.Joanna")
    voice_max_chars: int = Field(default=320, ge=80, description="spoken replies are condensed to about this")
    link_code_ttl_seconds: int = Field(default=600, ge=30)
    stream_ticket_ttl_seconds: int = Field(default=60, ge=5)
    stream_lifetime_seconds: float = Field(
        default=25.0, gt=0, description="an event stream ends after this and the page opens a new one"
    )
    stream_poll_seconds: float = Field(
        default=1.0, gt=0, description="how often a stream looks for entries written outside this process"
    )
