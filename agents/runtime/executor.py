"""The A2A executor: checks the supervisor's contract, runs the skill's graph, reports the task.

Every request is an A2A task. A new message starts one (``submitted`` then ``working``); the
skill's graph either finishes it (``completed``, ``failed``, or ``rejected`` when policy refuses
the action) or waits: ``input-required`` for the customer, ``auth-required`` for a verified one.
The caller continues a waiting task by sending the next message with its task id. The reply is
the status message (text, plus the SpecialistResult as a data part) and, once finished, a
``result`` artifact with the same parts.

A malformed request is the caller's mistake and gets the A2A error that says what to fix; a
denial or a dead downstream is a normal answer to the customer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from a2a.helpers import get_message_text, new_data_part, new_task_from_user_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types import Task
from a2a.utils.errors import ExtensionSupportRequiredError, InvalidParamsError, InvalidRequestError
from google.protobuf.json_format import MessageToDict
from langgraph.checkpoint.base import BaseCheckpointSaver
from pydantic import BaseModel, ValidationError

from agents.runtime import outcomes
from agents.runtime.errors import SystemUnavailable, ToolDenied, ToolFailed
from agents.runtime.gateway import GatewayClient
from agents.runtime.graph import Outcome, TaskStateLost
from agents.runtime.out_of_time import out_of_time
from agents.runtime.turn import Reply, Turn
from shared import telemetry
from shared.deadline import DeadlinePassed
from shared.envelope import ENVELOPE_META_KEY, ContextEnvelope
from shared.errors import first_problem
from shared.handoff import (
    ENVELOPE_EXTENSION,
    HANDOFF_EXTENSION,
    HANDOFF_META_KEY,
    RESULT_META_KEY,
    HandoffRequest,
)
from shared.llm.model import ModelClient
from shared.skill_steps import SkillTools, StepClaim
from shared.tracing import TRACEPARENT, TRACESTATE

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000
"""Longest customer message a specialist accepts; the supervisor trims or refuses longer ones."""

SKILL_META_KEY = "switchboard/skill"
"""Task metadata: the skill a task runs; continuing it with another skill is refused."""

_EXTENSION_OF = {ENVELOPE_META_KEY: ENVELOPE_EXTENSION, HANDOFF_META_KEY: HANDOFF_EXTENSION}


class SkillRunner(Protocol):
    """Runs a specialist's skills as graphs on the server (``SkillGraphs``, or the LLM brain's)."""

    @property
    def skills(self) -> frozenset[str]: ...

    @property
    def checkpointer(self) -> BaseCheckpointSaver[str]: ...

    def compile(self, saver: BaseCheckpointSaver[str]) -> None: ...

    async def run(self, skill: str, turn: Turn, *, thread: str, context_id: str, resume: bool) -> Outcome: ...

    async def forget(self, thread: str) -> None: ...


class SpecialistExecutor(AgentExecutor):
    """Runs one specialist behind A2A; the skills' state lives in their graphs' checkpointer."""

    def __init__(
        self,
        agent: str,
        runner: SkillRunner,
        skills: Iterable[str],
        gateway: GatewayClient,
        *,
        summary_model: ModelClient | None = None,
        messages: Mapping[str, Mapping[str, str]] | None = None,
        steps: Mapping[str, SkillTools] | None = None,
    ) -> None:
        """``steps``: the skills' declared tools; a one-step skill's calls all name that step."""
        self._agent = agent
        # Each skill's words for outcomes the supervisor announces later (shared.skill_messages).
        self._messages = messages or {}
        self._summary_model = summary_model
        self._steps = dict(steps or {})
        self._runner = runner
        self._skills = frozenset(skills)
        self._skill_list = ", ".join(sorted(self._skills))
        self._gateway = gateway

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        turn = self._parse(context)
        task = context.current_task
        resume = task is not None
        if task is None:
            assert context.message is not None
            task = new_task_from_user_message(context.message)
            task.metadata.update({SKILL_META_KEY: turn.skill})
            await event_queue.enqueue_event(task)
        elif _skill_of(task) != turn.skill:
            raise InvalidParamsError(
                message=f"task {task.id} runs another skill than {turn.skill!r}; start a new task for a new goal"
            )
        turn.task_id = task.id
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.start_work()
        with telemetry.span(
            f"invoke_agent {self._agent}", kind=telemetry.SpanKind.SERVER, parent=_trace_parent(context, turn)
        ) as span:
            outcome = await self._run(turn, task, resume)
            self._with_skill_words(turn, outcome)
            if span is not None:
                telemetry.set_attributes(span, _turn_attributes(self._agent, turn, outcome.reply))
        await self._report(updater, outcome)
        if outcome.wait is None:
            await self._runner.forget(task.id)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        """Cancel a task: nothing may resume its graph afterwards."""
        task_id = context.task_id or (context.current_task.id if context.current_task else "")
        if task_id:
            await self._runner.forget(task_id)
        updater = TaskUpdater(event_queue, task_id, context.context_id or "")
        await updater.cancel()

    def _with_skill_words(self, turn: Turn, outcome: Outcome) -> None:
        """A held action is announced by the supervisor once decided: it needs the skill's words for it."""
        result = outcome.reply.result
        if turn.messages and result.data.get("approval_pending") and not result.messages:
            result.messages = dict(turn.messages)

    def _parse(self, context: RequestContext) -> Turn:
        if context.message is None:
            raise InvalidRequestError(message="the request has no message; send the customer's turn as a Message")
        text = get_message_text(context.message).strip()
        if len(text) > MAX_MESSAGE_CHARS:
            raise InvalidRequestError(
                message=f"the message has {len(text)} characters; the limit is {MAX_MESSAGE_CHARS}, "
                "shorten it before handing it off"
            )
        metadata: dict[str, Any] = MessageToDict(context.message.metadata)
        envelope = _meta_model(metadata, ENVELOPE_META_KEY, ContextEnvelope)
        handoff = _meta_model(metadata, HANDOFF_META_KEY, HandoffRequest)
        if handoff.skill not in self._skills:
            raise InvalidParamsError(
                message=f"the {self._agent} agent has no skill {handoff.skill!r}; its skills are: {self._skill_list}"
            )
        declared = self._steps.get(handoff.skill)
        # A skill with one step never changes step: every call names it. A skill with several names
        # each step where it acts (a write only after the customer's yes).
        only = declared.first if declared is not None and len(declared.steps) == 1 else None
        return Turn(
            text=text,
            envelope=envelope,
            handoff=handoff,
            gateway=self._gateway,
            agent=self._agent,
            summary_model=self._summary_model,
            messages=self._messages.get(handoff.skill, {}),
            scope=StepClaim(skill=handoff.skill, step=only.name) if only is not None else None,
        )

    async def _run(self, turn: Turn, task: Task, resume: bool) -> Outcome:
        try:
            return await self._runner.run(turn.skill, turn, thread=task.id, context_id=task.context_id, resume=resume)
        except ToolDenied as exc:
            logger.info("%s: %s", self._agent, exc.message)
            return Outcome(outcomes.denied(turn, exc))
        except SystemUnavailable as exc:
            logger.warning("%s: %s", self._agent, exc.message)
            return Outcome(outcomes.unavailable(turn, exc))
        except ToolFailed as exc:
            logger.warning("%s: %s", self._agent, exc.message)
            return Outcome(outcomes.tool_failed(turn, exc))
        except DeadlinePassed as exc:
            logger.warning("%s: %s", self._agent, exc)
            return Outcome(out_of_time(turn))
        except TaskStateLost:
            logger.warning("%s: task %s has nothing waiting to continue", self._agent, task.id)
            return Outcome(outcomes.state_lost(turn))

    async def _report(self, updater: TaskUpdater, outcome: Outcome) -> None:
        reply = outcome.reply
        parts = [new_text_part(reply.text), new_data_part(reply.result.model_dump(mode="json"))]
        message = updater.new_agent_message(parts, metadata={RESULT_META_KEY: reply.result.model_dump_json()})
        if outcome.wait == "input":
            await updater.requires_input(message)
            return
        if outcome.wait == "auth":
            await updater.requires_auth(message)
            return
        await updater.add_artifact(parts, name="result")  # copied into the artifact: the same parts serve both
        status = reply.result.status
        if status == "rejected":
            await updater.reject(message)
        elif status == "failed":
            await updater.failed(message)
        else:
            await updater.complete(message)


