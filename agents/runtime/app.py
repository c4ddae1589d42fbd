"""Building a specialist's A2A app: find the agent package, load its skills, wire the gateway.

A specialist is a package ``agents/<name>/`` exporting ``DESCRIPTION`` (one line for its
AgentCard) and ``create() -> Specialist``. Adding a folder and its skills is all it takes.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from a2a.server.agent_execution import SimpleRequestContextBuilder
from a2a.server.context import ServerCallContext
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes, create_rest_routes
from a2a.types import CancelTaskRequest, Task
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH
from starlette.applications import Starlette
from starlette.middleware import Middleware

from agents import agent_names
from agents.runtime.callers import CallerContextBuilder
from agents.runtime.card import CARD_CACHE_CONTROL, build_card
from agents.runtime.checkpoints import open_checkpointer, prune_stale
from agents.runtime.executor import SkillRunner, SpecialistExecutor
from agents.runtime.gateway import GatewayClient
from agents.runtime.graph import SkillGraphs
from agents.runtime.llm import LLMSettings, ModelClient, model_client
from agents.runtime.llm.loop import LLMSpecialist
from agents.runtime.llm.skills import skill_guide
from agents.runtime.llm.tools import Toolbox
from agents.runtime.task_store import task_store_for
from shared.errors import ConfigurationError, ServiceUnavailable
from shared.service_auth import BearerAuth, RequireToken, ServiceAuth, audiences
from shared.service_auth.guard import OnRefused
from shared.service_auth.strict_body import StrictJsonBody
from shared.settings import A2A_JSONRPC_PATH, A2A_REST_PATH
from shared.skill_messages import skill_messages
from shared.skill_steps import skill_tools
from shared.skills import SKILLS_DIR, load_skills

logger = logging.getLogger(__name__)

_PACKAGE = "agents"

CHECKPOINT_RETENTION_SECONDS = 7 * 24 * 3600.0
"""A task nobody continued for a week is abandoned: its graph thread is pruned."""
PRUNE_INTERVAL_SECONDS = 3600.0
IDLE_TASK_RELEASE_SECONDS = 60.0


def build_app(
    name: str,
    *,
    public_url: str,
    gateway_mcp_url: str,
    auth: ServiceAuth,
    data_dir: Path,
    on_refused: OnRefused | None = None,
    skills_dir: Path = SKILLS_DIR,
    mcp_timeout_seconds: float = 10.0,
    database_url: str | None = None,
    llm_settings: LLMSettings | None = None,
    model: ModelClient | None = None,
    summary_model: ModelClient | None = None,
    checkpoint_retention_seconds: float = CHECKPOINT_RETENTION_SECONDS,
    prune_interval_seconds: float = PRUNE_INTERVAL_SECONDS,
) -> Starlette:
    """The Starlette app serving specialist ``name`` over A2A: JSON-RPC at ``/a2a/jsonrpc``, HTTP+JSON
    under ``/a2a/rest``, the card at ``/.well-known/agent-card.json``.

    Skill graphs keep their state in ``skills.db`` and A2A task records in ``tasks.db`` under
    ``data_dir``, or both in PostgreSQL when ``database_url`` names one.

    With a specialist model (``model``, or ``SWITCHBOARD_SPECIALIST_MODEL``/``SWITCHBOARD_MODEL``)
    skills not marked deterministic run as a governed model tool loop; ``summary_model`` writes
    hand-over summaries. Every A2A call needs a token for ``agent:<name>`` (``auth.verifier``;
    ``on_refused`` records refusals); the agent's own calls to the gateway carry ``auth.tokens``.
    Raises ConfigurationError when the agent package or its skills are missing or disagree.
    """
    if name not in agent_names():
        raise ConfigurationError(f"no specialist named {name!r}", hint=f"known specialists: {', '.join(agent_names())}")
    module = importlib.import_module(f"{_PACKAGE}.{name}")
    procedures: SkillGraphs = module.create()
    runner: SkillRunner = procedures
    skills = load_skills(skills_dir, agent=name)
    if not skills:
        raise ConfigurationError(
            f"specialist {name!r} has no skills in {skills_dir}",
            hint=f"add skills/<skill>/SKILL.md with metadata.agent: {name}",
        )
    declared = {s.name for s in skills}
    implemented = procedures.skills
    if not declared <= set(implemented):
        missing = ", ".join(sorted(declared - set(implemented)))
        raise ConfigurationError(
            f"specialist {name!r} declares skills it does not implement: {missing}",
            hint=f"add a procedure for each in agents/{name}/",
        )
    to_gateway = BearerAuth(auth.tokens, audiences.GATEWAY)
    llm = llm_settings or LLMSettings()
    model = model or model_client("specialist", llm)
    if model is not None:
        guides = {s.name: skill_guide(s) for s in skills}
        toolbox = Toolbox(gateway_mcp_url, auth=to_gateway, timeout_seconds=mcp_timeout_seconds)
        runner = LLMSpecialist(
            name, procedures, guides, model, toolbox, max_steps=llm.max_tool_steps, budget=llm.budget()
        )
    summary_model = summary_model or model_client("summary", llm)
    token_url = auth.verifier.issuer + audiences.TOKEN_PATH
    card = build_card(name, description=module.DESCRIPTION, public_url=public_url, skills=skills, token_url=token_url)
    gateway = GatewayClient(gateway_mcp_url, auth=to_gateway, timeout_seconds=mcp_timeout_seconds)
    messages = {s.name: skill_messages(s) for s in skills}
    steps = {s.name: tools for s in skills if (tools := skill_tools(s)) is not None}
    executor = SpecialistExecutor(
        name, runner, declared, gateway, summary_model=summary_model, messages=messages, steps=steps
    )
    task_store, prepare_tasks, close_tasks = task_store_for(database_url, data_dir)
    handler = _Handler(
        runner,
        agent_executor=executor,
        task_store=task_store,
        # New task ids are noted in the store: the SDK's look-ups of a task before it first
        # settles are answered there, not by a database round trip each.
        request_context_builder=SimpleRequestContextBuilder(
            should_populate_referred_tasks=False, task_store=None, task_id_generator=task_store.new_task_ids()
        ),
        agent_card=card,
        validate_input_modes=True,
        # A task waiting for the customer holds no live machinery: the store and the checkpoint have it.
        interrupted_task_timeout=IDLE_TASK_RELEASE_SECONDS,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with open_checkpointer(database_url, data_dir) as saver:
            runner.compile(saver)
            await prepare_tasks()
            try:
                await auth.verifier.load()
            except ServiceUnavailable as exc:
                logger.warning("%s; the first call will try again", exc.message)
            # In the background: the gateway may still be starting (its socket already listens when
            # `up` spreads the services over processes), and the card need not wait for it; the first
            # tool call waits for this same connection, or makes its own if this one failed.
            connecting = asyncio.create_task(gateway.start(), name="gateway connect")
            # In the background: a CPU model may take seconds, and the agent serves meanwhile.
            probing = (
                asyncio.create_task(runner.probe(), name="tool-call probe")
                if isinstance(runner, LLMSpecialist) and llm.tool_call_probe
                else None
            )
            pruning = asyncio.create_task(_prune_forever(runner, prune_interval_seconds, checkpoint_retention_seconds))
            try:
                yield
            finally:
                if probing is not None:
                    probing.cancel()
                pruning.cancel()
                connecting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pruning
                with contextlib.suppress(asyncio.CancelledError):
                    await connecting
                await handler.aclose()
                await gateway.aclose()
                await close_tasks()

    callers = CallerContextBuilder()
    return Starlette(
        routes=[
            *create_agent_card_routes(card, cache_control=CARD_CACHE_CONTROL),
            *create_jsonrpc_routes(handler, rpc_url=A2A_JSONRPC_PATH, context_builder=callers),
            # Last: the HTTP+JSON routes end in a catch-all tenant mount that would shadow anything after it.
            *create_rest_routes(handler, path_prefix=A2A_REST_PATH, context_builder=callers),
        ],
        # The card is public (it says how to authenticate); everything else needs a token for this agent.
        middleware=[
            Middleware(
                RequireToken,
                verifier=auth.verifier,
                audience=audiences.agent(name),
                open_paths=(AGENT_CARD_WELL_KNOWN_PATH, "/healthz"),
                on_refused=on_refused,
            ),
            # Inside the token check: only an authenticated caller's body is read.
            Middleware(StrictJsonBody),
        ],
        lifespan=lifespan,
    )


class _Handler(DefaultRequestHandler):
    """The SDK's handler, plus: a cancelled task's graph thread goes too, on whichever path."""

    def __init__(self, runner: SkillRunner, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._runner = runner

    async def on_cancel_task(self, params: CancelTaskRequest, context: ServerCallContext) -> Task | None:
        task: Task | None = await super().on_cancel_task(params, context)
        await self._runner.forget(params.id)
        return task


async def _prune_forever(runner: SkillRunner, interval: float, retention: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            pruned = await prune_stale(runner.checkpointer, retention)
        except Exception:  # a failed sweep is retried next time; serving goes on
            logger.exception("pruning old skill checkpoints failed")
            continue
        if pruned:
            logger.info("pruned %d abandoned skill threads", pruned)
