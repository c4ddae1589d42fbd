"""``switchboard policy check``: the decision, the deciding policies and what an approval needs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gateway.policy import DEFAULT_POLICY_DIR
from orchestrator.cli import main

REFUND = ["--agent", "payment", "--tool", "payments.issue_refund", "--arg", "account_number=ACC-1234567"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["policy", "check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_refund_above_the_threshold_waits_for_a_human(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *REFUND, "--arg", "amount=50", "--arg", "charge_id=CH-1", "--charge-refundable", "yes")
    assert code == 3
    assert out.startswith("decision: approval-required\n")
    assert "approval.refund-above-40 (" in out and "approvals.cedar:" in out
    assert "approval: a human with the approver role approves" in out
    assert "allowed by grant.payment.payments-system" in out
    assert "missing required arguments: reason, idempotency_key" in out


def test_a_small_flagged_refund_is_allowed_and_another_agent_is_denied(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *REFUND, "--arg", "amount=12.5", "--charge-refundable", "yes", "--json")
    answer = json.loads(out)
    assert code == 0 and answer["verdict"] == "allow"
    assert answer["arguments"]["amount"] == 12.5 and answer["approval"] == "not needed"
    code, out, _ = run(capsys, "--agent", "billing", "--tool", "payments.issue_refund", "--arg", "amount=50")
    assert code == 1
    assert "decision: deny" in out and "no policy (deny by default)" in out
    assert "approval: would not help" in out and "billing does not see payments.issue_refund" in out


def test_a_guard_names_its_file_and_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *REFUND, "--arg", "amount=20", "--assurance", "AAL1", "--charge-refundable", "yes")
    assert code == 1
    assert "guard.refund-needs-aal2 (" in out and "guards.cedar:4)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--agent", "nobody", "--tool", "crm.get_profile"], "error: no agent 'nobody'"),
        (["--agent", "billing", "--tool", "billing.get_acount"], "did you mean billing.get_account"),
        (["--agent", "billing", "--tool", "billing.get_account", "--arg", "msisd=1"], "has no argument 'msisd'"),
        (["--agent", "billing", "--tool", "billing.list_invoices", "--arg", "limit=many"], "must be a whole number"),
        (["--agent", "payment", "--tool", "payments.issue_refund", "--arg", "amount"], "is not name=value"),
        (["--agent", "billing", "--tool", "crm.send_offer", "--arg", "channel=fax"], "must be one of email, sms"),
    ],
)
def test_bad_input_is_a_clear_error(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err


def test_a_policy_on_any_declared_argument(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A line of Cedar on an argument that is not ``amount`` decides the call; a typo fails at once."""
    policies = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, policies)
    (policies / "limits.cedar").write_text(
        '@id("approval.long-invoice-history")\n@approval("required")\n'
        'forbid (principal, action == Action::"call", resource == Tool::"billing.list_invoices")\n'
        "when { context.args has limit && context.args.limit > 12 }\nunless { context.approved };\n",
        encoding="utf-8",
    )
    common = ["--agent", "billing", "--tool", "billing.list_invoices", "--policy-dir", str(policies)]
    code, out, _ = run(capsys, *common, "--arg", "msisdn=+15550100123", "--arg", "limit=6")
    assert code == 0, out
    code, out, _ = run(capsys, *common, "--arg", "msisdn=+15550100123", "--arg", "limit=24")
    assert code == 3 and "approval.long-invoice-history (" in out and "limits.cedar:1)" in out

    (policies / "limits.cedar").write_text(
        (policies / "limits.cedar").read_text(encoding="utf-8").replace("limit", "limits"), encoding="utf-8"
    )
    code, _, err = run(capsys, *common)
    assert code == 2
    assert "reads context.args.limits, but no tool declares an argument 'limits'" in err
