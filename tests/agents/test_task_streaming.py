"""Streaming over both bindings, against the stand-in gateway.

Against the real gateway, in a full run of tests/agents under heavy load, the first stream once
ended after ``working`` with no ``input-required`` event; until that is understood this check
stays on the stand-in, whose timing is steady.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from a2a.types import Message, Part, Role, SendMessageRequest, TaskState

from tests.agents.conftest import WAIT, StartSpecialist, handoff_metadata
from tests.agents.fake_gateway import DUPLICATE, FakeGateway

BINDINGS = ["JSONRPC", "HTTP+JSON"]


def _message(text: str, skill: str, *, task_id: str = "", context_id: str = "") -> Message:
    message = Message(
        role=Role.ROLE_USER,
        message_id=str(uuid.uuid4()),
        parts=[Part(text=text)],
        task_id=task_id,
        context_id=context_id,
    )
    message.metadata.update(handoff_metadata(skill))
    return message


@pytest.mark.parametrize("binding", BINDINGS)
async def test_streaming_reports_each_state_and_the_result_artifact(
    start_specialist: StartSpecialist, gateway: FakeGateway, binding: str
) -> None:
    gateway.duplicates = [DUPLICATE]
    payment = await start_specialist("payment", binding=binding, streaming=True)
    async with asyncio.timeout(WAIT):
        first = [
            e
            async for e in payment.client.send_message(SendMessageRequest(message=_message("double", "refund-charge")))
        ]
    kinds = [e.WhichOneof("payload") for e in first]
    assert kinds[0] == "task" and first[0].task.status.state == TaskState.TASK_STATE_SUBMITTED
    states = [e.status_update.status.state for e in first if e.HasField("status_update")]
    assert states == [TaskState.TASK_STATE_WORKING, TaskState.TASK_STATE_INPUT_REQUIRED]
    task_id, context_id = first[0].task.id, first[0].task.context_id

    again = _message("yes", "refund-charge", task_id=task_id, context_id=context_id)
    async with asyncio.timeout(WAIT):
        second = [e async for e in payment.client.send_message(SendMessageRequest(message=again))]
    artifacts = [e.artifact_update.artifact for e in second if e.HasField("artifact_update")]
    assert [a.name for a in artifacts] == ["result"] and "RF-1" in artifacts[0].parts[0].text
    states = [e.status_update.status.state for e in second if e.HasField("status_update")]
    assert states[-1] == TaskState.TASK_STATE_COMPLETED
    assert len(gateway.refunds) == 1
