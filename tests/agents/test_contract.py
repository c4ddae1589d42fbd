"""The supervisor contract: malformed, unknown or oversized turns are refused clearly (real gateway behind)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from a2a.types import TaskState
from a2a.utils.errors import ExtensionSupportRequiredError, InvalidParamsError, InvalidRequestError

from shared.envelope import ENVELOPE_META_KEY, ContextEnvelope
from shared.handoff import ENVELOPE_EXTENSION, HANDOFF_EXTENSION, HANDOFF_META_KEY, HandoffRequest
from shared.skills import load_skills
from tests.agents.real_gateway import AgentOnStack, agents_on_stack
from tests.governance.e2e_helpers import small_refund_customers

# Refused before any tool call, so no signed auth context is needed.
ENVELOPE = ContextEnvelope(conversation_id="conv-contract").model_dump_json()
HANDOFF = HandoffRequest(skill="explain-bill").model_dump_json()
pytestmark = [pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def agents(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, AgentOnStack]]:
    async with agents_on_stack(
        Path(tmp_path_factory.mktemp("contract")), "billing", "escalation", "payment"
    ) as running:
        yield running


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({ENVELOPE_META_KEY: "{not json", HANDOFF_META_KEY: HANDOFF}, "is not a valid ContextEnvelope"),
        ({ENVELOPE_META_KEY: '{"channel": "chat"}', HANDOFF_META_KEY: HANDOFF}, "conversation_id"),
        ({ENVELOPE_META_KEY: ENVELOPE, HANDOFF_META_KEY: {"skill": "explain-bill"}}, "must be a JSON string"),
        ({ENVELOPE_META_KEY: ENVELOPE, HANDOFF_META_KEY: '{"reason": "x"}'}, "not a valid HandoffRequest"),
    ],
    ids=["bad-json", "envelope-field", "handoff-not-string", "handoff-no-skill"],
)
async def test_bad_metadata_is_an_invalid_request(
    agents: dict[str, AgentOnStack], metadata: dict, expected: str
) -> None:
    with pytest.raises(InvalidRequestError, match=expected):
        await agents["billing"].specialist.send_metadata("why is my bill so high", metadata)


@pytest.mark.parametrize(
    ("metadata", "extension"),
    [({HANDOFF_META_KEY: HANDOFF}, ENVELOPE_EXTENSION), ({ENVELOPE_META_KEY: ENVELOPE}, HANDOFF_EXTENSION)],
    ids=["no-envelope", "no-handoff"],
)
async def test_a_missing_required_extension_is_refused_with_its_code(
    agents: dict[str, AgentOnStack], metadata: dict, extension: str
) -> None:
    with pytest.raises(ExtensionSupportRequiredError, match=extension):
        await agents["billing"].specialist.send_metadata("why is my bill so high", metadata)


async def test_unknown_skill_names_the_agents_skills(agents: dict[str, AgentOnStack]) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        await agents["billing"].specialist.send("refund me", "refund-charge")
    assert "no skill 'refund-charge'" in str(caught.value)
    billing = sorted(s.name for s in load_skills(agent="billing"))
    assert ", ".join(billing) in str(caught.value) and "change-plan" in billing


async def test_oversized_message_states_the_limit(agents: dict[str, AgentOnStack]) -> None:
    with pytest.raises(InvalidRequestError, match="limit is 4000"):
        await agents["billing"].specialist.send("x" * 4001, "explain-bill")


async def test_message_at_the_limit_is_accepted(agents: dict[str, AgentOnStack]) -> None:
    billing = agents["billing"]
    envelope = billing.envelope(billing.customers(3)[0])
    answer = await billing.specialist.send("y" * 4000, "explain-bill", envelope=envelope)
    assert answer.result.status == "completed"


async def test_reply_keeps_the_context_id(agents: dict[str, AgentOnStack]) -> None:
    escalation = agents["escalation"]
    envelope = escalation.envelope(escalation.customers(3)[1])
    answer = await escalation.specialist.send("a person please", "human-handoff", envelope=envelope)
    assert answer.context_id
    assert answer.result.skill == "human-handoff"


async def test_unverified_customer_is_sent_to_identity_first(agents: dict[str, AgentOnStack]) -> None:
    payment = agents["payment"]
    who = small_refund_customers(payment.data_dir)[0]
    anonymous = ContextEnvelope(conversation_id="conv-unverified")
    answer = await payment.specialist.send("I was charged twice", "refund-charge", envelope=anonymous)
    assert answer.result.status == "auth-required" and answer.state == TaskState.TASK_STATE_AUTH_REQUIRED
    assert answer.result.handoff_to is not None and answer.result.handoff_to.agent == "identity"
    still = await payment.specialist.send("I was charged twice", "refund-charge", envelope=anonymous, task=answer)
    assert still.state == TaskState.TASK_STATE_AUTH_REQUIRED
    assert payment.calls("conv-unverified") == []  # nothing was read for a stranger
    verified = payment.envelope(who, "conv-unverified")
    done = await payment.specialist.send("I was charged twice", "refund-charge", envelope=verified, task=answer)
    assert done.task_id == answer.task_id and done.state == TaskState.TASK_STATE_INPUT_REQUIRED
    assert "duplicate charge of" in done.text
