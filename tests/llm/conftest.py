"""Fixtures for the LLM brain: specialists on loopback with a scripted model, and the marker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from a2a.client import ClientConfig, create_client

from agents import build_app
from agents.runtime.llm import LLMSettings, ModelClient
from shared.skills import SKILLS_DIR
from tests.agents.conftest import Specialist, free_socket, gateway, serve, stack
from tests.agents.fake_gateway import FakeGateway
from tests.llm.stack import llm_chat, llm_running, model_calls_allowed
from tests.service_tokens import TokenAuthority, as_orchestrator

__all__ = ["gateway", "llm_chat", "llm_running", "model_calls_allowed", "stack"]

NO_MODEL = LLMSettings(_env_file=None, model=None, tool_call_probe=False)

AUTHORITY = TokenAuthority.temporary()


StartLLMSpecialist = Callable[..., Awaitable[Specialist]]


@pytest.fixture
def start_llm_specialist(stack: AsyncExitStack, gateway: FakeGateway, tmp_path: Path) -> StartLLMSpecialist:
    """Start specialist ``name`` whose model is ``model`` (and ``summary_model`` for hand-overs).

    ``llm_settings`` supplies the loop's limits (tool steps); its model names are not used here.
    """

    async def start(
        name: str,
        model: ModelClient | None,
        *,
        summary_model: ModelClient | None = None,
        llm_settings: LLMSettings = NO_MODEL,
    ) -> Specialist:
        sock = free_socket()
        host, port = sock.getsockname()[:2]
        app = build_app(
            name,
            public_url=f"http://{host}:{port}",
            gateway_mcp_url=gateway.url,
            auth=AUTHORITY.auth(name),
            data_dir=tmp_path / name,
            skills_dir=SKILLS_DIR,
            mcp_timeout_seconds=5.0,
            llm_settings=llm_settings,
            model=model,
            summary_model=summary_model,
        )
        base = await serve(stack, app, sock)
        client = await create_client(
            base, client_config=ClientConfig(streaming=False), interceptors=as_orchestrator(AUTHORITY, name)
        )
        await stack.enter_async_context(client)
        return Specialist(name, base, client)

    return start
