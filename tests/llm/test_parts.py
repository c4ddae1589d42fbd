"""Settings, redaction, skill flags and tool binding: the pure parts of the LLM runtime."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from agents.runtime.llm import LLMSettings
from agents.runtime.llm.skills import skill_guide
from agents.runtime.llm.tools import bind_arguments, function_name, governed_tool
from orchestrator import registry
from shared.envelope import ContextEnvelope, CustomerKeys, CustomerRef
from shared.errors import ConfigurationError
from shared.handoff import HUMAN_REQUEST_TAG
from shared.llm.redact import redact_data, redact_text
from shared.skills import Skill, load_skill, load_skills


def test_a_role_model_overrides_the_common_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_MODEL", "openai/gpt-4o-mini")
    monkeypatch.setenv("SWITCHBOARD_ROUTER_MODEL", "ollama/llama3.2")
    settings = LLMSettings()
    assert settings.model_for("router") == "ollama/llama3.2"
    assert settings.model_for("specialist") == "openai/gpt-4o-mini" and settings.any_model


def test_no_model_means_every_role_offline() -> None:
    settings = LLMSettings(_env_file=None, model="  ")
    assert [settings.model_for(r) for r in ("router", "specialist", "summary")] == [None, None, None]
    assert not settings.any_model


@pytest.mark.parametrize(
    "bad",
    [
        {"model_timeout_seconds": 0},
        {"model_retries": -1},
        {"structured_output": "yaml"},
        {"router_min_confidence": 1.5},
        {"max_tool_steps": 0},
    ],
)
def test_bad_settings_are_refused(bad: dict) -> None:
    with pytest.raises(ValidationError):
        LLMSettings(_env_file=None, **bad)


def test_identifiers_are_masked_in_text_and_data() -> None:
    text = "I'm ana@example.com, ACC-1234567, CUST-00001, +1 555 010 0123, code 123 456; bill €32.50"
    assert redact_text(text) == "I'm [email], [account], [customer], [phone], code [code]; bill €32.50"
    data = {"email": "a@b.co", "plan_name": "Basic 10", "charges": [{"amount": 18.0, "account_number": "ACC-1"}]}
    assert redact_data(data) == {
        "email": "[redacted]",
        "plan_name": "Basic 10",
        "charges": [{"amount": 18.0, "account_number": "[redacted]"}],
    }


def test_business_references_are_not_mistaken_for_codes() -> None:
    # A reply naming an invoice or refund reference must still be re-phrased by the model.
    text = "Refund RF-A123456BC for invoice INV-202611-00042 is issued; your code was 123-456."
    assert redact_text(text) == "Refund RF-A123456BC for invoice INV-202611-00042 is issued; your code was [code]."


def _moves_money_or_identity(skill: Skill, catalog: dict[str, registry.ToolEntry]) -> bool:
    named = set(re.findall(r"`(\w+\.\w+)`", skill.body))
    return any(not catalog[t].read_only and catalog[t].system in _EXACT_SYSTEMS for t in named if t in catalog)


# A write in these systems changes money, a plan or who the customer is: the procedure's own
# steps run it, never a model's choice. The request for a person is the other skill that must act
# the same way every time.
_EXACT_SYSTEMS = {"identity", "payments", "billing"}


def test_money_and_identity_skills_are_deterministic() -> None:
    catalog = registry.tools()
    for skill in load_skills():
        must = _moves_money_or_identity(skill, catalog) or HUMAN_REQUEST_TAG in skill.tags
        assert skill_guide(skill).deterministic is must, f"{skill.name}: set metadata.deterministic to {must}"
    guide = skill_guide(next(s for s in load_skills() if s.name == "explain-bill"))
    assert "## Procedure" in guide.instructions and "## Examples" not in guide.instructions


def test_an_unreadable_flag_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "odd-skill" / "SKILL.md"
    path.parent.mkdir()
    path.write_text(
        '---\nname: odd-skill\ndescription: d\nmetadata:\n  agent: x\n  deterministic: "maybe"\n---\nbody\n'
    )
    with pytest.raises(ConfigurationError, match="deterministic"):
        skill_guide(load_skill(path))


def test_identifiers_are_hidden_from_the_model_and_bound_from_the_envelope() -> None:
    schema = {
        "type": "object",
        "properties": {"email": {}, "category": {}, "conversation_id": {}, "idempotency_key": {}},
        "required": ["email", "category", "idempotency_key"],
    }
    tool = governed_tool("support.open_ticket", "Open a ticket", schema, read_only=False)
    assert tool.spec.name == function_name("support.open_ticket") == "support__open_ticket"
    assert tool.spec.parameters["properties"] == {"category": {}} and tool.spec.parameters["required"] == ["category"]
    envelope = ContextEnvelope(
        conversation_id="c-1", customer=CustomerRef(keys=CustomerKeys(customer_id="CUST-1", email="a@b.co"))
    )
    args = bind_arguments(tool, {"category": "x", "email": "evil@x.co", "idempotency_key": "k"}, envelope)
    assert args == {"category": "x", "email": "a@b.co", "conversation_id": "c-1"}
    anonymous = bind_arguments(tool, {"category": "x", "email": "evil@x.co"}, ContextEnvelope(conversation_id="c"))
    assert anonymous == {"category": "x", "conversation_id": "c"}
