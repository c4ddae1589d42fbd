"""Every channel opens by saying an automated assistant answers and how to reach a person (AI Act Art. 50)."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from orchestrator.api import OrchestratorConfig, build_orchestrator_app
from orchestrator.channels.store import ChannelStore
from orchestrator.disclosure import DISCLOSURE_SKILL, Disclosure
from orchestrator.export import build_vcon, load_conversation
from shared.serving import serving
from tests.channels.twilio_calls import Call, listens, spoken
from tests.e2e.conftest import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

DEFAULTS = Disclosure.from_settings()
ROBOT = "You are talking to a computer at {operator}. Say 'agent' for a person."


def _plain(text: str) -> str:
    return " ".join(text.split())


async def _first_entry(http: httpx.AsyncClient, conversation_id: str, token: str) -> dict:
    response = await http.get(f"/api/conversations/{conversation_id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()["transcript"][0]


async def test_the_web_chat_opens_with_the_notice_and_records_it(http: httpx.AsyncClient) -> None:
    notice = DEFAULTS.text("chat")
    assert "automated assistant" in notice and "Northwind Mobile" in notice and "ask for a person" in notice
    started = await http.post("/api/conversations", json={"channel": "chat"})
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["greeting"] == notice
    page = await http.get("/chat")
    assert f'data-greeting="{html.escape(notice)}"' in page.text
    first = await _first_entry(http, body["conversation_id"], body["token"])
    assert first["role"] == "system" and first["skill"] == DISCLOSURE_SKILL
    assert first["text"] == notice and first["channel"] == "chat"


async def test_the_phone_line_says_it_first_and_the_vcon_records_it(
    http: httpx.AsyncClient, running: RunningStack
) -> None:
    notice = DEFAULTS.text("voice")
    call = Call(http, "CA" + "d7" * 16, caller="+447700900123")
    welcome = await call.ring()
    assert listens(welcome) and _plain(spoken(welcome)).startswith(notice), spoken(welcome)
    await call.say("what plans do you have")
    await call.hang_up()
    conversation_id = (await ChannelStore(running.data_dir / "channels.db").call(call.call_sid)).conversation_id
    assert conversation_id is not None

    record = load_conversation(running.data_dir, conversation_id)
    first = record.transcript[0]
    assert (first.role, first.skill, first.channel, first.text) == ("system", DISCLOSURE_SKILL, "voice", notice)
    vcon = build_vcon(record).to_dict()
    assert vcon["dialog"][0]["body"] == notice and vcon["dialog"][0]["meta"]["skill"] == DISCLOSURE_SKILL
    given = [a for a in vcon["attachments"] if a["purpose"] == "ai_disclosure"]
    assert len(given) == 1 and given[0]["dialog"] == 0
    assert given[0]["body"]["text"] == notice and given[0]["body"]["channel"] == "voice"


@pytest_asyncio.fixture(loop_scope="session")
async def reworded(running: RunningStack, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SWITCHBOARD_AI_DISCLOSURE", json.dumps({"voice": {"en": ROBOT}}))
        env.setenv("SWITCHBOARD_OPERATOR_NAME", "Example Telecom")
        app = build_orchestrator_app(
            OrchestratorConfig(
                agent_urls=list(running.topology.agents.values()),
                conversations_db=tmp_path / "conversations.db",
                auth=running.stack.service_auth("orchestrator"),
                cache_dir=running.stack.settings.router_cache_dir,
            )
        )
    async with serving(app, name="orchestrator (reworded)") as url, httpx.AsyncClient(base_url=url) as http:
        yield http


async def test_the_wording_follows_the_settings(reworded: httpx.AsyncClient) -> None:
    welcome = await Call(reworded, "CA" + "e8" * 16, caller="+447700900124").ring()
    said = _plain(spoken(welcome))
    assert said.startswith("You are talking to a computer at Example Telecom. Say 'agent' for a person."), said
    assert "Northwind" not in said
    started = (await reworded.post("/api/conversations", json={"channel": "voice"})).json()
    assert started["greeting"] == ROBOT.replace("{operator}", "Example Telecom")
    first = await _first_entry(reworded, started["conversation_id"], started["token"])
    assert first["text"] == started["greeting"] and first["skill"] == DISCLOSURE_SKILL
    chat = (await reworded.post("/api/conversations", json={"channel": "chat"})).json()
    assert "Example Telecom's automated assistant" in chat["greeting"], "chat keeps its default, with the operator"
