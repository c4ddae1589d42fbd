"""The supervisor keeps a waiting specialist task by id; a goal left for another is cancelled."""

from __future__ import annotations

import contextlib
import json
import sqlite3

import pytest
from a2a.client import AuthInterceptor, ClientConfig, create_client
from a2a.types import GetTaskRequest, TaskState

from shared.service_auth import AudienceCredentials, audiences
from tests.e2e.conftest import Chat, RunningStack
from tests.governance.e2e_helpers import refunds_for, small_refund_customers

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def _active_task(running: RunningStack, conversation_id: str) -> str | None:
    with contextlib.closing(sqlite3.connect(running.data_dir / "conversations.db")) as db:
        (state,) = db.execute("SELECT state FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
    active = json.loads(state).get("active") or {}
    return active.get("task_id")


async def _task_state(running: RunningStack, agent: str, task_id: str) -> TaskState.ValueType:
    # Asked as the orchestrator asks: with a token for that agent from the stack's token service.
    credentials = AudienceCredentials(running.stack.service_auth("orchestrator").tokens, audiences.agent(agent))
    async with await create_client(
        running.topology.agents[agent], client_config=ClientConfig(), interceptors=[AuthInterceptor(credentials)]
    ) as client:
        task = await client.get_task(GetTaskRequest(id=task_id))
    return task.status.state


async def test_a_refund_left_for_another_goal_is_cancelled_and_never_resumed(chat: Chat, running: RunningStack) -> None:
    customer = small_refund_customers(running.data_dir)[7]
    proposal = await chat.verify(customer, "I was charged twice, refund the duplicate please")
    assert proposal["agent"] == "payment" and proposal["status"] == "input-required", proposal
    task_id = _active_task(running, chat.conversation_id)
    assert task_id and await _task_state(running, "payment", task_id) == TaskState.TASK_STATE_INPUT_REQUIRED

    other = await chat.say("my mobile data has been really slow all week, pages won't load")
    assert other["agent"] == "support", other
    assert await _task_state(running, "payment", task_id) == TaskState.TASK_STATE_CANCELED
    assert _active_task(running, chat.conversation_id) != task_id

    await chat.say("yes")  # the word that would have confirmed the refund
    assert refunds_for(running.data_dir, customer["account_number"]) == []


async def test_the_next_message_continues_the_waiting_task(chat: Chat, running: RunningStack) -> None:
    customer = small_refund_customers(running.data_dir)[8]
    proposal = await chat.verify(customer, "I was charged twice, refund the duplicate please")
    task_id = _active_task(running, chat.conversation_id)
    assert proposal["status"] == "input-required" and task_id
    done = await chat.say("yes please")
    assert done["agent"] == "payment" and done["data"].get("refunded") is True, done
    assert await _task_state(running, "payment", task_id) == TaskState.TASK_STATE_COMPLETED
    assert len(refunds_for(running.data_dir, customer["account_number"])) == 1
