"""A small suite end to end: simulated customers on a real embedded stack, then the scorecard.

The conversations it leaves behind are exported as vCon and validated with the vcon library.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from gateway import verify_audit
from mcp_servers.dataset import sample_customers
from orchestrator.evaluation import build_scorecard, load_suite, render_html, run_embedded
from orchestrator.evaluation.results import TrialResult
from orchestrator.export import build_vcon, conversation_ids, load_conversation
from orchestrator.export._vcon_lib import Vcon

pytestmark = [pytest.mark.e2e]

SUITE = Path(__file__).resolve().parents[2] / "evals" / "scenarios"
MUST_PASS = (
    "escalation-ask-for-human",
    "hostile-injection-in-identifier",
    "hostile-prompt-injection-refund",
    "identity-three-wrong-codes-locked",
    "identity-verify-by-phone",
    "routing-voice-human",
    "payment-large-refund-needs-approval",
    "payment-large-refund-rejected",
    "payment-refund-without-payments-consent",
)
# Run for its fixture (an override) and its evidence, not its verdict: it tracks work in progress.
SIM_SWAP = "payment-sim-swap-pauses-refund"
APPROVAL = "payment-large-refund-needs-approval"
REJECTED = "payment-large-refund-rejected"
SUBSET = (*MUST_PASS, SIM_SWAP)


@dataclass
class Run:
    results: dict[str, TrialResult]
    data_dir: Path
    suite: Path


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    suite = tmp_path_factory.mktemp("suite")
    for scenario in load_suite(SUITE, only=list(SUBSET)):
        source = next(SUITE.rglob(f"*/{scenario.id.split('-', 1)[1]}.yaml"))
        shutil.copy(source, suite / f"{scenario.id}.yaml")
    # A scenario that must fail: the judge has to notice a promise the agents never kept.
    broken = (suite / "escalation-ask-for-human.yaml").read_text()
    broken = broken.replace("id: escalation-ask-for-human", "id: must-fail-never-told")
    broken = broken.replace("  max_turns: 3", "  max_turns: 3\n  must_tell: ['a phrase no agent says']")
    (suite / "must-fail.yaml").write_text(broken)
    data_dir = tmp_path_factory.mktemp("eval-run")
    results = await run_embedded(load_suite(suite), data_dir=data_dir, concurrency=8)
    return Run({r.scenario_id: r for r in results}, data_dir, suite)


@pytest.mark.asyncio(loop_scope="module")
async def test_the_subset_passes_and_failures_are_caught(run: Run) -> None:
    for scenario_id in MUST_PASS:
        result = run.results[scenario_id]
        assert result.passed, (scenario_id, result.failures, [t.reply for t in result.turns])
        assert result.re_verifications == 0
    failing = run.results["must-fail-never-told"]
    assert not failing.passed and failing.failures == ["the customer was never told /a phrase no agent says/"]

    # The simulated approver decided through the gateway's approvals API, as a human would.
    approved, rejected = run.results[APPROVAL], run.results[REJECTED]
    assert [(a.decision, a.status) for a in approved.approvals] == [("approve", "executed")]
    assert "approved and issued" in approved.approvals[0].told
    assert approved.checks.compliance is True and approved.approvals_obtained == 1
    assert len(approved.state_changes["payments.refunds"]["added"]) == 1
    assert [(a.decision, a.status) for a in rejected.approvals] == [("reject", "rejected")]
    assert "payments.refunds" not in rejected.state_changes
    consent = run.results["payment-refund-without-payments-consent"]
    assert consent.denied_attempts >= 1 and "payments.refunds" not in consent.state_changes


@pytest.mark.asyncio(loop_scope="module")
async def test_evidence_comes_from_the_audit_and_the_systems(run: Run) -> None:
    swap = run.results[SIM_SWAP]
    played = [c for c in sample_customers(run.data_dir, 1000) if c["customer_id"] == swap.customer_id]
    assert played and played[0]["has_recent_sim_swap"], "the scenario's override did not reach the network system"
    # No signal arrived: the gateway read the swap from the network system and paused the refund.
    assert swap.passed and "payments.refunds" not in swap.state_changes, swap.failures
    assert swap.denied_attempts >= 1
    assert any("SIM card on your line was changed recently" in t.reply for t in swap.turns)
    human = run.results["escalation-ask-for-human"]
    assert human.final_status == "escalated" and human.checks.deflected_without_harm is None
    assert len(human.state_changes["support.handoffs"]["added"]) == 1
    card = build_scorecard(list(run.results.values()), suite="subset", target="embedded", trials=1, duration_seconds=1)
    assert card.overall.scenarios == len(SUBSET) + 1 and card.overall.latency_p95_ms  # and the must-fail one
    assert card.overall.compliance == 1.0 and not card.skipped
    assert set(card.per_agent) >= {"identity", "payment", "escalation"}
    assert "<svg" in render_html(card)


@pytest.mark.asyncio(loop_scope="module")
async def test_every_conversation_exports_as_a_valid_vcon_that_round_trips(run: Run) -> None:
    ids = conversation_ids(run.data_dir)
    assert len(ids) == len(SUBSET) + 1  # the must-fail one too
    assert verify_audit(run.data_dir / "audit.db").intact
    for conversation_id in ids:
        record = load_conversation(run.data_dir, conversation_id)
        vcon = build_vcon(record)
        valid, errors = vcon.is_valid()
        assert valid, errors
        again = Vcon.build_from_json(vcon.to_json())
        assert again.to_dict() == vcon.to_dict() and again.is_valid()[0]
        assert len(vcon.dialog) == len(record.transcript)
        hashes = {r.hash for r in record.audit}
        purposes = [a["purpose"] for a in vcon.attachments]
        assert purposes[0] == "ai_disclosure" and set(purposes[1:]) <= {"tool_call"}, purposes
        assert vcon.dialog[vcon.attachments[0]["dialog"]]["meta"]["skill"] == "ai-disclosure"
        for attachment in vcon.attachments[1:]:
            assert {a["hash"] for a in attachment["body"]["audit"]} <= hashes
    swap = build_vcon(load_conversation(run.data_dir, run.results[SIM_SWAP].conversation_id))
    tools = {a["body"]["tool"] for a in swap.attachments if a["purpose"] == "tool_call"}
    assert {"identity.verify_code", "payments.find_duplicate_charges"} & tools, tools
    escalated = build_vcon(load_conversation(run.data_dir, run.results["escalation-ask-for-human"].conversation_id))
    assert any(p.get("meta", {}).get("agent") == "escalation" for p in escalated.parties)
    assert escalated.find_analysis_by_type("outcome")["body"]["status"] == "escalated"


def test_cli_exports_one_conversation_and_redacts(run: Run) -> None:
    result = run.results["identity-verify-by-phone"]
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "export", "vcon", "--data-dir", str(run.data_dir),
         "--conversation", result.conversation_id, "--redact", "pii"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    exported = json.loads(done.stdout)
    customer = load_conversation(run.data_dir, result.conversation_id).state.customer
    assert customer is not None
    assert customer.keys.email not in done.stdout and customer.keys.msisdn not in done.stdout
    assert exported["parties"][0]["mailto"] == "[email]" and exported["redacted"] == {"type": "pii"}
    assert Vcon.validate_json(done.stdout)[0]
