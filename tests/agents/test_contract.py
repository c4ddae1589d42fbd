"""The supervisor contract: malformed, unknown or oversized turns are refused clearly."""

from __future__ import annotations

import pytest
from a2a.types import TaskState
from a2a.utils.errors import ExtensionSupportRequiredError, InvalidParamsError, InvalidRequestError

from shared.envelope import ENVELOPE_META_KEY
from shared.handoff import ENVELOPE_EXTENSION, HANDOFF_EXTENSION, HANDOFF_META_KEY, HandoffRequest
from shared.skills import load_skills
from tests.agents.conftest import SKILLS_DIR, StartSpecialist, verified_envelope
from tests.agents.test_payment import DUPLICATE

ENVELOPE = verified_envelope().model_dump_json()
HANDOFF = HandoffRequest(skill="explain-bill").model_dump_json()


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
    start_specialist: StartSpecialist, metadata: dict, expected: str
) -> None:
    billing = await start_specialist("billing")
    with pytest.raises(InvalidRequestError, match=expected):
        await billing.send_metadata("why is my bill so high", metadata)


@pytest.mark.parametrize(
    ("metadata", "extension"),
    [({HANDOFF_META_KEY: HANDOFF}, ENVELOPE_EXTENSION), ({ENVELOPE_META_KEY: ENVELOPE}, HANDOFF_EXTENSION)],
    ids=["no-envelope", "no-handoff"],
)
async def test_a_missing_required_extension_is_refused_with_its_code(
    start_specialist: StartSpecialist, metadata: dict, extension: str
) -> None:
    billing = await start_specialist("billing")
    with pytest.raises(ExtensionSupportRequiredError, match=extension):
        await billing.send_metadata("why is my bill so high", metadata)


async def test_unknown_skill_names_the_agents_skills(start_specialist: StartSpecialist) -> None:
    billing = await start_specialist("billing")
    with pytest.raises(InvalidParamsError) as caught:
        await billing.send("refund me", "refund-charge")
    assert "no skill 'refund-charge'" in str(caught.value)
    billing_skills = sorted(s.name for s in load_skills(SKILLS_DIR, agent="billing"))
    assert ", ".join(billing_skills) in str(caught.value) and "change-plan" in billing_skills


async def test_oversized_message_states_the_limit(start_specialist: StartSpecialist) -> None:
    billing = await start_specialist("billing")
    with pytest.raises(InvalidRequestError, match="limit is 4000"):
        await billing.send("x" * 4001, "explain-bill")


async def test_message_at_the_limit_is_accepted(start_specialist: StartSpecialist) -> None:
    billing = await start_specialist("billing")
    answer = await billing.send("y" * 4000, "explain-bill")
    assert answer.result.status == "completed"


async def test_reply_keeps_the_context_id(start_specialist: StartSpecialist) -> None:
    escalation = await start_specialist("escalation")
    answer = await escalation.send("a person please", "human-handoff")
    assert answer.context_id
    assert answer.result.skill == "human-handoff"


async def test_unverified_customer_is_sent_to_identity_first(start_specialist: StartSpecialist, gateway) -> None:
    from shared.envelope import ContextEnvelope

    gateway.duplicates = [DUPLICATE]
    payment = await start_specialist("payment")
    answer = await payment.send("I was charged twice", "refund-charge", envelope=ContextEnvelope(conversation_id="c"))
    assert answer.result.status == "auth-required" and answer.state == TaskState.TASK_STATE_AUTH_REQUIRED
    assert answer.result.handoff_to is not None and answer.result.handoff_to.agent == "identity"
    assert gateway.calls == []
    still = await payment.send(
        "I was charged twice", "refund-charge", envelope=ContextEnvelope(conversation_id="c"), task=answer
    )
    assert still.state == TaskState.TASK_STATE_AUTH_REQUIRED and gateway.calls == []
    verified = await payment.send("I was charged twice", "refund-charge", task=answer)
    assert verified.task_id == answer.task_id and verified.state == TaskState.TASK_STATE_INPUT_REQUIRED
    assert "duplicate charge of €32.50" in verified.text
