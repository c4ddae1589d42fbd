"""Least privilege per skill step: a call that names its step may use only that step's tools.

The step travels in ``_meta['switchboard/step']``; the agent is the one its token names, so a
claim can only narrow what the agent may do. Each refusal is a deny record with its reason.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from mcp_types import TextContent

from gateway import read_audit
from shared.errors import ConfigurationError
from shared.skill_steps import STEP_META_KEY, StepGrants, skill_tools
from shared.skills import load_skill, load_skills
from tests.governance.conftest import ANA, Env

REFUND = {
    "account_number": ANA.account_number,
    "charge_id": "CH-1",
    "amount": 12.5,
    "reason": "duplicate charge",
    "idempotency_key": "k-steps-1",
}


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


def meta(env: Env, skill: str, step: str) -> dict[str, str]:
    return {"switchboard/envelope": env.envelope(), STEP_META_KEY: json.dumps({"skill": skill, "step": step})}


@pytest.mark.parametrize(
    ("skill", "step", "why"),
    [
        # The read-only history loop was offered the refund before; now its only step refuses it.
        ("payment-history", "all", "outside step 'all' of skill 'payment-history'"),
        # The refund itself, asked for before the customer's yes (the proposal step).
        ("refund-charge", "find", "outside step 'find' of skill 'refund-charge'"),
        # Another agent's skill, or a step the skill does not have: never wider grants.
        ("change-plan", "change", "skill 'change-plan' is not one of the payment agent's skills"),
        ("refund-charge", "anything", "skill 'refund-charge' has no step 'anything'"),
    ],
)
async def test_a_tool_outside_the_claimed_step_is_denied_and_audited(env: Env, skill: str, step: str, why: str) -> None:
    async with env.agent("payment") as agent:
        result = await agent.call_tool("payments.issue_refund", REFUND, meta=meta(env, skill, step))

    assert result.is_error and text_of(result).startswith("DENIED:"), text_of(result)
    assert why in text_of(result)
    assert env.upstreams["payments"].calls == []
    [record] = read_audit(env.audit_db)
    assert (record.decision, record.agent, record.tool) == ("deny", "payment", "payments.issue_refund")
    assert record.policy_ids == ["skill-step"] and why in record.reason


async def test_the_write_step_after_the_yes_may_refund(env: Env) -> None:
    async with env.agent("payment") as agent:
        result = await agent.call_tool("payments.issue_refund", REFUND, meta=meta(env, "refund-charge", "refund"))

    assert not result.is_error, text_of(result)
    assert len(env.upstreams["payments"].calls) == 1


@pytest.mark.parametrize(("step", "allowed"), [("diagnose", False), ("open-ticket", True)])
async def test_a_ticket_is_opened_only_in_the_step_after_the_yes(env: Env, step: str, allowed: bool) -> None:
    # The stand-in support system records the ticket, then fails: what matters is whether it was reached.
    async with env.agent("support") as agent:
        result = await agent.call_tool(
            "support.open_ticket",
            {"email": ANA.email, "summary": "no data"},
            meta=meta(env, "troubleshoot-service", step),
        )

    assert text_of(result).startswith("DENIED:") is not allowed, text_of(result)
    assert len(env.upstreams["support"].calls) == int(allowed)
    if not allowed:
        assert "outside step 'diagnose' of skill 'troubleshoot-service'" in text_of(result)
        [record] = read_audit(env.audit_db)
        assert record.decision == "deny" and record.policy_ids == ["skill-step"]


async def test_a_malformed_step_claim_is_denied(env: Env) -> None:
    async with env.agent("payment") as agent:
        result = await agent.call_tool(
            "payments.list_charges",
            {"account_number": ANA.account_number},
            meta={"switchboard/envelope": env.envelope(), STEP_META_KEY: '{"skill": 7}'},
        )
    assert result.is_error and "must name a skill and a step" in text_of(result)
    assert env.upstreams["payments"].calls == []


def test_every_shipped_skill_declares_its_tools_and_writes_wait_for_a_yes() -> None:
    grants = StepGrants.load()
    for skill in load_skills():
        declared = grants.skill(skill.name)
        assert declared is not None, f"{skill.name} declares no allowed-tools"
        assert declared.agent == skill.agent
    # Moving money, changing a plan, opening a ticket and changing an order happen only after the yes.
    for skill, write in (
        ("refund-charge", "payments.issue_refund"),
        ("change-plan", "billing.change_plan"),
        ("troubleshoot-service", "support.open_ticket"),
        ("track-order", "support.cancel_order"),
        ("track-order", "support.change_delivery"),
        ("payment-method", "payments.set_autopay"),
    ):
        declared = grants.skill(skill)
        assert declared is not None
        assert write not in declared.first.tools
        after = declared.after_yes()
        assert after is not None and write in after.tools
    # The read-only skills can never write what the issue found them offered.
    history, bill = grants.skill("payment-history"), grants.skill("explain-bill")
    assert history is not None and bill is not None
    assert not {"payments.issue_refund", "payments.record_payment"} & history.tools
    assert not {"billing.change_plan", "crm.send_offer"} & bill.tools


async def test_a_write_is_not_sent_after_the_turns_deadline(env: Env) -> None:
    # The agent stopped waiting when the deadline passed; a call sent now would act behind its back.
    envelope = env.envelope(deadline_at=time.time() - 1)
    async with env.agent("payment") as agent:
        result = await agent.call_tool(
            "payments.issue_refund", REFUND, meta={"switchboard/envelope": envelope, **_step("refund-charge", "refund")}
        )
    assert result.is_error and "nothing was changed" in text_of(result), text_of(result)
    assert env.upstreams["payments"].calls == []
    decision, outcome = read_audit(env.audit_db)
    assert decision.decision == "allow" and "deadline passed" in (outcome.outcome or "")


async def test_a_write_within_the_deadline_is_sent(env: Env) -> None:
    envelope = env.envelope(deadline_at=time.time() + 30)
    async with env.agent("payment") as agent:
        result = await agent.call_tool(
            "payments.issue_refund", REFUND, meta={"switchboard/envelope": envelope, **_step("refund-charge", "refund")}
        )
    assert not result.is_error, text_of(result)
    assert len(env.upstreams["payments"].calls) == 1


def _step(skill: str, step: str) -> dict[str, str]:
    return {STEP_META_KEY: json.dumps({"skill": skill, "step": step})}


@pytest.mark.parametrize(
    ("front", "why"),
    [
        ('allowed-tools: a.read\nmetadata:\n  agent: x\n  steps: "act after yes: a.read"', "first step"),
        ('allowed-tools: a.read\nmetadata:\n  agent: x\n  steps: "look: a.read b.write"', "not in allowed-tools"),
        ('allowed-tools: a.read\nmetadata:\n  agent: x\n  steps: "look a.read"', "metadata.steps has"),
        ("allowed-tools: a.read Not-A-Tool\nmetadata:\n  agent: x", "allowed-tools has"),
    ],
)
def test_a_bad_step_declaration_stops_the_start_with_the_file(tmp_path: Path, front: str, why: str) -> None:
    folder = tmp_path / "bad-skill"
    folder.mkdir()
    (folder / "SKILL.md").write_text(f"---\nname: bad-skill\ndescription: d\n{front}\n---\n# Bad\n")
    with pytest.raises(ConfigurationError, match=why) as raised:
        skill_tools(load_skill(folder / "SKILL.md"))
    assert "bad-skill/SKILL.md" in str(raised.value)
