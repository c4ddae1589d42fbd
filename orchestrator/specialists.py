"""The specialists the supervisor knows, learned from their AgentCards, and the A2A handoff.

Nothing here names a specialist: a new agent URL in the configuration is all it takes for
its skills to appear in routing.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from a2a.client import A2ACardResolver, AuthInterceptor, ClientCallContext, ClientConfig, ClientFactory
from a2a.client.client import Client
from a2a.helpers import get_message_text
from a2a.types import (
    AgentCard,
    CancelTaskRequest,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    Task,
)
from a2a.utils.errors import A2AError, TaskNotCancelableError, TaskNotFoundError, UnsupportedOperationError
from pydantic import ValidationError

from orchestrator.routing import SkillSpec
from orchestrator.turn_deadline import wait_for_specialist
from shared import telemetry
from shared.envelope import ENVELOPE_META_KEY, ContextEnvelope
from shared.errors import ConfigurationError, ServiceUnavailable
from shared.handoff import HANDOFF_META_KEY, RESULT_META_KEY, HandoffRequest, SpecialistResult
from shared.service_auth import AudienceCredentials, TokenSource, audiences
from shared.serving import CLIENT_KEEP_ALIVE_SECONDS
from shared.tls import client_tls

log = logging.getLogger("switchboard.specialists")

_ANSWER_ONLY = SendMessageConfiguration(history_length=0)
"""A handoff reads the task's id and its status message, never its history. Without this the
specialist sent every earlier message of the task back (each with its envelope), and both ends
spent CPU writing and parsing it on every turn of a continued task."""


@dataclass(frozen=True)
class SpecialistReply:
    """One A2A turn's answer: what the customer reads, the result, and the task it belongs to."""

    text: str
    result: SpecialistResult
    task_id: str


@dataclass
class Specialist:
    name: str
    url: str
    card: AgentCard
    client: Client
    tags: dict[str, frozenset[str]]  # skill id -> tags


