"""What ``SWITCHBOARD_MODEL=scripted`` answers for specialists: a fixed, readable script.

It exercises every LLM code path (tool listing, governed calls, fenced results, usage records,
re-phrasing, summaries) with no model at all, so a deployment or CI can compare brains offline.
"""

from __future__ import annotations

import re

from agents.runtime.llm.prompts import ANSWER_TOOL
from shared.llm.model import ModelReply
from shared.llm.scripted import ModelRequest, ScriptedModel, reply

_FENCED = re.compile(r"<(draft_reply|case)>\n(.*?)\n</\1>", re.DOTALL)
_MAX_LOOKUPS = 2


def _respond(request: ModelRequest) -> ModelReply:
    if not request.tools:
        match = _FENCED.search(request.text())
        return reply(match.group(2).strip()[:600] if match else "")
    instructions = str(request.messages[0].get("content") or "")
    # Look up what the procedure names first, among tools that need no argument from the model.
    wanted = sorted(
        (instructions.find(t.name.replace("__", ".")), t.name)
        for t in request.tools
        if t.name != ANSWER_TOOL and not t.parameters.get("required")
    )
    lookups = [name for position, name in wanted if position >= 0][:_MAX_LOOKUPS]
    done = sum(1 for m in request.messages if m.get("role") == "tool")
    if done < len(lookups):
        return reply("", (lookups[done], {}))
    text = "I've looked into this for you and everything I found is on your account record."
    return reply("", (ANSWER_TOOL, {"text": text, "status": "completed"}))


def scripted_specialist_model() -> ScriptedModel:
    return ScriptedModel(then=_respond, model="scripted")
