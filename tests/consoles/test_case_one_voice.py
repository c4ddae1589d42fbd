"""While a person holds the case the AI does not speak to the customer: the person hears it first."""

from __future__ import annotations

import asyncio

import pytest

from tests.consoles.agent_helpers import escalate, held_refund_customer, packet_of
from tests.consoles.conftest import StaffClient, Team
from tests.governance.e2e_helpers import refunds_for

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

WAIT = 20.0


async def _notices(staff: StaffClient, conversation_id: str) -> list[dict]:
    """The case's held-back AI messages, once there are any (bounded)."""
    async with asyncio.timeout(WAIT):
        while True:
            response = await staff.get(f"/api/console/escalations/{conversation_id}/transcript")
            assert response.status_code == 200, response.text
            if notices := response.json()["notices"]:
                return notices
            await asyncio.sleep(0.05)


async def test_an_approval_decided_while_a_human_holds_the_case_reaches_the_human_not_the_customer(
    team: Team,
) -> None:
    chat = await team.customer()
    customer = held_refund_customer(team.running.data_dir, 0)
    await chat.verify(customer, "I was charged twice, please refund the duplicate")
    held = await chat.say("yes")
    approval_id = held["data"]["approval_id"]
    await escalate(chat, "I'd like to speak to a person about this")
    base = f"/api/console/escalations/{chat.conversation_id}"
    ben, approver = await team.sign_in("ben"), await team.sign_in("approver")
    assert (await ben.post(f"{base}/take-over")).status_code == 200
    spoken = len((await chat.state())["transcript"])

    # Someone else approves: the refund runs once, and the outcome goes to ben, who holds the case.
    approved = await approver.post(f"/api/console/approvals/{approval_id}/approve", json={"note": "duplicate"})
    assert approved.status_code == 200 and approved.json()["status"] == "executed", approved.text
    notices = await _notices(ben, chat.conversation_id)
    assert [n["kind"] for n in notices] == ["approval-outcome"] and "approved and issued" in notices[0]["text"]
    assert len(refunds_for(team.running.data_dir, customer["account_number"])) == 1
    transcript = (await chat.state())["transcript"]
    assert len(transcript) == spoken, transcript[spoken:]  # not a word from the AI to the customer
    assert (await packet_of(ben, chat.conversation_id)).notices[0].agent == "payment"

    # The customer hears it from the person, in the person's words; no AI offer of a hand-off follows.
    told = await ben.post(f"{base}/replies", json={"text": "Your refund is approved and on its way."})
    assert told.status_code == 201
    while_held = await chat.say("great, thanks!")
    assert while_held["status"] == "with-human" and while_held["reply"] == "", while_held
    assert (await ben.post(f"{base}/hand-back")).status_code == 200
