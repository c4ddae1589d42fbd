"""A scripted model provider: an OpenAI-compatible ``/v1/chat/completions`` on loopback.

The stack reaches it exactly as it reaches a hosted model, through litellm with a base URL, so
the whole LLM path (settings, litellm, usage and cost, fallbacks) runs with no real model. A test
sets ``script`` to decide what each request gets: a message, an HTTP status, a hang or garbage.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from shared.serving import serving

HANG = "hang"
GARBAGE = "garbage"
PROMPT_TOKENS = 120
COMPLETION_TOKENS = 30

_CUSTOMER = re.compile(r"<customer_message>\n(.*?)\n</customer_message>", re.DOTALL)
_DRAFT = re.compile(r"<draft_reply>\n(.*?)\n</draft_reply>", re.DOTALL)
_AGENT = re.compile(r"as the (\w+) agent")


@dataclass(frozen=True)
class Seen:
    """One request as the provider received it, with what a script usually needs parsed out."""

    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def kind(self) -> str:
        """route (a schema answer), loop (tools offered), phrase (a draft to rewrite) or summary."""
        if self.body.get("response_format"):
            return "route"
        if self.body.get("tools"):
            return "loop"
        return "phrase" if _DRAFT.search(self.text) else "summary"

    @property
    def agent(self) -> str:
        match = _AGENT.search(str(self.messages[0].get("content") or "")) if self.messages else None
        return match.group(1) if match else "router"

    @property
    def text(self) -> str:
        return "\n".join(str(m.get("content") or "") for m in self.messages)

    @property
    def customer_text(self) -> str:
        found = _CUSTOMER.findall(self.text)
        return found[-1] if found else ""

    @property
    def draft(self) -> str:
        match = _DRAFT.search(self.text)
        return match.group(1) if match else ""

    @property
    def tool_names(self) -> list[str]:
        return [t["function"]["name"] for t in self.body.get("tools") or []]

    @property
    def tool_results(self) -> list[str]:
        return [str(m.get("content") or "") for m in self.messages if m.get("role") == "tool"]


Answer = dict[str, Any] | int | str
"""A message (``content`` and/or ``tool_calls``), an HTTP status to fail with, HANG or GARBAGE."""
Script = Callable[[Seen], Answer]


def say(text: str) -> dict[str, Any]:
    return {"content": text}


def call(name: str, arguments: dict[str, Any], *more: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A message asking for one or more function calls."""
    calls = [(name, arguments), *more]
    return {
        "content": None,
        "tool_calls": [
            {"id": f"call-{i}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
            for i, (n, a) in enumerate(calls)
        ],
    }


def answer(text: str, status: str = "completed") -> dict[str, Any]:
    return call("answer_customer", {"text": text, "status": status})


def streamed_or_whole(request: dict[str, Any], completion: dict[str, Any]) -> Response:
    """``completion`` as the client asked for it: one JSON body, or an OpenAI server-sent stream."""
    if not request.get("stream"):
        return JSONResponse(completion)
    base = {k: completion[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}
    events = []
    for choice in completion["choices"]:
        message = dict(choice["message"])
        delta: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
        if message.get("tool_calls"):
            delta["tool_calls"] = [{"index": i, **c} for i, c in enumerate(message["tool_calls"])]
        finish = choice.get("finish_reason") or "stop"
        if message.get("tool_calls") and finish == "stop":
            finish = "tool_calls"
        events.append({**base, "choices": [{"index": choice.get("index", 0), "delta": delta, "finish_reason": None}]})
        events.append({**base, "choices": [{"index": choice.get("index", 0), "delta": {}, "finish_reason": finish}]})
    if completion.get("usage"):
        events.append({**base, "choices": [], "usage": completion["usage"]})
    text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return Response(text, media_type="text/event-stream")


@dataclass
class ScriptedProvider:
    """The provider's state; ``script`` may be swapped between turns (tests run one at a time)."""

    script: Script
    requests: list[Seen] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""
    abandoned: int = 0
    """Streamed answers whose client closed the connection before the answer was written."""
    hung_up: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a client hangs up on a streamed answer."""
    finish_reason: str = "stop"

    def seen(self, kind: str | None = None, agent: str | None = None) -> list[Seen]:
        return [s for s in self.requests if (kind is None or s.kind == kind) and (agent is None or s.agent == agent)]

    async def _completions(self, request: Request) -> Response:
        seen = Seen(await request.json())
        self.requests.append(seen)
        result = self.script(seen)
        streamed = bool(seen.body.get("stream"))
        if result == HANG and streamed:
            return StreamingResponse(self._hanging(), media_type="text/event-stream")
        if result == HANG:
            await self.release.wait()  # until the test ends; the client gives up long before
            return PlainTextResponse("too late", status_code=504)
        if result == GARBAGE:
            return PlainTextResponse("<html>upstream proxy error</html>", status_code=200)
        if isinstance(result, int):
            return JSONResponse({"error": {"message": "overloaded", "type": "server_error"}}, status_code=result)
        assert isinstance(result, dict)
        model = str(seen.body.get("model") or "gpt-4o-mini")  # litellm prices the call by it
        usage = {
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": COMPLETION_TOKENS,
            "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
        }
        body = {
            "id": f"cmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", **result}, "finish_reason": self.finish_reason}],
            "usage": usage,
        }
        return streamed_or_whole(seen.body, body)

    async def _hanging(self) -> AsyncIterator[str]:
        """A stream that never gets its first token; counts the clients that hang up on it."""
        try:
            await self.release.wait()
            yield "data: [DONE]\n\n"
        finally:
            if not self.release.is_set():
                self.abandoned += 1
                self.hung_up.set()


@asynccontextmanager
async def scripted_provider(script: Script) -> AsyncIterator[ScriptedProvider]:
    """Serve a ``ScriptedProvider`` on loopback; ``.url`` is the base URL to configure (``.../v1``)."""
    provider = ScriptedProvider(script)
    app = Starlette(routes=[Route("/v1/chat/completions", provider._completions, methods=["POST"])])
    async with serving(app, name="scripted-provider") as url:
        provider.url = url + "/v1"
        try:
            yield provider
        finally:
            provider.release.set()
