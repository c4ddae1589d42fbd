"""Troubleshooting names its SKILL.md steps: the diagnosis only reads, the ticket waits for a yes.

With the stand-in gateway, which records the step each call claims (the real gateway's check of
those claims is in tests/governance/test_skill_steps.py).
"""

from __future__ import annotations

from tests.agents.conftest import StartSpecialist
from tests.agents.fake_gateway import FakeGateway


async def test_the_ticket_is_claimed_only_in_the_step_after_the_yes(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    support = await start_specialist("support")
    offered = await support.send("my mobile data is slow", "troubleshoot-service")
    assert offered.result.status == "input-required" and "shall I open a ticket" in offered.text
    before = [(c.tool, (c.step or {}).get("step")) for c in gateway.calls]
    assert before and {step for _, step in before} == {"diagnose"}, before
    assert "support.open_ticket" not in [tool for tool, _ in before]

    done = await support.send("yes", "troubleshoot-service", task=offered)
    after = [(c.tool, (c.step or {}).get("step"), (c.step or {}).get("skill")) for c in gateway.calls[len(before) :]]
    assert ("support.open_ticket", "open-ticket", "troubleshoot-service") in after, after
    assert {step for _, step, _ in after} == {"open-ticket"}, after
    assert done.result.status == "completed" and "TCK-1001" in done.text


async def test_a_no_leaves_only_the_reads(start_specialist: StartSpecialist, gateway: FakeGateway) -> None:
    support = await start_specialist("support")
    offered = await support.send("my mobile data is slow", "troubleshoot-service")
    declined = await support.send("no thanks", "troubleshoot-service", task=offered)
    assert declined.result.status == "completed" and declined.result.data["ticket_id"] is None
    assert "support.open_ticket" not in gateway.tools_called()
    assert {(c.step or {}).get("step") for c in gateway.calls} == {"diagnose"}
