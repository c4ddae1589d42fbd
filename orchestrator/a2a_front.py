"""Switchboard as an A2A agent: any A2A client can hold a customer conversation with the supervisor.

The AgentCard (``/.well-known/agent-card.json``, public) lists the customer goals the supervisor
handles: the specialists' skills, under their customer labels, learned from their cards at
start-up. Every call to ``/a2a/jsonrpc`` or ``/a2a/rest`` needs a token for the audience
``orchestrator`` from the token service (an operator registers the external agent with
``switchboard clients register``).

The A2A context is the conversation: a first message without a context starts a conversation on
the ``a2a`` channel, owned by the calling client, and its id comes back as the ``context_id``.
Each message is one customer turn; the supervisor's reply is the task's status message, with
``input-required`` while the conversation waits for the customer (a question, a one-time code,
a yes or no), and ``completed``, ``failed`` or ``rejected`` once the turn settled its goal.

Every refusal here (no valid token, a Switchboard service posing as a customer's agent, a context
the caller does not own) is reported like the specialists' (``on_refused``: the gateway's audit
log), naming the refused caller.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

from a2a.helpers import get_message_text, new_data_part, new_task_from_user_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.context import ServerCallContext
from a2a.server.events import Event, EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes, create_rest_routes
from a2a.server.tasks import InMemoryTaskStore, TaskStore, TaskUpdater
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Message,
    SendMessageRequest,
    Task,
)
from a2a.utils.errors import InvalidParamsError, InvalidRequestError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from orchestrator.admission import Admission
from orchestrator.front_later import MOUNT
from orchestrator.routing.specs import SkillSpec
from orchestrator.supervisor import Supervisor, TurnOutcome
from shared.errors import NotFound, SwitchboardError
from shared.service_auth import Refusal, RequireToken, ServiceAuth, audiences
from shared.service_auth.a2a import CallerContextBuilder, security
from shared.service_auth.guard import OnRefused, report_refusal
from shared.service_auth.strict_body import StrictJsonBody
from shared.settings import A2A_JSONRPC_PATH, A2A_REST_PATH

CHANNEL = "a2a"
CARD_VERSION = "0.1.0"
CARD_CACHE_CONTROL = "public, max-age=300"
DESCRIPTION = (
    "Switchboard customer service: one conversation per context; the customer's goals are routed "
    "to specialists behind governed access to the company's systems."
)
_MOUNT = MOUNT
_WAITING = frozenset({"input-required", "auth-required"})
"""Turn statuses that wait for the customer's next message."""
_SETTLED = {"completed": "completed", "failed": "failed", "rejected": "rejected"}

SupervisorGetter = Callable[[], Supervisor]


