"""A specialist whose non-deterministic skills run as a model tool-calling loop.

Per turn: the skill's procedure (its SKILL.md) is the instruction, the gateway's listing for this
agent is the tool set, and every call still goes through ``Turn.call`` and so through the gateway.
The conversation is a small graph (``respond`` -> ``wait`` -> ``respond``) whose history lives in
the checkpointer with the task, like every skill's state. Skills marked deterministic run their
hand-written graph; the model may only re-phrase the reply, and only when every figure in it
survives. Every model reply passes ``checks.refusal`` before a customer reads it. A model failure
or a refused reply falls back to the hand-written graph (on its own thread of the same task), so
the customer sees an ordinary answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime import outcomes
from agents.runtime.errors import SystemUnavailable, ToolDenied, ToolFailed
from agents.runtime.graph import Outcome, SkillContext, SkillGraphs, SkillState, ask, finish, turn_of
from agents.runtime.llm.checks import Evidence, joined, refusal
from agents.runtime.llm.prompts import ANSWER_TOOL, RULES, answer_tool_schema, tool_result
from agents.runtime.llm.skills import SkillGuide
from agents.runtime.llm.tools import BOUND_ARGS, GovernedTool, Toolbox, bind_arguments, catalog_name
from agents.runtime.turn import Reply, Turn
from shared.handoff import SpecialistResult
from shared.llm.model import ModelClient, ModelUnavailable, ToolSpec, Usage
from shared.llm.redact import customer_message, redact_text
from shared.tools import IDEMPOTENCY_ARG

logger = logging.getLogger(__name__)

USAGE_KEY = "llm_usage"
REFUSED_REPLY_KEY = "llm_reply_refused"
"""Result data: why a model reply was withheld from the customer (counted in the scorecard)."""
_HISTORY_TURNS = 6
_MAX_REPLY_CHARS = 1200
_FIGURES = re.compile(r"\d+(?:[.,]\d+)?")
_APPROVAL_ID = re.compile(r"\bAPR-[0-9A-F]{16}\b")
_ANSWER = ToolSpec(ANSWER_TOOL, "Send your reply to the customer and end this turn.", answer_tool_schema())


class ChatState(SkillState, total=False):
    history: list[dict[str, str]]
    asked: dict[str, Any]


class LLMSpecialist:
    """Wraps a specialist's hand-written ``SkillGraphs``; same skills, same ``SkillRunner`` contract."""

    def __init__(
        self,
        agent: str,
        procedures: SkillGraphs,
        guides: Mapping[str, SkillGuide],
        model: ModelClient,
        toolbox: Toolbox,
        *,
        max_steps: int = 6,
    ) -> None:
        self._agent = agent
        self._procedures = procedures
        self._guides = dict(guides)
        self._model = model
        self._toolbox = toolbox
        self._max_steps = max_steps
        self._rules = RULES.format(agent=agent)
        chats = [s for s in procedures.skills if (g := self._guides.get(s)) is not None and not g.deterministic]
        self._chats = SkillGraphs({skill: self._chat_graph() for skill in chats})

    @property
    def skills(self) -> frozenset[str]:
        return self._procedures.skills

    @property
    def checkpointer(self) -> BaseCheckpointSaver[str]:
        return self._procedures.checkpointer

    def compile(self, saver: BaseCheckpointSaver[str]) -> None:
        self._procedures.compile(saver)
        self._chats.compile(saver)

    async def forget(self, thread: str) -> None:
        await self._procedures.forget(thread)
        await self._procedures.forget(_fallback(thread))

    async def run(self, skill: str, turn: Turn, *, thread: str, context_id: str, resume: bool) -> Outcome:
        if skill not in self._chats.skills:
            outcome = await self._procedures.run(skill, turn, thread=thread, context_id=context_id, resume=resume)
            return Outcome(await self._phrased(turn, outcome.reply), outcome.wait)
        fallback = _fallback(thread)
        if resume and await self._procedures.waiting(skill, fallback):
            return await self._procedures.run(skill, turn, thread=fallback, context_id=context_id, resume=True)
        try:
            return await self._chats.run(skill, turn, thread=thread, context_id=context_id, resume=resume)
        except _ModelDown as down:
            if down.refused:
                logger.warning("%s/%s: model reply withheld (%s); using the procedure", self._agent, skill, down)
            else:
                logger.warning("%s/%s: model unavailable (%s); using the offline procedure", self._agent, skill, down)
            if down.run.wrote:
                # The model already changed something; re-running the procedure could act again.
                reply = turn.reply("That's done. Is there anything else I can help with?", "completed", summary="done")
                outcome = Outcome(reply)
            else:
                outcome = await self._procedures.run(skill, turn, thread=fallback, context_id=context_id, resume=False)
            outcome.reply.result.data["llm_fallback"] = True
            if down.refused:
                outcome.reply.result.data[REFUSED_REPLY_KEY] = str(down)
            # The model calls made before the fallback are still counted.
            return Outcome(self._account(turn, outcome.reply, down.run.usage), outcome.wait)

    def _chat_graph(self) -> StateGraph[ChatState, SkillContext, Any, Any]:
        g = StateGraph(ChatState, context_schema=SkillContext)
        g.add_node("respond", self._respond)
        g.add_node("wait", _wait)
        g.set_entry_point("respond")
        return g

    async def _respond(self, state: ChatState, runtime: Runtime[SkillContext]) -> Command[Any]:
        turn = turn_of(runtime)
        guide = self._guides[turn.skill]
        run = _Run(turn)
        history = list(state.get("history") or [])[-_HISTORY_TURNS * 2 :]
        try:
            reply, history = await self._loop(turn, guide, run, history)
        except _Refused as refused:
            raise _ModelDown(str(refused), run, refused=True) from refused
        except ModelUnavailable as exc:
            raise _ModelDown(str(exc), run) from exc
        except _Held as held:
            reply = held.reply(turn)
        except ToolDenied as exc:
            # The same plain answer as every brain gives, but the model calls made are still counted.
            logger.info("%s/%s: %s", self._agent, turn.skill, exc.message)
            reply = outcomes.denied(turn, exc)
        except SystemUnavailable as exc:
            logger.warning("%s/%s: %s", self._agent, turn.skill, exc.message)
            reply = outcomes.unavailable(turn, exc)
        if run.refused:
            reply.result.data["llm_refused_tools"] = run.refused
        reply = self._account(turn, reply, run.usage)
        if reply.result.status == "input-required":
            asked = {"text": reply.text, "result": reply.result.model_dump(mode="json")}
            return Command(goto="wait", update={"history": history, "asked": asked})
        return finish(reply)

    async def _loop(
        self, turn: Turn, guide: SkillGuide, run: _Run, history: list[dict[str, str]]
    ) -> tuple[Reply, list[dict[str, str]]]:
        tools = await self._tools()
        messages: list[dict[str, Any]] = [
            {
                "role": "system",
                "content": f"{self._rules}\n\nThe task ({guide.name}): {guide.description}\n\n{guide.instructions}",
            },
            *history,
            {"role": "user", "content": customer_message(turn.text)},
        ]
        offered = [t.spec for t in tools.values()] + [_ANSWER]
        for _ in range(self._max_steps):
            answer = await self._model.complete(messages, tools=offered)
            run.usage += answer.usage
            if not answer.tool_calls:
                text = answer.text.strip()
                if not text:
                    raise ModelUnavailable("the model answered nothing")
                _check(text, turn, messages, answer.finish_reason)
                return self._final(turn, history, text, "input-required" if text.endswith("?") else "completed")
            messages.append(_assistant(answer.text, answer.tool_calls))
            for call in answer.tool_calls:
                if call.name == ANSWER_TOOL:
                    args = call.arguments or {}
                    text = str(args.get("text") or "").strip()
                    status = "input-required" if args.get("status") == "input-required" else "completed"
                    if not text:
                        raise ModelUnavailable("the model's answer had no text")
                    _check(text, turn, messages, answer.finish_reason)
                    return self._final(turn, history, text, status)
                content = await self._call(turn, tools.get(call.name), call.name, call.arguments, run)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
        raise ModelUnavailable(f"the model did not answer within {self._max_steps} steps")

    async def _tools(self) -> dict[str, GovernedTool]:
        try:
            return await self._toolbox.tools()
        except Exception as exc:  # the gateway listing is down: the offline procedure reports it properly
            raise ModelUnavailable(f"could not list the gateway's tools: {exc!r}") from exc

    async def _call(
        self, turn: Turn, tool: GovernedTool | None, name: str, arguments: dict[str, Any] | None, run: _Run
    ) -> str:
        if tool is None:
            # Not offered means policy does not grant it (or the listing is stale). The gateway, not
            # this loop, decides, so the attempt is on the audit trail; identifiers are never forwarded.
            run.refused.append(name)
            logger.warning("%s/%s: model asked for unlisted tool %r", self._agent, turn.skill, name)
            unlisted = {k: v for k, v in (arguments or {}).items() if k not in BOUND_ARGS}
            try:
                data = await turn.call(catalog_name(name), unlisted)
            except ToolFailed as exc:
                return tool_result({"error": f"{name} is not available to you ({exc.detail[:200]})"})
            run.wrote = True  # granted after all: nothing tells whether it changed something
            return tool_result(data)
        if arguments is None:
            return tool_result({"error": "arguments must be a JSON object matching the schema"})
        args = bind_arguments(tool, arguments, turn.envelope)
        step = None
        if IDEMPOTENCY_ARG in tool.bound:
            # A write: the same arguments in the same conversation get the same key, so never act twice.
            digest = hashlib.sha256(json.dumps(args, sort_keys=True, default=str).encode()).hexdigest()[:12]
            step = f"llm:{tool.catalog_name}:{digest}"
        try:
            # Denials and dead systems end the turn: ``handle`` answers them as every brain does.
            data = await turn.call(tool.catalog_name, args, step=step)
        except ToolFailed as exc:
            return tool_result({"error": exc.detail})
        run.wrote = run.wrote or step is not None or not tool.read_only
        if step is not None and data.get("status") == "pending_approval":
            # Held for a human: the turn ends here with the runtime's own words, never the model's,
            # and the supervisor parks the goal until the approver decides.
            raise _Held(tool.catalog_name, str(data.get("detail") or ""), args)
        return tool_result(data)

    def _final(
        self, turn: Turn, history: list[dict[str, str]], text: str, status: str
    ) -> tuple[Reply, list[dict[str, str]]]:
        text = text[:_MAX_REPLY_CHARS]
        history = [
            *history,
            {"role": "user", "content": customer_message(turn.text)},
            {"role": "assistant", "content": text},
        ][-_HISTORY_TURNS * 2 :]
        return turn.reply(text, status, summary=f"{turn.skill}: {redact_text(text)[:120]}"), history

    async def _phrased(self, turn: Turn, reply: Reply) -> Reply:
        """The procedure's reply in the model's words, when no figure or identifier is lost."""
        original = reply.text
        if not original or redact_text(original) != original:
            return reply
        usage = Usage()
        try:
            answer = await self._model.complete(
                [
                    {
                        "role": "system",
                        "content": self._rules + "\nRewrite the draft reply; keep every fact and figure.",
                    },
                    {"role": "user", "content": f"<draft_reply>\n{original}\n</draft_reply>"},
                ]
            )
            usage = answer.usage
        except ModelUnavailable:
            return reply
        text = answer.text.strip()[:_MAX_REPLY_CHARS]
        why = refusal(text, Evidence(joined([original, turn.text]), self._rules), finish_reason=answer.finish_reason)
        if text and why is None and sorted(_FIGURES.findall(text)) == sorted(_FIGURES.findall(original)):
            reply = Reply(text, reply.result)
        elif text:
            logger.info("%s/%s: rephrased reply withheld (%s)", self._agent, turn.skill, why or "figures changed")
            reply.result.data[REFUSED_REPLY_KEY] = why or "figures changed"
        return self._account(turn, reply, usage)

    def _account(self, turn: Turn, reply: Reply, usage: Usage) -> Reply:
        if usage.calls:
            record = {"agent": self._agent, "model": self._model.name, **usage.as_dict()}
            if REFUSED_REPLY_KEY in reply.result.data:
                record["replies_withheld"] = 1
            reply.result.data[USAGE_KEY] = record
            logger.info(
                "model usage conversation=%s agent=%s skill=%s tokens=%d cost_usd=%.6f",
                turn.envelope.conversation_id,
                self._agent,
                turn.skill,
                record["total_tokens"],
                usage.cost_usd,
            )
        return reply


