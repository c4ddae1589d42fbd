"""A phone call exported as a vCon: text dialogs on the voice channel, the calling number as a party."""

from __future__ import annotations

import httpx
import pytest

from orchestrator.channels.store import ChannelStore
from orchestrator.export import build_vcon, load_conversation
from tests.channels.twilio_calls import Call
from tests.e2e.conftest import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_a_phone_call_exports_with_its_caller_as_a_party(http: httpx.AsyncClient, running: RunningStack) -> None:
    call = Call(http, "CA" + "f1" * 16, caller="+447700900999")
    await call.ring()
    await call.say("what plans do you have")
    await call.hang_up()
    conversation_id = (await ChannelStore(running.data_dir / "channels.db").call(call.call_sid)).conversation_id
    assert conversation_id is not None

    vcon = build_vcon(load_conversation(running.data_dir, conversation_id)).to_dict()
    callers = [p for p in vcon["parties"] if p.get("meta", {}).get("kind") == "caller"]
    assert callers == [
        {
            "tel": "+447700900999",
            "role": "customer",
            "meta": {"kind": "caller", "channel": "voice", "call_sid": call.call_sid},
        }
    ]
    caller = vcon["parties"].index(callers[0])
    spoken = [d for d in vcon["dialog"] if d["originator"] == caller]
    assert [d["body"] for d in spoken] == ["what plans do you have"]
    assert all(d["type"] == "text" and d["application"] == "voice" for d in vcon["dialog"])

    masked = build_vcon(load_conversation(running.data_dir, conversation_id), redaction="pii").to_dict()
    assert "+447700900999" not in str(masked["parties"])