def _skill_of(task: Task) -> str | None:
    return str(task.metadata[SKILL_META_KEY]) if SKILL_META_KEY in task.metadata else None


def _trace_parent(context: RequestContext, turn: Turn) -> Any:
    """The caller's span: W3C keys in the message metadata, else the envelope's trace context."""
    if not telemetry.enabled():
        return None
    metadata = context.message.metadata if context.message is not None else None
    carrier = {k: metadata[k] for k in (TRACEPARENT, TRACESTATE) if metadata is not None and k in metadata}
    return telemetry.extract(carrier) or telemetry.parent_of(turn.envelope.trace)


def _turn_attributes(agent: str, turn: Turn, reply: Reply) -> dict[str, Any]:
    return {
        telemetry.OPERATION: "invoke_agent",
        telemetry.AGENT_NAME: agent,
        telemetry.CONVERSATION_ID: turn.envelope.conversation_id,
        telemetry.RPC_SYSTEM: "jsonrpc",
        telemetry.RPC_METHOD: "SendMessage",
        "switchboard.skill": turn.handoff.skill,
        "switchboard.handoff.status": reply.result.status,
    }


def _meta_model[M: BaseModel](metadata: dict[str, Any], key: str, model: type[M]) -> M:
    raw = metadata.get(key)
    if raw is None:
        raise ExtensionSupportRequiredError(
            message=f"this agent requires the extension {_EXTENSION_OF[key]}: "
            f"send message metadata {key!r} on every message (see the AgentCard)"
        )
    if not isinstance(raw, str):
        raise InvalidRequestError(message=f"message metadata {key!r} must be a JSON string")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidRequestError(
            message=f"message metadata {key!r} is not a valid {model.__name__}: {first_problem(exc, 'value')}"
        ) from None
