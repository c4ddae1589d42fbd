"""The A2A executor: checks the supervisor's contract, runs one specialist turn, replies.

A malformed turn is the caller's mistake and gets an ``InvalidRequestError`` that says what
to fix; a denial or a dead downstream is a normal answer to the customer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from a2a.helpers import get_message_text, new_text_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.utils.errors import InvalidRequestError, UnsupportedOperationError
from google.protobuf.json_format import MessageToDict
from pydantic import BaseModel, ValidationError

from agents.runtime import outcomes
from agents.runtime.errors import SystemUnavailable, ToolDenied, ToolFailed
from agents.runtime.gateway import GatewayClient
from agents.runtime.turn import Reply, Specialist, Turn
from shared import telemetry
from shared.envelope import ENVELOPE_META_KEY, ContextEnvelope
from shared.handoff import HANDOFF_META_KEY, RESULT_META_KEY, HandoffRequest
from shared.llm.model import ModelClient
from shared.tracing import TRACEPARENT, TRACESTATE

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000
"""Longest customer message a specialist accepts; the supervisor trims or refuses longer ones."""


class SpecialistExecutor(AgentExecutor):
    """Runs one specialist behind A2A; holds nothing between turns."""

    def __init__(
        self,
        agent: str,
        specialist: Specialist,
        skills: Iterable[str],
        gateway: GatewayClient,
        *,
        summary_model: ModelClient | None = None,
    ) -> None:
        self._agent = agent
        self._summary_model = summary_model
        self._specialist = specialist
        self._skills = frozenset(skills)
        self._skill_list = ", ".join(sorted(self._skills))
        self._gateway = gateway

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        turn = self._parse(context)
        with telemetry.span(
            f"invoke_agent {self._agent}", kind=telemetry.SpanKind.SERVER, parent=_trace_parent(context, turn)
        ) as span:
            reply = await self._run(turn)
            if span is not None:
                telemetry.set_attributes(span, _turn_attributes(self._agent, turn, reply))
        message = new_text_message(reply.text, context_id=context.context_id)
        message.metadata.update({RESULT_META_KEY: reply.result.model_dump_json()})
        await event_queue.enqueue_event(message)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise UnsupportedOperationError(message="specialist turns answer at once and cannot be cancelled")

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
            raise InvalidRequestError(
                message=f"the {self._agent} agent has no skill {handoff.skill!r}; its skills are: {self._skill_list}"
            )
        return Turn(
            text=text,
            envelope=envelope,
            handoff=handoff,
            gateway=self._gateway,
            agent=self._agent,
            summary_model=self._summary_model,
        )

    async def _run(self, turn: Turn) -> Reply:
        try:
            return await self._specialist.handle(turn)
        except ToolDenied as exc:
            logger.info("%s: %s", self._agent, exc.message)
            return outcomes.denied(turn, exc)
        except SystemUnavailable as exc:
            logger.warning("%s: %s", self._agent, exc.message)
            return outcomes.unavailable(turn, exc)
        except ToolFailed as exc:
            logger.warning("%s: %s", self._agent, exc.message)
            return outcomes.tool_failed(turn, exc)


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
        raise InvalidRequestError(
            message=f"message metadata {key!r} is missing; the supervisor must send it on every turn"
        )
    if not isinstance(raw, str):
        raise InvalidRequestError(message=f"message metadata {key!r} must be a JSON string")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "value"
        raise InvalidRequestError(
            message=f"message metadata {key!r} is not a valid {model.__name__}: {where}: {first.get('msg')}"
        ) from None
