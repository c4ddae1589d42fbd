"""The Cedar snippets in docs/governance.md parse and do what the text says."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest

from gateway.catalog import Catalog
from gateway.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine, PolicyRequest
from mcp_servers.listing import list_catalog
from shared.errors import ConfigurationError
from shared.tools import READ_BATCH_TOOL

DOC = Path(__file__).resolve().parents[2] / "docs" / "governance.md"


def _section(heading: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"### {heading}\n")
    end = text.find("\n## ", start)
    following = text.find("\n### ", start + 1)
    return text[start : min(i for i in (end, following) if i != -1)]


def _blocks(section: str, fence: str) -> list[str]:
    return re.findall(rf"```{fence}\n(.*?)```", section, re.DOTALL)


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, target)
    return target


def test_the_documented_several_tools_grant_parses_and_grants_exactly_its_tools(policies: Path) -> None:
    section = _section("Granting several tools")
    (snippet,) = _blocks(section, "cedar")
    listed = set(re.findall(r'Tool::"([\w.]+)"', snippet))
    assert len(listed) >= 2
    (policies / "retention.cedar").write_text(snippet, encoding="utf-8")
    engine = CedarPolicyEngine.load(policies)
    catalog = Catalog(["retention"], engine)
    for system, tools in asyncio.run(list_catalog()).items():
        catalog.set_system(system, tools)
    engine.check_arguments()

    # Besides the granted tools, an agent that may read is offered the gateway's batch of reads.
    assert {t.name for t in catalog.listing("retention").tools} - {READ_BATCH_TOOL} == listed
    grant = re.search(r'@id\("([^"]+)"\)', snippet)
    assert grant is not None
    for tool in listed:
        decision = engine.decide(PolicyRequest(agent="retention", tool=tool))
        assert decision.allowed and decision.policy_ids == [grant.group(1)]
    refused = engine.decide(PolicyRequest(agent="retention", tool="billing.change_plan"))
    assert not refused.allowed and "deny by default" in refused.reason


def test_the_obvious_list_syntax_the_doc_warns_about_is_a_syntax_error(policies: Path) -> None:
    (wrong,) = _blocks(_section("Granting several tools"), "")
    policy = "\n".join(line for line in wrong.splitlines() if not line.startswith("//"))
    (policies / "wrong.cedar").write_text('@id("grant.wrong")\n' + policy, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"wrong\.cedar:1: Cedar syntax error: .*found set of entity uids"):
        CedarPolicyEngine.load(policies)


def test_the_documented_argument_policy_validates_against_a_tool_that_declares_it(policies: Path) -> None:
    from gateway.policy import ToolFacts

    (snippet,) = _blocks(_section("Tool arguments (`context.args`)"), "cedar")
    grant = (
        '@id("grant.retention.discount")\n'
        'permit (principal == Agent::"retention", action in Action::"use",'
        ' resource == Tool::"billing.apply_discount");\n'
    )
    (policies / "discount.cedar").write_text(grant + snippet, encoding="utf-8")
    engine = CedarPolicyEngine.load(policies)
    schema = {"type": "object", "properties": {"msisdn": {"type": "string"}, "percent": {"type": "integer"}}}
    engine.set_tools(
        [ToolFacts.of("billing.apply_discount", "billing", schema, read_only=False, customer_scoped=False)]
    )
    engine.check_arguments()
    call = PolicyRequest(agent="retention", tool="billing.apply_discount", arguments={"percent": 30})
    held = engine.decide(call)
    assert held.approval_required and held.policy_ids == ["approval.discount-above-20-percent"]
    assert engine.decide(
        PolicyRequest(agent="retention", tool="billing.apply_discount", arguments={"percent": 20})
    ).allowed
