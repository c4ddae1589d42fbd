"""Streaming over both bindings, behind the real gateway and reference systems.

A streamed task reports each state as it happens (``submitted``, ``working``, ``input-required``)
and ends with the ``result`` artifact; the refund it issues is read back from the payments system.
Each binding plays its own customer, so the two runs share one stack without sharing a charge.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from a2a.types import Message, Part, Role, SendMessageRequest, StreamResponse, TaskState

from shared.envelope import ContextEnvelope
from tests.agents.conftest import WAIT, handoff_metadata
from tests.agents.real_gateway import AgentOnStack, agent_on_stack, connect
from tests.governance.e2e_helpers import small_refund_customers

pytestmark = [pytest.mark.asyncio(loop_scope="module")]

BINDINGS = ["JSONRPC", "HTTP+JSON"]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def payment(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AgentOnStack]:
    async with agent_on_stack(tmp_path_factory.mktemp("streaming"), "payment") as running:
        yield running


def _message(text: str, envelope: ContextEnvelope, *, task_id: str = "", context_id: str = "") -> Message:
    message = Message(
        role=Role.ROLE_USER,
        message_id=str(uuid.uuid4()),
        parts=[Part(text=text)],
        task_id=task_id,
        context_id=context_id,
    )
    message.metadata.update(handoff_metadata("refund-charge", envelope=envelope))
    return message


def _state(event: StreamResponse) -> TaskState.ValueType | None:
    if event.HasField("status_update"):
        return event.status_update.status.state
    if event.HasField("task"):
        return event.task.status.state
    return None


@pytest.mark.parametrize("binding", BINDINGS)
async def test_streaming_reports_each_state_and_the_result_artifact(payment: AgentOnStack, binding: str) -> None:
    who = small_refund_customers(payment.data_dir)[BINDINGS.index(binding)]
    envelope = payment.envelope(who)
    async with connect(payment, binding=binding, streaming=True) as streamed:
        async with asyncio.timeout(WAIT):
            request = SendMessageRequest(message=_message("charged twice", envelope))
            first = [e async for e in streamed.client.send_message(request)]
        kinds = [e.WhichOneof("payload") for e in first]
        assert kinds[0] == "task" and first[0].task.status.state == TaskState.TASK_STATE_SUBMITTED
        # Each state as it happened: status updates, and a task snapshot if the stream sends one
        # (which of the two carries the last state is the SDK's timing, not ours).
        states = [_state(e) for e in first[1:] if _state(e) is not None]
        assert states[0] == TaskState.TASK_STATE_WORKING, first
        assert states[-1] == TaskState.TASK_STATE_INPUT_REQUIRED, first
        task_id, context_id = first[0].task.id, first[0].task.context_id

        again = _message("yes", envelope, task_id=task_id, context_id=context_id)
        async with asyncio.timeout(WAIT):
            second = [e async for e in streamed.client.send_message(SendMessageRequest(message=again))]
    artifacts = [e.artifact_update.artifact for e in second if e.HasField("artifact_update")]
    assert [a.name for a in artifacts] == ["result"]
    states = [e.status_update.status.state for e in second if e.HasField("status_update")]
    assert states[-1] == TaskState.TASK_STATE_COMPLETED
    refunds = (await payment.read("payments.list_refunds", {"account_number": who["account_number"]}, envelope))[
        "refunds"
    ]
    assert len(refunds) == 1 and refunds[0]["refund_id"] in artifacts[0].parts[0].text