async def _wait(state: ChatState, runtime: Runtime[SkillContext]) -> Command[Any]:
    asked = state["asked"]
    ask(Reply(str(asked["text"]), SpecialistResult.model_validate(asked["result"])))
    return Command(goto="respond")


def _fallback(thread: str) -> str:
    """The hand-written graph's thread when the model failed on this task."""
    return f"{thread}/procedure"


def _check(text: str, turn: Turn, messages: list[dict[str, Any]], finish_reason: str) -> None:
    """Raise ``_Refused`` unless the loop's final reply may reach the customer."""
    prompt = "\n".join(str(m.get("content") or "") for m in messages if m.get("role") == "system")
    results = [str(m.get("content") or "") for m in messages if m.get("role") == "tool"]
    why = refusal(text, Evidence(joined([turn.text, *results]), prompt), finish_reason=finish_reason)
    if why is not None:
        raise _Refused(why)


class _Refused(Exception):
    """The model's reply failed a check; the customer gets the procedure's wording instead."""


class _ModelDown(Exception):
    """The model failed (or its reply was refused); ``run`` says whether it already wrote something."""

    def __init__(self, detail: str, run: _Run, *, refused: bool = False) -> None:
        super().__init__(detail)
        self.run = run
        self.refused = refused


class _Held(Exception):
    """A write the gateway holds for a human approval."""

    def __init__(self, tool: str, detail: str, args: Mapping[str, Any]) -> None:
        super().__init__(tool)
        self.tool, self.detail, self.arguments = tool, detail, args

    def reply(self, turn: Turn) -> Reply:
        found = _APPROVAL_ID.search(self.detail)
        return turn.reply(
            "That needs a quick approval from a member of our team. I've asked for it, and I'll tell you here "
            "as soon as it's decided. You don't need to do anything else.",
            "completed",
            summary=f"{self.tool} awaits approval",
            data={
                "approval_pending": True,
                "approval_id": found.group(0) if found else None,
                "amount": self.arguments.get("amount"),
                "currency": self.arguments.get("currency"),
            },
        )


class _Run:
    """What one turn's loop did so far."""

    def __init__(self, turn: Turn) -> None:
        self.usage = Usage()
        self.wrote = False
        self.refused: list[str] = []
        self.turn = turn


def _assistant(text: str, calls: Any) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": text or None,
        "tool_calls": [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments or {})},
            }
            for c in calls
        ],
    }