def front_card(public_url: str, token_url: str, specs: list[SkillSpec]) -> AgentCard:
    """The orchestrator's card: its A2A endpoints, its token scheme and the goals customers bring."""
    base = public_url.rstrip("/")
    return AgentCard(
        **security(token_url, audiences.ORCHESTRATOR),
        name="switchboard",
        description=DESCRIPTION,
        version=CARD_VERSION,
        supported_interfaces=[
            AgentInterface(url=f"{base}{A2A_JSONRPC_PATH}", protocol_binding="JSONRPC", protocol_version="1.0"),
            AgentInterface(url=f"{base}{A2A_REST_PATH}", protocol_binding="HTTP+JSON", protocol_version="1.0"),
        ],
        capabilities=AgentCapabilities(streaming=True, push_notifications=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain", "application/json"],
        skills=[
            AgentSkill(
                id=spec.skill,
                name=spec.label or spec.skill,
                description=spec.description,
                tags=list(spec.tags),
                examples=list(spec.examples),
            )
            for spec in specs
        ],
    )


class SupervisorExecutor(AgentExecutor):
    """One A2A message is one customer turn of the conversation named by the context id."""

    def __init__(self, supervisor: SupervisorGetter, admission: Admission, on_refused: OnRefused | None) -> None:
        self._supervisor = supervisor
        self._admission = admission
        self._on_refused = on_refused

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        if context.message is None:
            raise InvalidRequestError(message="the request has no message; send the customer's words as a Message")
        conversation_id = await self._owned_conversation(context)
        task = context.current_task
        if task is None:
            task = new_task_from_user_message(context.message)
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.start_work()
        text = get_message_text(context.message)
        try:
            with self._admission.admit("turn"):
                outcome = await self._supervisor().turn(conversation_id, text, channel=CHANNEL)
        except SwitchboardError as exc:
            if exc.http_status < 500:
                raise InvalidParamsError(message=exc.message) from None
            await updater.failed(updater.new_agent_message([new_text_part(exc.message)]))
            return
        await _report(updater, outcome)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        # A turn cannot be taken back; the conversation stays, and the next message goes on with it.
        updater = TaskUpdater(event_queue, context.task_id or "", context.context_id or "")
        await updater.cancel()

    async def _owned_conversation(self, context: RequestContext) -> str:
        conversation_id = context.context_id or ""
        caller = await _caller(context.call_context, self._on_refused)
        await owned(self._supervisor(), conversation_id, caller, self._on_refused)
        return conversation_id


async def owned(supervisor: Supervisor, conversation_id: str, caller: str, on_refused: OnRefused | None) -> None:
    """Refuse a context that is not a conversation this client started (the same words either way)."""
    try:
        state = await supervisor.store.load(conversation_id)
    except NotFound:
        state = None
    if state is None or state.a2a_client != caller:
        message = (
            f"no conversation {conversation_id!r} for this client; "
            "send the first message without a context id to start one"
        )
        await _refuse(on_refused, caller, message)
        raise InvalidParamsError(message=message)


async def _refuse(on_refused: OnRefused | None, caller: str, reason: str) -> None:
    # The caller's token was verified here: the record names it as is, not "(unverified)".
    await report_refusal(on_refused, Refusal(audiences.ORCHESTRATOR, caller[:200], reason, _MOUNT, ""))


async def _report(updater: TaskUpdater, outcome: TurnOutcome) -> None:
    parts = [new_text_part(outcome.reply)]
    if outcome.data:
        parts.append(new_data_part(outcome.data))
    message = updater.new_agent_message(
        parts, metadata={"agent": outcome.agent or "", "skill": outcome.skill or "", "status": outcome.status}
    )
    settled = _SETTLED.get(outcome.status)
    if settled is None or outcome.status in _WAITING:
        # Waiting for the customer, with a person, or for an approval: the next message goes on.
        await updater.requires_input(message)
        return
    await updater.add_artifact(parts, name="reply")
    if settled == "rejected":
        await updater.reject(message)
    elif settled == "failed":
        await updater.failed(message)
    else:
        await updater.complete(message)


async def _caller(call_context: ServerCallContext | None, on_refused: OnRefused | None) -> str:
    """The external agent calling; Switchboard's own services hold orchestrator tokens for other doors."""
    user = call_context.user if call_context is not None else None
    if user is None or not user.is_authenticated:
        await _refuse(on_refused, "unknown", "the caller is not authenticated")
        raise InvalidRequestError(message="the caller is not authenticated")
    if not user.user_name.startswith(audiences.EXTERNAL_PREFIX):
        message = f"{user.user_name!r} is not an external agent; register one with 'switchboard clients register'"
        await _refuse(on_refused, user.user_name, message)
        raise InvalidRequestError(message=message)
    return user.user_name


class _FrontHandler(DefaultRequestHandler):
    """The SDK's handler, plus: a message without a context starts a conversation the caller owns."""

    def __init__(
        self, supervisor: SupervisorGetter, admission: Admission, on_refused: OnRefused | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._supervisor = supervisor
        self._admission = admission
        self._on_refused = on_refused

    async def on_message_send(self, params: SendMessageRequest, context: ServerCallContext) -> Message | Task:
        await self._bind(params.message, context)
        result: Message | Task = await super().on_message_send(params, context)
        return result

    async def on_message_send_stream(
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> AsyncGenerator[Event]:
        await self._bind(params.message, context)
        async for event in super().on_message_send_stream(params, context):
            yield event

    async def _bind(self, message: Message, context: ServerCallContext) -> None:
        if message.context_id:
            caller = await _caller(context, self._on_refused)
            await owned(self._supervisor(), message.context_id, caller, self._on_refused)
            return
        if message.task_id:
            return  # the task's context: the executor checks that the caller owns it
        caller = await _caller(context, self._on_refused)
        with self._admission.admit("conversation"):
            state, _token = await self._supervisor().start(CHANNEL)
        state.a2a_client = caller
        await self._supervisor().store.save_turn(state, [])
        message.context_id = state.conversation_id


class A2AFront:
    """The card route and the token-guarded A2A routes; ``publish`` fills in the skills once known.

    ``on_refused`` records every refused caller (the gateway's audit log in a deployment);
    ``task_store`` keeps the tasks (memory when None, for one process that need not keep them).
    """

    def __init__(
        self,
        supervisor: SupervisorGetter,
        auth: ServiceAuth,
        admission: Admission,
        public_url: str,
        on_refused: OnRefused | None = None,
        task_store: TaskStore | None = None,
    ) -> None:
        self._token_url = auth.verifier.issuer + audiences.TOKEN_PATH
        self._public_url = public_url
        self._card = front_card(public_url, self._token_url, [])
        self._auth = auth
        self._on_refused = on_refused
        self._handler = _FrontHandler(
            supervisor,
            admission,
            on_refused,
            agent_executor=SupervisorExecutor(supervisor, admission, on_refused),
            # Durable and shared (``shared.a2a_tasks``) when given: any orchestrator process answers GetTask.
            task_store=task_store if task_store is not None else InMemoryTaskStore(),
            agent_card=self._card,
            validate_input_modes=True,
        )

    def publish(self, specs: list[SkillSpec]) -> None:
        """The card with the customer goals the supervisor now routes (after discovering the specialists)."""
        self._card = front_card(self._public_url, self._token_url, specs)

    async def _current_card(self, _card: AgentCard) -> AgentCard:
        return self._card

    def card_routes(self) -> list[BaseRoute]:
        """The public AgentCard."""
        return list(
            create_agent_card_routes(self._card, card_modifier=self._current_card, cache_control=CARD_CACHE_CONTROL)
        )

    def guarded_app(self) -> Starlette:
        """The token-guarded A2A bindings, to mount at ``/a2a``."""
        callers = CallerContextBuilder()
        return Starlette(
            routes=[
                *create_jsonrpc_routes(
                    self._handler, rpc_url=A2A_JSONRPC_PATH.removeprefix(_MOUNT), context_builder=callers
                ),
                *create_rest_routes(
                    self._handler, path_prefix=A2A_REST_PATH.removeprefix(_MOUNT), context_builder=callers
                ),
            ],
            middleware=[
                Middleware(
                    RequireToken,
                    verifier=self._auth.verifier,
                    audience=audiences.ORCHESTRATOR,
                    on_refused=self._on_refused,
                ),
                Middleware(StrictJsonBody),  # the SDK would answer a hostile body with a 500
            ],
        )

    async def aclose(self) -> None:
        await self._handler.aclose()
