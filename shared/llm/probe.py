"""The start-up check that a model can make tool calls at all.

An OpenAI-compatible server started with a chat format that has no tool template (llama.cpp's
default for many GGUF files) accepts the ``tools`` field and ignores it: the model answers in
plain text, often its own prompt. Without this probe that text would be taken as an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.llm.model import ModelClient, ModelRequestsRefused, ModelUnavailable, ToolSpec

PROBE_TOOL = ToolSpec(
    "report_ready",
    "Report that you are ready.",
    {"type": "object", "properties": {"ready": {"type": "boolean"}}, "required": ["ready"]},
)
FIX = (
    "serve the model with a chat format that supports tool calls: llama.cpp's llama-server with --jinja, "
    "or llama-cpp-python's server with --chat_format chatml-function-calling (or a model-specific "
    "function-calling format); vLLM with --enable-auto-tool-choice and a --tool-call-parser"
)


@dataclass(frozen=True)
class ProbeResult:
    """``calls_tools``: the model made the call; ``text-only``: it cannot; ``unknown``: not reached."""

    outcome: Literal["calls-tools", "text-only", "unknown"]
    detail: str = ""


async def probe_tool_calls(model: ModelClient, *, timeout_seconds: float = 60.0) -> ProbeResult:
    """Ask ``model`` for one trivial function call and say whether it came back as a call."""
    messages = [
        {"role": "system", "content": "You are being checked. Call the function report_ready with ready=true."},
        {"role": "user", "content": "Call report_ready now."},
    ]
    try:
        answer = await model.complete(messages, tools=[PROBE_TOOL], timeout_seconds=timeout_seconds, max_tokens=64)
    except ModelRequestsRefused as exc:
        return ProbeResult("unknown", exc.message)
    except ModelUnavailable as exc:
        return ProbeResult("unknown", f"the model did not answer the probe: {exc.message}")
    if answer.tool_calls:  # any structured call shows the server passes tools to the model
        return ProbeResult("calls-tools")
    said = answer.text.strip().replace("\n", " ")[:120]
    if not said:
        # llama-cpp-python's chatml-function-calling cannot stream an automatic tool choice: it
        # ends the stream at once, with neither text nor a call.
        return ProbeResult(
            "text-only",
            f"{model.name} answered a tool request with nothing; if its server cannot stream tool calls "
            f"(llama-cpp-python's), set SWITCHBOARD_MODEL_STREAM_TOOLS=false; otherwise {FIX}",
        )
    return ProbeResult("text-only", f"{model.name} answered a tool request with text ({said!r}); {FIX}")
