"""The orchestrator's JSON HTTP API: the conversation turn that every front-end uses.

POST /api/conversations                      -> 201 {conversation_id, token, greeting}
POST /api/conversations/{id}/messages {text} -> 200 TurnOutcome      (Authorization: Bearer <token>)
GET  /api/conversations/{id}                 -> 200 state + transcript + place in the queue (same token)
GET  /api/agents                             -> the specialists and their skills (from AgentCards)
POST /api/signals  (X-Switchboard-Signature) -> 202 a CAMARA network notification (orchestrator/signals)
GET  /api/internal/open-cases?customer_id=&email=&msisdn=
                                          -> the customer's escalated conversations, verified or claimed (gateway only)
GET  /.well-known/agent-card.json           -> Switchboard's own AgentCard (orchestrator.a2a_front)
POST /a2a/jsonrpc, /a2a/rest/...             -> A2A: a conversation per context (a token for 'orchestrator')
GET  /healthz                                -> status, specialists and current load (admission)
GET  /metrics                                -> load in the Prometheus text format

At capacity a new conversation or turn gets 503 with ``Retry-After`` at once (``admission``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from orchestrator.admission import CONTENT_TYPE_LATEST, Admission, AdmissionLimits
from orchestrator.cases import CaseDesk, QueueSettings
from orchestrator.cases.open_cases import MAX_CLAIM
from orchestrator.cases.open_cases import open_cases as customer_open_cases
from orchestrator.cases.profile_follow import DURABLE as PROFILE_DURABLE
from orchestrator.cases.profile_follow import FOLLOWED as PROFILE_KINDS
from orchestrator.cases.profile_follow import ProfileFollower
from orchestrator.channels import TurnHub, channel_routes, channel_store
from orchestrator.channels._http import json_body
from orchestrator.consoles import console_routes, staff_sessions
from orchestrator.disclosure import Disclosure
from orchestrator.front_later import CARD_PATH, MOUNT, LateFront
from orchestrator.front_parts import front_parts
from orchestrator.routing import build_brain
from orchestrator.routing.embedding import shared_embedder
from orchestrator.signals import SignalService, signal_routes
from orchestrator.specialists import SpecialistDirectory
from orchestrator.storage import open_conversation_store
from orchestrator.supervisor import Supervisor
from shared.deadline import turn_seconds
from shared.errors import ConfigurationError, InvalidRequest, Overloaded, SwitchboardError, Unauthenticated
from shared.llm import LLMSettings, ModelClient
from shared.secrets import StaffCredential
from shared.service_auth import ServiceAuth, audiences
from shared.service_auth.guard import OnRefused, bearer_token, refusal_of, report_refusal
from shared.telemetry_asgi import HttpServerSpans

log = logging.getLogger("switchboard.api")

CHANNELS = ("chat", "voice", "email", "api")


@dataclass
class OrchestratorConfig:
    agent_urls: list[str]
    conversations_db: Path
    route_threshold: float = 0.45
    route_wrong_budget: float = 0.06
    """The offline router's budget of confident wrong answers (``Settings.route_wrong_budget``)."""
    max_message_chars: int = 2000
    a2a_timeout_seconds: float = 20.0
    turn_deadline_seconds: float | None = None
    """Each customer turn's deadline; None picks the default for the brain in use (``shared.deadline``)."""
    auth: ServiceAuth | None = None
    """The orchestrator's service identity: tokens for the specialists, and the check of the gateway's
    token on internal callbacks (approval outcomes); None refuses those callbacks."""
    gateway_url: str | None = None
    """The governance gateway's base URL; the consoles call its staff API as the signed-in person."""
    staff: dict[str, StaffCredential] = field(default_factory=dict)
    """Staff accounts (name -> role and token) that may sign in to the consoles."""
    signals: SignalService | None = None
    """Network-signal ingestion and reactions, started by whoever starts this app (the launcher)."""
    database_url: str | None = None
    """``postgresql://...`` shares conversations between replicas; unset keeps them in ``conversations_db``."""
    admission: AdmissionLimits = field(default_factory=AdmissionLimits)
    """How many conversations and turns this process answers at once before it sheds new ones."""
    router_model: ModelClient | None = None
    """Overrides the configured routing model (tests pass a double); None reads ``SWITCHBOARD_*``."""
    public_url: str | None = None
    """Where callers reach this orchestrator; with ``auth`` set it serves A2A and names this URL in its card."""
    disclosure: Disclosure | None = None
    """The notice that an automated assistant answers, per channel and language; None reads ``SWITCHBOARD_*``."""
    on_refused: OnRefused | None = None
    """Records callers refused at the A2A front and the internal callbacks (the gateway's audit log)."""
    cache_dir: Path | None = None
    """Where the routing brain keeps its trained weights between starts; None trains at every start."""
    console_sessions_db: Path | None = None
    """SQLite file of staff sessions that orchestrator processes on one machine share; None keeps
    them in memory (PostgreSQL when ``database_url`` names it)."""
    a2a_tasks_db: Path | None = None
    """SQLite file of the A2A front's tasks, which any orchestrator process answers for; None keeps
    them in memory (PostgreSQL when ``database_url`` names it)."""
    stream_ticket_key: bytes | None = None
    """Signs the web chat's stream tickets; every process of a deployment needs the same one."""


