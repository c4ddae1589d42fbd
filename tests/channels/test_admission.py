"""At capacity the orchestrator sheds new work with 503 + Retry-After; the admitted turn completes.

Saturation is driven deterministically: the routing model of the one admitted turn waits on an
event, so the orchestrator is provably full while the other requests arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from orchestrator.admission import AdmissionLimits
from orchestrator.api import OrchestratorConfig, build_orchestrator_app
from shared.llm import ModelReply, ModelUnavailable
from shared.serving import serving
from tests.channels.twilio_calls import Call, listens, spoken
from tests.e2e.conftest import Chat, RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


class HeldRouter:
    """A routing model that answers only when released (then as unavailable: the offline brain routes)."""

    name = "held"

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def complete(
        self, messages: Sequence[Any], *, tools: Sequence[Any] = (), schema: Mapping[str, Any] | None = None
    ) -> ModelReply:
        self.entered.set()
        await self.release.wait()
        raise ModelUnavailable("released")


async def test_a_full_orchestrator_sheds_new_work_while_the_admitted_turn_completes(
    running: RunningStack, tmp_path: Path
) -> None:
    router = HeldRouter()
    app = build_orchestrator_app(
        OrchestratorConfig(
            agent_urls=list(running.topology.agents.values()),
            conversations_db=tmp_path / "conversations.db",
            admission=AdmissionLimits(max_in_flight=1, retry_after_seconds=3),
            router_model=router,
            auth=running.stack.service_auth("orchestrator"),
            cache_dir=running.stack.settings.router_cache_dir,
        )
    )
    async with (
        serving(app, name="orchestrator (admission)") as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        admitted, waiting = await Chat(http, running).start(), await Chat(http, running).start()
        held = asyncio.create_task(admitted.say("why is my bill so high this month?"))
        with anyio.fail_after(20):
            await router.entered.wait()
        assert (await http.get("/healthz")).json()["load"] == {"in_flight": 1, "capacity": 1, "shed": 0}

        auth = {"Authorization": f"Bearer {waiting.token}"}
        shed = [
            await http.post(
                f"/api/conversations/{waiting.conversation_id}/messages", json={"text": "hi"}, headers=auth
            ),
            await http.post(f"/api/conversations/{waiting.conversation_id}/turns", json={"text": "hi"}, headers=auth),
            await http.post("/api/conversations", json={"channel": "chat"}),
        ]
        for response in shed:
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "3"
            assert response.json()["error"]["code"] == "overloaded"
        # A caller is told to repeat, not cut off: the call stays up and nothing was started.
        busy = await Call(http, "CA" + "4" * 32, "+15550100140").say("I want to check my bill")
        assert listens(busy) and "very busy" in spoken(busy)

        metrics = (await http.get("/metrics")).text
        assert "switchboard_in_flight 1.0" in metrics
        assert 'switchboard_shed_total{kind="turn"} 3.0' in metrics
        assert 'switchboard_shed_total{kind="conversation"} 1.0' in metrics

        router.release.set()
        with anyio.fail_after(20):
            outcome = await held
        assert outcome["agent"] == "identity", outcome  # the bill needs the customer verified first
        assert (await http.get("/healthz")).json()["load"] == {"in_flight": 0, "capacity": 1, "shed": 4}
        assert (await waiting.say("why is my bill so high this month?"))["agent"] == "identity"
        transcript = (await waiting.state())["transcript"]
        assert [e["text"] for e in transcript if e["role"] == "customer"] == ["why is my bill so high this month?"]
