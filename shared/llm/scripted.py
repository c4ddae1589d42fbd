"""A deterministic model double: answers come from a script, never from the network.

Tests script exact replies (or failures) per call; ``SWITCHBOARD_MODEL=scripted`` selects it in a
running system so the LLM code paths can be exercised and compared without any model. Every
request is recorded so a test can check what the model was shown.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.llm.model import Message, ModelReply, ModelUnavailable, ToolCall, ToolSpec, Usage


@dataclass(frozen=True)
class ModelRequest:
    """One call made to the double."""

    messages: list[dict[str, Any]]
    tools: tuple[ToolSpec, ...]
    schema: Mapping[str, Any] | None
    timeout_seconds: float | None = None
    max_tokens: int | None = None

    @property
    def tool_names(self) -> list[str]:
        return [t.name for t in self.tools]

    def text(self) -> str:
        """Every message's content joined, for assertions on what the model saw."""
        return "\n".join(str(m.get("content") or "") for m in self.messages)


class Stall:
    """A step that never answers, like a server busy with another request: the call waits until its
    time-out (or ``longest`` seconds when it has none) and fails as a timed-out request does."""

    longest = 30.0


STALL = Stall()

Step = ModelReply | BaseException | Stall | Callable[[ModelRequest], "ModelReply | BaseException | Stall"]

SCRIPTED_USAGE = Usage(calls=1, prompt_tokens=100, completion_tokens=20, cost_usd=0.0)
"""The usage a scripted reply reports, so usage accounting is exercised without a model."""


def reply(text: str = "", *calls: tuple[str, dict[str, Any] | None]) -> ModelReply:
    """A scripted answer: ``reply("hi")`` or ``reply("", ("billing.get_account", {}))``."""
    tool_calls = tuple(ToolCall(id=f"call-{i}", name=name, arguments=args) for i, (name, args) in enumerate(calls))
    return ModelReply(text=text, tool_calls=tool_calls, usage=SCRIPTED_USAGE, model="scripted")


def json_reply(value: Any) -> ModelReply:
    """A scripted structured answer (what a schema-constrained model returns)."""
    return reply(json.dumps(value))


@dataclass
class ScriptedModel:
    """A ``ModelClient`` that plays ``steps`` in order, then ``then`` for every further call.

    A step is a reply, an exception to raise, or a function of the request returning either.
    With neither steps left nor ``then`` it raises ``ModelUnavailable``, as a dead provider would.
    """

    steps: list[Step] = field(default_factory=list)
    then: Step | None = None
    model: str = "scripted"
    requests: list[ModelRequest] = field(default_factory=list)

    @classmethod
    def of(cls, *steps: Step, then: Step | None = None) -> ScriptedModel:
        return cls(steps=list(steps), then=then)

    @property
    def name(self) -> str:
        return self.model

    def extend(self, steps: Iterable[Step]) -> None:
        self.steps.extend(steps)

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolSpec] = (),
        schema: Mapping[str, Any] | None = None,
        timeout_seconds: float | None = None,
        max_tokens: int | None = None,
    ) -> ModelReply:
        request = ModelRequest([dict(m) for m in messages], tuple(tools), schema, timeout_seconds, max_tokens)
        self.requests.append(request)
        step = self.steps.pop(0) if self.steps else self.then
        if step is None:
            raise ModelUnavailable("the scripted model has no answer left")
        if callable(step) and not isinstance(step, ModelReply | BaseException | Stall):
            step = step(request)
        if isinstance(step, Stall):
            try:
                async with asyncio.timeout(timeout_seconds if timeout_seconds is not None else step.longest):
                    await asyncio.Event().wait()  # nothing ever sets it: the server never answers
            except TimeoutError:
                raise ModelUnavailable(f"model {self.model} did not answer in time") from None
        if isinstance(step, BaseException):
            raise step
        assert isinstance(step, ModelReply)
        return step