def error_response(exc: SwitchboardError) -> JSONResponse:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Overloaded) else None
    return JSONResponse({"error": exc.to_dict()}, status_code=exc.http_status, headers=headers)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated(
            "this conversation needs its token", hint="send 'Authorization: Bearer <token>' from conversation start"
        )
    return token.strip()


def build_orchestrator_app(config: OrchestratorConfig) -> Starlette:
    holder: dict[str, Supervisor] = {}
    admission = Admission(config.admission)
    disclosure = config.disclosure if config.disclosure is not None else Disclosure.from_settings()

    def supervisor() -> Supervisor:
        return holder["supervisor"]

    async def start_conversation(request: Request) -> JSONResponse:
        body = await json_body(request)
        channel = body.get("channel", "chat")
        if channel not in CHANNELS:
            raise InvalidRequest(f"unknown channel {channel!r}", hint=f"use one of {', '.join(CHANNELS)}")
        with admission.admit("conversation"):
            state, token = await supervisor().start(channel)
        return JSONResponse(
            {
                "conversation_id": state.conversation_id,
                "token": token,
                "greeting": supervisor().disclosure.text(channel),
            },
            status_code=201,
        )

    async def post_message(request: Request) -> JSONResponse:
        admission.refuse_if_full("turn")
        conversation_id = request.path_params["conversation_id"]
        await supervisor().store.authorize(conversation_id, _bearer(request))
        body = await json_body(request)
        text = body.get("text")
        if not isinstance(text, str):
            raise InvalidRequest("'text' must be a string with the customer's message")
        channel = body.get("channel", "chat")
        if channel not in CHANNELS:
            raise InvalidRequest(f"unknown channel {channel!r}", hint=f"use one of {', '.join(CHANNELS)}")
        with admission.admit("turn"):
            outcome = await supervisor().turn(conversation_id, text, channel=channel)
        return JSONResponse(outcome.model_dump(mode="json"))

    async def get_conversation(request: Request) -> JSONResponse:
        conversation_id = request.path_params["conversation_id"]
        store = supervisor().store
        await store.authorize(conversation_id, _bearer(request))
        state = await store.load(conversation_id)
        transcript = await store.transcript(conversation_id)
        cases = supervisor().cases
        where = await cases.position(state) if cases is not None and state.human is None else None
        return JSONResponse(
            {
                "conversation_id": state.conversation_id,
                "status": state.status,
                "channel": state.channel,
                "verified": state.verified(),
                "customer_name": state.customer.display_name if state.customer else None,
                "auth_method": state.auth_method if state.verified() else None,
                "active": {"agent": state.active.agent, "skill": state.active.skill} if state.active else None,
                "pending": {"agent": state.pending.agent, "skill": state.pending.skill} if state.pending else None,
                "queued": {"agent": state.queued.agent, "skill": state.queued.skill} if state.queued else None,
                "waiting_for_approval": state.parked.approval_id if state.parked else None,
                "queue": where.model_dump(mode="json") if where else None,
                "with_human": state.human.name if state.human else None,
                "llm_usage": state.llm_usage,
                "summary": state.summary,
                "handoffs": [h.model_dump(mode="json") for h in state.handoffs],
                "transcript": [
                    e.model_dump(mode="json", include={"seq", "at", "role", "text", "channel", "agent", "skill"})
                    for e in transcript
                ],
            }
        )

    async def approval_callback(request: Request) -> JSONResponse:
        # Internal: the governance gateway reports a decided approval so the parked conversation goes on.
        await require_gateway(request, "report approvals")
        body = await json_body(request)
        ids = [body.get(k) for k in ("approval_id", "conversation_id", "status")]
        given = [v for v in ids if isinstance(v, str) and v]
        if len(given) != len(ids):
            raise InvalidRequest("approval_id, conversation_id and status are required strings")
        approval_id, conversation_id, status = given
        result, note = body.get("result"), body.get("note")
        resolved = await supervisor().resolve_approval(
            approval_id,
            conversation_id,
            status,
            result if isinstance(result, dict) else None,
            note if isinstance(note, str) else None,
        )
        return JSONResponse({"resolved": resolved})

    async def require_gateway(request: Request, what: str) -> None:
        """The caller holds a token the token service issued to the gateway for the orchestrator.

        A refused caller is recorded as the specialists record theirs (``config.on_refused``).
        """
        token = bearer_token(request.scope)
        try:
            if config.auth is None or not token:
                raise Unauthenticated(f"only the governance gateway may {what}")
            caller = await config.auth.verifier.verify(token, audiences.ORCHESTRATOR)
        except Unauthenticated as exc:
            refusal = refusal_of(request.scope, audiences.ORCHESTRATOR, token, exc.message)
            await report_refusal(config.on_refused, refusal)
            raise
        if caller.sub != audiences.GATEWAY:
            error = Unauthenticated(f"only the governance gateway may {what}")
            refusal = refusal_of(request.scope, audiences.ORCHESTRATOR, token, error.message)
            await report_refusal(config.on_refused, replace(refusal, caller=caller.sub))
            raise error

    async def open_cases(request: Request) -> JSONResponse:
        # Internal: the gateway's "open case" fact for marketing policy (a conversation waiting for
        # or held by a person is an unresolved contact, like an open ticket).
        await require_gateway(request, "read open cases")
        customer_id = request.query_params.get("customer_id", "")
        if not customer_id or len(customer_id) > 64:
            raise InvalidRequest("'customer_id' is required")
        # The customer's other keys let a case opened before verification count too.
        keys = tuple(request.query_params.get(k, "")[:MAX_CLAIM] for k in ("email", "msisdn"))
        cases = await customer_open_cases(supervisor().store, customer_id, keys)
        return JSONResponse({"cases": cases}, headers={"Cache-Control": "no-store"})

    async def agents(request: Request) -> JSONResponse:
        return JSONResponse(
            [
                {"name": s.agent, "skill": s.skill, "description": s.description, "tags": s.tags}
                for s in supervisor()._directory.skill_specs()
            ]
        )

    async def health(request: Request) -> JSONResponse:
        body = {"status": "ok", "specialists": supervisor()._directory.names, "load": admission.load()}
        if front is not None:
            body["a2a_front"] = front.state
            if front.state == "failed":
                return JSONResponse({**body, "status": "failed"}, status_code=503)
        return JSONResponse(body)

    async def metrics(request: Request) -> Response:
        return Response(admission.exposition(), media_type=CONTENT_TYPE_LATEST)

    # Opened at start-up (the lifespan) and closed with the app.
    channels = channel_store(config)
    sessions = staff_sessions(config)
    hub = TurnHub()  # live web-chat streams; the supervisor wakes them on every transcript write
    # Switchboard as an A2A agent, for external agents holding a token for the orchestrator; built
    # right after start-up (orchestrator.front_later).
    front = LateFront() if config.auth is not None and config.public_url else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The router's sentence model takes most of a second to load: load it while this process
        # waits for the specialists' cards (their processes are still starting), not after.
        embedder = asyncio.ensure_future(asyncio.to_thread(shared_embedder))
        store = await open_conversation_store(config.database_url, default_sqlite=config.conversations_db)
        try:
            await channels.open()
            if config.auth is None:
                raise ConfigurationError("the orchestrator needs its service credentials to call the specialists")
            directory = await SpecialistDirectory.discover(
                config.agent_urls, tokens=config.auth.tokens, timeout=config.a2a_timeout_seconds
            )
            await embedder
        except BaseException:
            embedder.cancel()
            await store.close()
            raise
        # The LLM router when SWITCHBOARD_ROUTER_MODEL / SWITCHBOARD_MODEL names one, else offline.
        brain = build_brain(directory.skill_specs(), config, model=config.router_model, cache_dir=config.cache_dir)
        holder["supervisor"] = Supervisor(
            store,
            directory,
            brain,
            route_threshold=config.route_threshold,
            max_message_chars=config.max_message_chars,
            on_saved=hub.changed,
            disclosure=disclosure,
            turn_seconds=turn_seconds(config.turn_deadline_seconds, model=LLMSettings().any_model),
        )
        desk = CaseDesk(
            holder["supervisor"],
            sessions,
            QueueSettings(
                seconds_per_case=sessions.settings.seconds_per_case, idle_seconds=sessions.settings.case_idle_seconds
            ),
        )
        holder["supervisor"].cases = desk
        building = (
            asyncio.create_task(
                front.build(lambda: front_parts(config, supervisor, admission), directory.skill_specs())
            )
            if front is not None
            else None
        )
        sessions.on_sign_out(desk.signed_out)
        # Open cases' profiles follow plan and contact changes (shared: the store is shared too).
        bus = config.signals.desk.bus if config.signals is not None else None
        following = (
            await bus.subscribe(PROFILE_DURABLE, ProfileFollower(store), kinds=PROFILE_KINDS)
            if bus is not None
            else None
        )
        try:
            yield
        finally:
            if following is not None:
                await following.stop()
            if building is not None:
                building.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await building
            if front is not None:
                await front.aclose()
            await directory.close()
            await store.close()
            await channels.close()
            await sessions.close()

    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SwitchboardError)
        return error_response(exc)

    return Starlette(
        routes=[
            Route("/api/conversations", start_conversation, methods=["POST"]),
            Route("/api/conversations/{conversation_id}/messages", post_message, methods=["POST"]),
            Route("/api/conversations/{conversation_id}", get_conversation, methods=["GET"]),
            Route("/api/agents", agents, methods=["GET"]),
            Route("/api/internal/approvals", approval_callback, methods=["POST"]),
            Route("/api/internal/open-cases", open_cases, methods=["GET"]),
            Route("/healthz", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            # web chat, live events, voice (orchestrator/channels), all behind one admission limit
            *channel_routes(
                supervisor,
                channels,
                hub=hub,
                admission=admission,
                disclosure=disclosure,
                ticket_key=config.stream_ticket_key,
            ),
            *console_routes(supervisor, config, sessions),  # staff sign-in, human-agent and compliance consoles
            *signal_routes(lambda: config.signals),  # POST /api/signals: CAMARA network notifications
            # the AgentCard and /a2a/... (token-guarded)
            *([Route(CARD_PATH, front.card), Mount(MOUNT, app=front.guarded)] if front is not None else []),
        ],
        lifespan=lifespan,
        exception_handlers={SwitchboardError: on_error},
        # An HTTP server span per API call, continuing the caller's W3C traceparent.
        middleware=[Middleware(HttpServerSpans, prefixes=("/api/",))],
    )
