"""sign-in-help: a link to the email on record, for a password or a registration, after verification.

Behind the real gateway and identity system: what was sent is read from the gateway's audit log.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from shared.envelope import ContextEnvelope
from tests.agents.real_gateway import AgentOnStack, agent_on_stack

pytestmark = [pytest.mark.asyncio(loop_scope="module")]

LINK = "identity.send_sign_in_link"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def identity(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AgentOnStack]:
    async with agent_on_stack(tmp_path_factory.mktemp("sign-in"), "identity") as running:
        yield running


async def test_forgotten_password_gets_a_reset_link(identity: AgentOnStack) -> None:
    who = identity.customers(5)[0]
    envelope = identity.envelope(who)
    answer = await identity.specialist.send("i forgot my password for the app", "sign-in-help", envelope=envelope)
    assert answer.result.status == "completed"
    (sent,) = [c for c in identity.calls(envelope.conversation_id) if c.tool == LINK]
    assert sent.decision == "allow" and sent.args["customer_id"] == who["customer_id"]
    assert sent.args["purpose"] == "password-reset" and sent.args["idempotency_key"]
    # The address on record, masked: its domain shows, the address itself never does.
    assert who["email"] not in answer.text and "@" + who["email"].split("@")[1] in answer.text
    assert "set a new password" in answer.text
    assert str(answer.result.data["link_id"]).startswith("LNK-")


async def test_a_stuck_registration_gets_a_registration_link(identity: AgentOnStack) -> None:
    who = identity.customers(5)[1]
    envelope = identity.envelope(who)
    text = "I never got the confirmation email when I signed up online"
    answer = await identity.specialist.send(text, "sign-in-help", envelope=envelope)
    (sent,) = [c for c in identity.calls(envelope.conversation_id) if c.tool == LINK]
    assert sent.args["purpose"] == "registration"
    assert "finish setting up your online account" in answer.text


async def test_nothing_is_sent_before_verification(identity: AgentOnStack) -> None:
    anonymous = ContextEnvelope(conversation_id=f"conv-{uuid.uuid4().hex[:8]}")
    answer = await identity.specialist.send("forgot my password", "sign-in-help", envelope=anonymous)
    assert answer.result.status == "auth-required"
    assert identity.calls(anonymous.conversation_id) == []
