"""Which model each role uses, from ``SWITCHBOARD_*`` environment variables.

Nothing is configured by default: without ``SWITCHBOARD_MODEL`` (or a per-role model) every role
keeps the offline brain and litellm is never imported. A per-role variable overrides the common
one for that role only, so a cheap model can route while a stronger one runs the specialists.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.llm.budget import ModelBudget

Role = Literal["router", "specialist", "summary"]
ROLES: tuple[Role, ...] = ("router", "specialist", "summary")

SCRIPTED_MODEL = "scripted"
"""The built-in deterministic model double: no network, for demos, CI and brain comparisons."""


class LLMSettings(BaseSettings):
    """Model settings. Each field is also ``SWITCHBOARD_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    model: str | None = Field(default=None, description="litellm model name for every role, e.g. openai/gpt-4o-mini")
    router_model: str | None = None
    specialist_model: str | None = None
    summary_model: str | None = None
    model_api_base: str | None = Field(default=None, description="base URL of an OpenAI-compatible server")
    model_api_key: SecretStr | None = None
    model_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    model_retries: int = Field(default=1, ge=0, le=5)
    model_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    model_max_tokens: int = Field(default=600, ge=16, le=8192)
    structured_output: Literal["json_schema", "json_object"] = Field(
        default="json_schema",
        description="how a JSON schema is sent: OpenAI's json_schema, or json_object+schema (llama.cpp servers)",
    )
    router_min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    max_tool_steps: int = Field(default=6, ge=1, le=20)
    model_tokens_per_second: float = Field(
        default=15.0, gt=0, le=10000, description="how fast the model writes; max_tokens follows from the time left"
    )
    model_first_token_seconds: float = Field(
        default=2.0, ge=0, le=120, description="how long the model takes to start answering (reading the prompt)"
    )
    model_stream_tools: bool = Field(
        default=True,
        description="stream requests that offer tools; false for servers that cannot "
        "(llama-cpp-python's chatml-function-calling answers a streamed tool request with nothing)",
    )
    tool_call_probe: bool = Field(
        default=True, description="at start-up, check that the specialists' model returns tool calls"
    )

    def budget(self) -> ModelBudget:
        """The limits every specialist model call is cut to (see ``ModelBudget.call``)."""
        return ModelBudget(
            self.model_max_tokens,
            self.model_timeout_seconds,
            self.model_tokens_per_second,
            self.model_first_token_seconds,
        )

    def model_for(self, role: Role) -> str | None:
        """The model name configured for ``role``, or None when that role stays offline."""
        specific = {"router": self.router_model, "specialist": self.specialist_model, "summary": self.summary_model}
        return (specific[role] or self.model or "").strip() or None

    @property
    def any_model(self) -> bool:
        return any(self.model_for(role) for role in ROLES)
