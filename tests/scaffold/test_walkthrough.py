"""docs/adding-an-agent.md's Retention example, run as written on a copy of the checkout.

Every ``sh`` block of the walkthrough runs once, in order (a module fixture), and each test reads
what one step printed: the new governed tool and its revision, the policy check (10% allowed,
30% held for a person), the new agent, the skill's scenarios through the supervisor and the real
gateway, the agent's own tests (which read the billing system: 10% applied at once, 30% only
after an approval, once) and the registry checks. The steps share one router weight cache
(``SWITCHBOARD_CACHE_DIR``), so the same skills are not trained once per fresh stack, and the
``make`` targets of the last step, which only read the tree, run side by side.
"""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.scaffold.tree import ROOT, copy_tree, env_for, run

pytestmark = [pytest.mark.e2e, pytest.mark.slow_file]

DOC = ROOT / "docs" / "adding-an-agent.md"
WALKTHROUGH = DOC.read_text(encoding="utf-8").split("## The Retention example, end to end", 1)[1].split("\n## ", 1)[0]
POLICY_CHECK = "switchboard policy check --agent retention --tool billing.apply_discount"


def commands() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", WALKTHROUGH, re.DOTALL)


def block_with(text: str) -> str:
    found = [b for b in commands() if text in b]
    assert len(found) == 1, f"one sh block of the walkthrough should run {text!r}; found {len(found)}"
    return found[0]


@dataclass(frozen=True)
class Walked:
    tree: Path
    ran: dict[str, subprocess.CompletedProcess[str]]
    trained_by_make: list[str]
    """Router weight files the ``make`` targets wrote (they should find them trained already)."""

    def output(self, text: str) -> str:
        done = self.ran[block_with(text)]
        return done.stdout + done.stderr


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Walked:
    tree = copy_tree(tmp_path_factory.mktemp("walkthrough") / "checkout")
    # Per-test results in the pytest runs' summaries (PASSED lines), and one weight cache for all.
    env = env_for(tree, PYTEST_ADDOPTS="-rA", SWITCHBOARD_CACHE_DIR=str(tree.parent / "router-cache"))
    ran: dict[str, subprocess.CompletedProcess[str]] = {}
    cache = tree.parent / "router-cache"
    trained_by_make: list[str] = []
    for block in commands():
        lines = block.splitlines()
        targets = [line for line in lines if line.startswith("make ")] if "\\\n" not in block else []
        first = "\n".join(line for line in lines if line not in targets)
        done = run(tree, "bash", "-euo", "pipefail", "-c", first, timeout=600, env=env)
        assert done.returncode == 0, f"$ {first}\n{done.stdout[-4000:]}\n{done.stderr[-3000:]}"
        before = {p.name for p in cache.glob("router-*.npz")}
        with ThreadPoolExecutor(max_workers=len(targets) or 1) as pool:
            made = list(pool.map(lambda target: run(tree, *target.split(), timeout=600, env=env), targets))
        for target, result in zip(targets, made, strict=True):
            assert result.returncode == 0, f"$ {target}\n{result.stdout[-4000:]}\n{result.stderr[-3000:]}"
        trained_by_make += sorted({p.name for p in cache.glob("router-*.npz")} - before)
        # One record per block, its commands' output in the documented order.
        printed = [done, *made]
        stdout, stderr = "".join(r.stdout for r in printed), "".join(r.stderr for r in printed)
        ran[block] = subprocess.CompletedProcess(done.args, 0, stdout, stderr)
    return Walked(tree, ran, trained_by_make)


def test_the_walkthrough_has_its_steps() -> None:
    for step in (
        "switchboard new-tool billing apply_discount",
        f"{POLICY_CHECK} --arg msisdn=+447700900123 --arg percent=30",
        "switchboard new-agent retention",
        "switchboard skill test retention-offer",
        "make test-agent AGENT=retention",
        "make test-registry",
    ):
        block_with(step)
    assert "billing.get_contract" in block_with("switchboard new-agent retention"), "the contract lookup is reused"


def test_the_new_tool_is_a_governed_write_with_its_revision(walked: Walked) -> None:
    billing = walked.tree / "mcp_servers" / "billing"
    assert "percent: Percent" in (billing / "tools" / "apply_discount.py").read_text()
    revision = (billing / "migrations" / "0007_apply_discount.py").read_text()
    assert 'down_revision = "0006"' in revision and "op.bulk_insert(terms, TERMS)" in revision
    catalog = (walked.tree / "docs" / "action-catalog.md").read_text()
    assert re.search(r"^\| apply_discount \| msisdn \| write", catalog, re.MULTILINE), "listed as a write"


def test_the_policy_check_holds_30_percent_for_a_person_and_allows_10(walked: Walked) -> None:
    printed = walked.output(POLICY_CHECK)
    ten, thirty = printed.split("decision: ")[1:]
    assert ten.startswith("allow") and "'percent': 10" in ten
    assert thirty.startswith("approval-required") and "'percent': 30" in thirty
    assert "approval.discount-above-20-percent (gateway/policies/retention-approvals.cedar:3)" in thirty
    # The documented output is what the command prints.
    assert "approval.discount-above-20-percent (gateway/policies/retention-approvals.cedar:3)" in WALKTHROUGH


def test_the_scaffolded_agent_is_replaced_by_the_skills_real_steps(walked: Walked) -> None:
    assert "created agents/retention/retention_offer.py" in walked.output("switchboard new-agent retention")
    graph = (walked.tree / "agents" / "retention" / "retention_offer.py").read_text()
    assert "billing.apply_discount" in graph and "hand_over(" in graph
    assert not (walked.tree / "retention-routing.txt").exists()


def test_the_skill_harness_plays_both_scenarios_through_the_real_gateway(walked: Walked) -> None:
    printed = walked.output("switchboard skill test retention-offer")
    assert "pass retention-offer-first" in printed and "pass retention-offer-approval" in printed
    assert "retention-offer: 2 passed, 0 failed" in printed


def test_the_agent_tests_prove_the_discount_rules_on_the_billing_system(walked: Walked) -> None:
    printed = walked.output("make test-agent AGENT=retention")
    module = "tests/agents/test_retention_retention_offer.py"
    for test in (
        "test_ten_percent_is_applied_at_once",
        "test_thirty_percent_waits_for_a_person_and_runs_once_approved",
        "test_a_customer_who_still_leaves_is_handed_to_a_person",
    ):
        assert f"PASSED {module}::{test}" in printed, printed[-3000:]
    assert " skipped" not in printed and "5 passed" in printed


def test_the_registry_checks_pass_with_the_new_agent(walked: Walked) -> None:
    printed = walked.output("make test-registry")
    # The block's last pytest summary is make test-registry's: "N passed in Ts", nothing else.
    summary = re.findall(r"^=*\s*(\d+ (?:passed|failed).*) in [\d.]+s", printed, re.MULTILINE)[-1]
    assert re.fullmatch(r"\d+ passed", summary), summary


def test_the_make_targets_run_side_by_side_share_one_training(walked: Walked) -> None:
    # The whole catalog's weights were trained by the skill harness's stack before them: the routing
    # checks find them in the shared cache under the same key. At most one brain of another skill
    # set is trained here.
    assert len(walked.trained_by_make) <= 1, walked.trained_by_make
