"""The plan change names its SKILL.md steps: reads in ``choose``, the change only in ``change``.

With the stand-in gateway, which records the step each call claims (the real gateway's check of
those claims is in tests/governance/test_skill_steps.py).
"""

from __future__ import annotations

from tests.agents.conftest import StartSpecialist
from tests.agents.fake_gateway import FakeGateway


async def test_the_change_is_claimed_only_in_the_step_after_the_yes(
    start_specialist: StartSpecialist, gateway: FakeGateway
) -> None:
    billing = await start_specialist("billing")
    proposed = await billing.send("switch me to Family Share", "change-plan")
    before = [(c.tool, (c.step or {}).get("step")) for c in gateway.calls]
    assert before and {step for _, step in before} == {"choose"}, before
    assert "billing.change_plan" not in [tool for tool, _ in before]

    await billing.send("yes", "change-plan", task=proposed)
    after = [(c.tool, (c.step or {}).get("step"), (c.step or {}).get("skill")) for c in gateway.calls[len(before) :]]
    assert ("billing.change_plan", "change", "change-plan") in after, after
    assert {step for _, step, _ in after} == {"change"}, after
