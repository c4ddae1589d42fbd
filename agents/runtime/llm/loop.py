"""A specialist whose non-deterministic skills run as a model tool-calling loop.

Per turn: the skill's procedure (its SKILL.md) is the instruction, the gateway's listing for this
agent cut to the turn's skill step is the tool set, and every call still goes through
``Turn.call`` and so through the gateway, naming the step. The tool loop is a graph of its own
(``tool_graph.py``); the conversation around it is a small graph (``respond`` -> ``wait`` ->
``respond``) whose history lives in the checkpointer with the task, like every skill's state.
Skills marked deterministic run their hand-written graph; the model may only re-phrase the reply,
and only when every figure in it survives. Every model reply passes ``checks.refusal`` before a
customer reads it. A model failure or a refused reply falls back to the hand-written graph (on its
own thread of the same task), so the customer sees an ordinary answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime import outcomes
from agents.runtime.errors import SystemUnavailable, ToolDenied
from agents.runtime.graph import Outcome, SkillContext, SkillGraphs, SkillState, ask, finish, turn_of
from agents.runtime.llm import tool_graph
from agents.runtime.llm.checks import Evidence, customer_language, joined, refusal
from agents.runtime.llm.prompts import ANSWER_TOOL, RULES, answer_tool_schema
from agents.runtime.llm.skills import SkillGuide
from agents.runtime.llm.tools import GovernedTool, Toolbox
from agents.runtime.out_of_time import out_of_time
from agents.runtime.turn import Reply, Turn
from shared.deadline import DeadlinePassed, remaining
from shared.handoff import SpecialistResult, Status
from shared.llm.budget import ModelBudget
from shared.llm.model import ModelClient, ModelUnavailable, ToolSpec, Usage
from shared.llm.probe import ProbeResult, probe_tool_calls
from shared.llm.redact import customer_message, redact_text
from shared.skill_steps import Step, StepClaim
from shared.yes_no import yes_no

logger = logging.getLogger(__name__)

USAGE_KEY = "llm_usage"
REFUSED_REPLY_KEY = "llm_reply_refused"
"""Result data: why a model reply was withheld from the customer (counted in the scorecard)."""
_HISTORY_TURNS = 6
_MAX_REPLY_CHARS = 1200
_PROCEDURE_SECONDS = 1.0
"""What a hand-written procedure needs at least (a few gateway calls) to be started as the fallback."""
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
        budget: ModelBudget | None = None,
    ) -> None:
        self._agent = agent
        self._procedures = procedures
        self._guides = dict(guides)
        self._model = model
        self._toolbox = toolbox
        self._max_steps = max_steps
        self._budget = budget or ModelBudget()
        self._tool_loop = tool_graph.build(max_steps)
        self._rules = RULES.format(agent=agent)
        chats = [s for s in procedures.skills if (g := self._guides.get(s)) is not None and not g.deterministic]
        self._chats = SkillGraphs({skill: self._chat_graph() for skill in chats})
        self.no_tool_calls: str | None = None
        """Why the model cannot run tool loops (the start-up probe's finding); the procedures run instead."""

    async def probe(self) -> ProbeResult:
        """Check once that the model makes tool calls; if it cannot, the tool loop is switched off, loudly."""
        result = await probe_tool_calls(self._model, timeout_seconds=self._budget.timeout_seconds)
        if result.outcome == "text-only":
            self.no_tool_calls = result.detail
            logger.error(
                "%s: the model cannot make tool calls, so its skills run their procedures: %s",
                self._agent,
                result.detail,
            )
        elif result.outcome == "unknown":
            logger.warning(
                "%s: tool-call probe not completed (%s); each turn falls back if the model fails",
                self._agent,
                result.detail,
            )
        else:
            logger.info("%s: the model makes tool calls", self._agent)
        return result

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
        if self.no_tool_calls is not None and not await self._chats.waiting(skill, thread):
            # Never the model's raw text instead of a tool loop: the procedure answers, and says so in the data.
            outcome = await self._procedures.run(
                skill, turn, thread=_fallback(thread), context_id=context_id, resume=resume
            )
            outcome.reply.result.data["llm_fallback"] = True
            outcome.reply.result.data["llm_no_tool_calls"] = True
            return outcome
        fallback = _fallback(thread)
        if resume and await self._procedures.waiting(skill, fallback):
            return await self._procedures.run(skill, turn, thread=fallback, context_id=context_id, resume=True)
        try:
            return await self._chats.run(skill, turn, thread=thread, context_id=context_id, resume=resume)
        except _ModelDown as down:
            if _out_of_time(turn):
                # No time is left for the procedure: stop, and say what the model's calls did.
                reply = out_of_time(turn)
                reply.result.data["llm_fallback"] = True
                return Outcome(self._account(turn, reply, down.run.usage))
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
        run = tool_graph.Run(turn)
        history = list(state.get("history") or [])[-_HISTORY_TURNS * 2 :]
        step = _step(guide, answering=bool(state.get("asked")), text=turn.text)
        if step is not None:
            turn.scope = StepClaim(skill=turn.skill, step=step.name)
        try:
            reply, history = await self._loop(turn, guide, step, run, history)
        except DeadlinePassed as late:
            logger.warning("%s/%s: %s", self._agent, turn.skill, late)
            reply = out_of_time(turn)
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
        self, turn: Turn, guide: SkillGuide, step: Step | None, run: tool_graph.Run, history: list[dict[str, str]]
    ) -> tuple[Reply, list[dict[str, str]]]:
        tools = _in_step(await self._tools(), step)
        system = f"{self._rules}\n\nThe task ({guide.name}): {guide.description}\n\n{guide.instructions}"
        if step is not None and guide.tools is not None:
            system += "\n\n" + _step_rule(step, guide.tools.after_yes())
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            *history,
            {"role": "user", "content": customer_message(turn.text)},
        ]
        context = tool_graph.LoopContext(
            run=run,
            model=self._model,
            tools=tools,
            offered=[t.spec for t in tools.values()] + [_ANSWER],
            budget=self._budget,
            check=lambda text, seen, finish_reason: _check(text, turn, seen, finish_reason),
            held=lambda tool, detail, args: _Held(tool, detail, args),
        )
        out = await self._tool_loop({"messages": messages}, context)
        answer = out["answer"]
        return self._final(turn, history, answer["text"], answer["status"])

    async def _tools(self) -> dict[str, GovernedTool]:
        try:
            return await self._toolbox.tools()
        except Exception as exc:  # the gateway listing is down: the offline procedure reports it properly
            raise ModelUnavailable(f"could not list the gateway's tools: {exc!r}") from exc

    def _final(
        self, turn: Turn, history: list[dict[str, str]], text: str, status: Status
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
            # Only with time to spare: the procedure's own words are true, a late rephrasing is not.
            timeout, max_tokens = self._budget.call(_spare(turn))
        except DeadlinePassed:
            return reply
        try:
            answer = await self._model.complete(
                [
                    {
                        "role": "system",
                        "content": self._rules + "\nRewrite the draft reply; keep every fact and figure.",
                    },
                    {"role": "user", "content": f"<draft_reply>\n{original}\n</draft_reply>"},
                ],
                timeout_seconds=timeout,
                max_tokens=max_tokens,
            )
            usage = answer.usage
        except ModelUnavailable:
            return reply
        text = answer.text.strip()[:_MAX_REPLY_CHARS]
        evidence = Evidence(joined([original, turn.text]), self._rules, customer_language(turn.text))
        why = refusal(text, evidence, finish_reason=answer.finish_reason)
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
    evidence = Evidence(joined([turn.text, *results]), prompt, customer_language(turn.text))
    why = refusal(text, evidence, finish_reason=finish_reason)
    if why is not None:
        raise _Refused(why)


class _Refused(Exception):
    """The model's reply failed a check; the customer gets the procedure's wording instead."""


class _ModelDown(Exception):
    """The model failed (or its reply was refused); ``run`` says whether it already wrote something."""

    def __init__(self, detail: str, run: tool_graph.Run, *, refused: bool = False) -> None:
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


def _step(guide: SkillGuide, *, answering: bool, text: str) -> Step | None:
    """The skill step this turn runs in: the write step only right after the customer's explicit yes."""
    if guide.tools is None:
        return None
    after_yes = guide.tools.after_yes()
    if after_yes is not None and answering and yes_no(text) is True:
        return after_yes
    return guide.tools.first


def _in_step(tools: Mapping[str, GovernedTool], step: Step | None) -> dict[str, GovernedTool]:
    """What the model is shown: the gateway's listing for this agent, cut to the step's tools."""
    if step is None:
        return dict(tools)
    return {name: tool for name, tool in tools.items() if tool.catalog_name in step.tools}


def _step_rule(step: Step, after_yes: Step | None) -> str:
    if step.after_yes:
        return "The customer has just said yes to what you proposed: do exactly that now, then confirm it."
    if after_yes is not None:
        return (
            "Anything that changes the customer's account needs their explicit yes first: look things up, "
            "propose the change with its details, ask, and end your turn with status input-required."
        )
    return "Only look things up and answer; nothing in this task changes the customer's account."


def _spare(turn: Turn) -> float | None:
    """Time left for optional model work: half of what is left of the turn."""
    left = remaining(turn.envelope)
    return None if left is None else left / 2


def _out_of_time(turn: Turn) -> bool:
    """Whether too little of the turn is left for the procedure to run its steps."""
    left = remaining(turn.envelope)
    return left is not None and left < _PROCEDURE_SECONDS
