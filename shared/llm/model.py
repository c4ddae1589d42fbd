"""The one interface every model sits behind, and what a model call returns.

``ModelClient`` has one method so that the litellm client, the scripted double and anything a
deployment brings fit it. A model failure of any kind (time-out, provider error, refused request,
unreadable answer) is a ``ModelUnavailable``: callers fall back to the offline brain on it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from shared.errors import ServiceUnavailable

Message = Mapping[str, Any]
"""One chat message in the OpenAI shape litellm accepts: role, content, tool_calls, tool_call_id."""


class ModelUnavailable(ServiceUnavailable):
    """The model did not give a usable answer; the caller uses the offline brain for this step."""

    code = "model_unavailable"


class ModelRequestsRefused(ModelUnavailable):
    """A real model call was attempted inside a test that did not opt in."""


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call: the gateway's tool, as the model is allowed to see it."""

    name: str
    description: str
    parameters: Mapping[str, Any]

    def as_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": dict(self.parameters)},
        }


@dataclass(frozen=True)
class ToolCall:
    """A function call the model asked for; ``arguments`` is None when they were not a JSON object."""

    id: str
    name: str
    arguments: dict[str, Any] | None


@dataclass(frozen=True)
class Usage:
    """Tokens and cost of model calls; ``cost_usd`` is 0 when the provider's price is unknown."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.calls + other.calls,
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            round(self.cost_usd + other.cost_usd, 8),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "cost_usd": self.cost_usd,
        }


@dataclass(frozen=True)
class ModelReply:
    """What one model call answered: text, tool calls, or both."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    finish_reason: str = ""
    """Why generation stopped, as the provider says it ("stop", "length", "tool_calls"); "" if unknown."""


@runtime_checkable
class ModelClient(Protocol):
    """A chat model. ``schema`` asks for a JSON answer matching it; ``tools`` offers function calls."""

    @property
    def name(self) -> str:
        """The configured model name, for traces and usage records."""
        ...

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] = (),
        schema: Mapping[str, Any] | None = None,
        timeout_seconds: float | None = None,
        max_tokens: int | None = None,
    ) -> ModelReply:
        """One completion; raises ``ModelUnavailable`` for any failure.

        ``timeout_seconds`` and ``max_tokens`` narrow the client's own settings for this call (what
        is left of the turn's deadline); the request is abandoned and closed when the time is up.
        """
        ...


# Tests must never reach a real model by accident: a real client refuses while pytest runs a
# test, unless that test opted in with ``allow_model_requests()``.
_allowed = False


@contextlib.contextmanager
def allow_model_requests() -> Iterator[None]:
    """Let real model clients call out inside a test (the opt-in for integration tests)."""
    global _allowed
    previous, _allowed = _allowed, True
    try:
        yield
    finally:
        _allowed = previous


def check_model_requests_allowed(model: str) -> None:
    """Raise ``ModelRequestsRefused`` inside a pytest test that did not opt in."""
    if os.environ.get("PYTEST_CURRENT_TEST") and not _allowed:
        raise ModelRequestsRefused(
            f"a real call to model {model!r} was refused inside a test",
            hint="use the scripted model, or wrap the test in allow_model_requests()",
        )