class SpecialistDirectory:
    """Cards and A2A clients for every configured specialist, fetched once at start-up."""

    def __init__(self, specialists: dict[str, Specialist], http: list[httpx.AsyncClient], timeout: float) -> None:
        self._by_name = specialists
        self._http = http
        self._timeout = timeout

    @classmethod
    async def discover(
        cls,
        urls: list[str],
        *,
        tokens: TokenSource,
        timeout: float = 20.0,
        attempts: int = 40,
        retry_delay: float = 0.25,
    ) -> SpecialistDirectory:
        """Fetch every card; agents may still be starting, so each is retried for a while.

        Each client attaches a token for its agent (``agent:<name>``) from ``tokens`` through the
        a2a-sdk's ``AuthInterceptor``, as the card's security requirement asks.
        """
        # A connection pool per specialist: httpx scans every connection of its pool on each request
        # and each response (expiry, a poll of each idle socket, the idle count), so one pool shared
        # by all of them made every handoff pay for the connections to the other four.
        http = {url: _http_client(timeout) for url in dict.fromkeys(urls)}
        try:
            cards = await asyncio.gather(*(_fetch_card(http[u], u, attempts, retry_delay) for u in urls))
            specialists: dict[str, Specialist] = {}
            for url, card in zip(urls, cards, strict=True):
                if card.name in specialists:
                    raise ConfigurationError(
                        f"two agents at {specialists[card.name].url} and {url} are both named {card.name!r}"
                    )
                specialists[card.name] = Specialist(
                    name=card.name,
                    url=url,
                    card=card,
                    client=_client_factory(http[url]).create(
                        card, interceptors=[AuthInterceptor(AudienceCredentials(tokens, audiences.agent(card.name)))]
                    ),
                    tags={s.id: frozenset(s.tags) for s in card.skills},
                )
                log.info("specialist %s at %s with skills %s", card.name, url, ", ".join(s.id for s in card.skills))
        except BaseException:
            await asyncio.gather(*(client.aclose() for client in http.values()))
            raise
        return cls(specialists, list(http.values()), timeout)

    async def close(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self._http))

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    def cards(self) -> list[AgentCard]:
        return [s.card for s in self._by_name.values()]

    def skill_specs(self) -> list[SkillSpec]:
        return [
            SkillSpec(
                agent=s.name,
                skill=skill.id,
                description=skill.description,
                examples=list(skill.examples),
                tags=list(skill.tags),
                label=skill.name,
            )
            for s in self._by_name.values()
            for skill in s.card.skills
        ]

    def has_tag(self, agent: str, skill: str, tag: str) -> bool:
        spec = self._by_name.get(agent)
        return bool(spec and tag in spec.tags.get(skill, ()))

    def find_tagged(self, tag: str) -> tuple[str, str] | None:
        """The first (agent, skill) carrying ``tag``, e.g. where verification happens."""
        for spec in self._by_name.values():
            for skill, tags in spec.tags.items():
                if tag in tags:
                    return spec.name, skill
        return None

    async def send(
        self,
        agent: str,
        text: str,
        envelope: ContextEnvelope,
        handoff: HandoffRequest,
        *,
        task_id: str | None = None,
        or_new_task: bool = True,
    ) -> SpecialistReply:
        """One A2A turn: a new task, or the next message of the waiting task ``task_id``.

        When that task can no longer be continued, the words start a new task (``or_new_task``) or
        the call fails. Raises ServiceUnavailable when the specialist cannot be reached or refuses.
        """
        with telemetry.span(f"invoke_agent {agent}", kind=telemetry.SpanKind.CLIENT) as span:
            if span is None:
                return await self._send(agent, text, envelope, handoff, task_id, or_new_task)
            # The specialist's span is this span's child: the envelope carries this span's context.
            envelope = envelope.model_copy(update={"trace": telemetry.trace_context(span) or envelope.trace})
            telemetry.set_attributes(span, _handoff_attributes(agent, envelope, handoff, self._by_name.get(agent)))
            reply = await self._send(agent, text, envelope, handoff, task_id, or_new_task)
            span.set_attribute("switchboard.handoff.status", reply.result.status)
            return reply

    async def cancel(self, agent: str, task_id: str) -> None:
        """Cancel a waiting task the customer left for another goal; one already gone is fine."""
        spec = self._by_name.get(agent)
        if spec is None:
            return
        try:
            await spec.client.cancel_task(
                CancelTaskRequest(id=task_id), context=ClientCallContext(timeout=self._timeout)
            )
        except (TaskNotFoundError, TaskNotCancelableError):
            return
        except (A2AError, httpx.HTTPError) as exc:
            # Not fatal for the customer: the task can no longer be continued by this conversation,
            # and the specialist prunes abandoned tasks on its own schedule.
            log.warning("could not cancel task %s at %s: %s", task_id, agent, exc)

    async def _send(
        self,
        agent: str,
        text: str,
        envelope: ContextEnvelope,
        handoff: HandoffRequest,
        task_id: str | None,
        or_new_task: bool = True,
    ) -> SpecialistReply:
        spec = self._by_name.get(agent)
        if spec is None:
            raise ServiceUnavailable(f"no specialist named {agent!r} is configured")
        message = Message(
            role=Role.ROLE_USER,
            message_id=uuid.uuid4().hex,
            context_id=envelope.conversation_id,
            task_id=task_id or "",
            parts=[Part(text=text)],
        )
        carrier = envelope.trace.carrier()  # W3C keys in the metadata and as headers
        message.metadata.update(
            {ENVELOPE_META_KEY: envelope.model_dump_json(), HANDOFF_META_KEY: handoff.model_dump_json(), **carrier}
        )
        # What is left of the turn, not a fixed wait: the specialist stops at its own deadline.
        wait = wait_for_specialist(envelope.deadline_at, self._timeout)
        call = ClientCallContext(timeout=wait, service_parameters=carrier)
        task: Task | None = None
        reply: Message | None = None
        try:
            async for event in spec.client.send_message(
                SendMessageRequest(message=message, configuration=_ANSWER_ONLY), context=call
            ):
                kind = event.WhichOneof("payload")
                if kind == "task":
                    task = event.task
                    reply = task.status.message if task.status.HasField("message") else None
                elif kind == "message":  # an agent may answer a one-shot request without a task
                    reply = event.message
        except (TaskNotFoundError, UnsupportedOperationError) as exc:
            if not task_id or not or_new_task:
                raise ServiceUnavailable(f"the {agent} specialist refused the request") from exc
            # The task is finished, cancelled or pruned: the customer's words start a new one, which
            # asks again before it acts, rather than anything resuming by accident.
            log.info("task %s at %s cannot be continued (%s); starting a new task", task_id, agent, exc)
            return await self._send(agent, text, envelope, handoff, None)
        except A2AError as exc:
            log.warning("handoff to %s failed: %s", agent, exc)
            raise ServiceUnavailable(f"the {agent} specialist could not be reached") from exc
        if reply is None or RESULT_META_KEY not in reply.metadata:
            raise ServiceUnavailable(f"the {agent} specialist sent no usable answer")
        try:
            result = SpecialistResult.model_validate_json(reply.metadata[RESULT_META_KEY])
        except ValidationError as exc:
            raise ServiceUnavailable(f"the {agent} specialist sent a malformed result") from exc
        return SpecialistReply(get_message_text(reply), result, task.id if task is not None else "")


def _http_client(timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_keepalive_connections=64, keepalive_expiry=CLIENT_KEEP_ALIVE_SECONDS),
        verify=client_tls(),
    )


def _client_factory(http: httpx.AsyncClient) -> ClientFactory:
    """How every A2A client to a specialist is made: one place for interceptors (credentials, headers)."""
    return ClientFactory(ClientConfig(streaming=False, httpx_client=http))


def _handoff_attributes(
    agent: str, envelope: ContextEnvelope, handoff: HandoffRequest, spec: Specialist | None
) -> dict[str, object]:
    where = urlsplit(spec.url) if spec else None
    return {
        telemetry.OPERATION: "invoke_agent",
        telemetry.AGENT_NAME: agent,
        telemetry.CONVERSATION_ID: envelope.conversation_id,
        telemetry.RPC_SYSTEM: "jsonrpc",
        telemetry.RPC_METHOD: "SendMessage",
        telemetry.SERVER_ADDRESS: where.hostname if where else None,
        telemetry.SERVER_PORT: where.port if where else None,
        "switchboard.skill": handoff.skill,
        "switchboard.handoff.reason": handoff.reason,
    }


async def _fetch_card(http: httpx.AsyncClient, url: str, attempts: int, delay: float) -> AgentCard:
    last: Exception | None = None
    for _ in range(attempts):
        try:
            return await A2ACardResolver(http, url).get_agent_card()
        except (A2AError, httpx.HTTPError, ValueError) as exc:
            last = exc
            await asyncio.sleep(delay)
    raise ConfigurationError(
        f"could not read the AgentCard at {url}/.well-known/agent-card.json: {last}",
        hint="check that the agent is running and the URL in SWITCHBOARD_AGENT_URLS is right",
    )
