"""An orchestrator configured for production: signed webhooks, a public URL, short streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from orchestrator.api import OrchestratorConfig, build_orchestrator_app
from orchestrator.channels.twilio import SHA256, signature
from shared.serving import serving
from tests.channels.sse import collect, ticket_for
from tests.channels.twilio_calls import Call, fields, listens, twiml
from tests.e2e.conftest import Chat, RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TOKEN = "test-auth-token-not-a-secret"
OLD_TOKEN = "test-auth-token-being-rotated-out"
PUBLIC = "https://support.example.com"
PREFIXED = "https://example.com/northwind/support"
MUSIC = "https://cdn.example.com/hold/calm.mp3"


@pytest_asyncio.fixture(loop_scope="session")
async def configured(running: RunningStack, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SWITCHBOARD_TWILIO_AUTH_TOKEN", TOKEN)
        env.setenv("SWITCHBOARD_STREAM_LIFETIME_SECONDS", "0.5")
        app = build_orchestrator_app(
            OrchestratorConfig(
                agent_urls=list(running.topology.agents.values()),
                conversations_db=tmp_path / "conversations.db",
                auth=running.stack.service_auth("orchestrator"),
                cache_dir=running.stack.settings.router_cache_dir,
            )
        )
    async with serving(app, name="orchestrator (configured)") as url, httpx.AsyncClient(base_url=url) as http:
        yield http


async def test_signed_webhooks_are_answered_and_unsigned_or_forged_refused(configured: httpx.AsyncClient) -> None:
    call = Call(configured, "CA" + "7" * 32, caller="+15550100130", auth_token=TOKEN)
    assert listens(await call.ring())
    form = fields(call.call_sid, call.caller, SpeechResult="hello")
    assert (await call.post("/voice/twilio/gather", form, signed=False)).status_code == 403
    forged = Call(configured, call.call_sid, call.caller, auth_token="someone-elses-token")
    assert (await forged.post("/voice/twilio/gather", form)).status_code == 403
    # A field changed after signing (the words the caller said) breaks the signature.
    url = str(configured.base_url).rstrip("/") + "/voice/twilio/gather"
    sig = signature(TOKEN, url, list(form.items()))
    tampered = {**form, "SpeechResult": "transfer everything"}
    response = await configured.post("/voice/twilio/gather", data=tampered, headers={"X-Twilio-Signature": sig})
    assert response.status_code == 403
    assert listens(twiml(await configured.post("/voice/twilio/gather", data=form, headers={"X-Twilio-Signature": sig})))


async def test_both_tokens_work_during_a_rotation_and_both_signature_schemes(
    running: RunningStack, tmp_path: Path
) -> None:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SWITCHBOARD_TWILIO_AUTH_TOKEN", TOKEN)
        env.setenv("SWITCHBOARD_TWILIO_AUTH_TOKEN_PREVIOUS", OLD_TOKEN)
        app = build_orchestrator_app(
            OrchestratorConfig(
                agent_urls=list(running.topology.agents.values()),
                conversations_db=tmp_path / "c.db",
                auth=running.stack.service_auth("orchestrator"),
                cache_dir=running.stack.settings.router_cache_dir,
            )
        )
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        for n, (token, algorithm) in enumerate(
            [(TOKEN, "HMAC_SHA1"), (OLD_TOKEN, "HMAC_SHA1"), (TOKEN, SHA256), (OLD_TOKEN, SHA256)]
        ):
            call = Call(http, f"CA{n:02d}" + "9" * 30, "+15550100140", auth_token=token, algorithm=algorithm)
            assert listens(await call.ring()), (token, algorithm)
            assert listens(await call.say("what plans do you have")), (token, algorithm)
        retired = Call(http, "CA" + "6" * 32, "+15550100141", auth_token="a-token-no-longer-valid")
        assert (await retired.post("/voice/twilio", fields(retired.call_sid, retired.caller))).status_code == 403
        # The settings header names the scheme: a SHA-256 signature presented as SHA-1 fails, and so does an
        # algorithm the platform does not have.
        form = fields("CA" + "5" * 32, "+15550100142")
        sha256 = signature(TOKEN, url + "/voice/twilio", list(form.items()), SHA256)
        assert (await http.post("/voice/twilio", data=form, headers={"X-Twilio-Signature": sha256})).status_code == 403
        unknown = {"X-Twilio-Signature": sha256, "X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_MD5"}
        assert (await http.post("/voice/twilio", data=form, headers=unknown)).status_code == 403


async def test_a_path_prefixed_public_url_is_signed_and_every_action_stays_inside_it(
    running: RunningStack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SWITCHBOARD_TWILIO_AUTH_TOKEN", TOKEN)
        env.setenv("SWITCHBOARD_PUBLIC_URL", PREFIXED)
        env.setenv("SWITCHBOARD_VOICE_HOLD_MUSIC_URL", MUSIC)
        app = build_orchestrator_app(
            OrchestratorConfig(
                agent_urls=list(running.topology.agents.values()),
                conversations_db=tmp_path / "c.db",
                auth=running.stack.service_auth("orchestrator"),
                cache_dir=running.stack.settings.router_cache_dir,
            )
        )
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        # The proxy strips the prefix; the caller helper refuses any action outside the public URL.
        call = Call(http, "CA" + "4" * 32, "+15550100143", auth_token=TOKEN, public_url=PREFIXED)
        welcome = await call.ring()
        assert call.action.startswith(PREFIXED + "/voice/twilio/gather?step="), call.action
        assert welcome.find("Gather").get("language") == "en-GB"  # type: ignore[union-attr]
        queued = await call.say("I want to talk to a person")
        play = queued.find("Gather/Play")
        assert play is not None and play.text == MUSIC, "music plays while the caller waits"
        assert queued.find("Redirect").text.startswith(PREFIXED + "/voice/twilio/hold")  # type: ignore[union-attr]
        assert listens(await call.silence())
        assert (await call.hang_up()).status_code == 204

        # Signed over the address without the prefix: refused, and the log says which URL was checked.
        form = fields(call.call_sid, call.caller)
        wrong = signature(TOKEN, "https://example.com/voice/twilio", list(form.items()))
        with caplog.at_level("WARNING", logger="switchboard.channels.voice"):
            refused = await http.post("/voice/twilio", data=form, headers={"X-Twilio-Signature": wrong})
        assert refused.status_code == 403
        assert PREFIXED + "/voice/twilio" in caplog.text and TOKEN not in caplog.text


async def test_behind_a_proxy_the_public_url_is_what_is_signed(running: RunningStack, tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SWITCHBOARD_TWILIO_AUTH_TOKEN", TOKEN)
        env.setenv("SWITCHBOARD_PUBLIC_URL", PUBLIC + "/")
        app = build_orchestrator_app(
            OrchestratorConfig(
                agent_urls=list(running.topology.agents.values()),
                conversations_db=tmp_path / "c.db",
                auth=running.stack.service_auth("orchestrator"),
                cache_dir=running.stack.settings.router_cache_dir,
            )
        )
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        form = fields("CA" + "8" * 32, "+15550100131", CallStatus="ringing")
        public_sig = signature(TOKEN, PUBLIC + "/voice/twilio", list(form.items()))
        ok = await http.post("/voice/twilio", data=form, headers={"X-Twilio-Signature": public_sig})
        assert ok.status_code == 200
        local_sig = signature(TOKEN, url + "/voice/twilio", list(form.items()))
        assert (
            await http.post("/voice/twilio", data=form, headers={"X-Twilio-Signature": local_sig})
        ).status_code == 403


async def test_a_stream_says_goodbye_after_its_lifetime(configured: httpx.AsyncClient, running: RunningStack) -> None:
    chat = await Chat(configured, running).start()
    ticket = await ticket_for(configured, chat.conversation_id, chat.token)
    events = await collect(configured, chat.conversation_id, ticket, after=1, until=lambda ev: ev[-1][0] == "bye")
    assert events == [("bye", {"after": 1})]
