"""The AgentCard each specialist serves, built from SKILL.md."""

from __future__ import annotations

import httpx
import pytest

from agents import agent_names, build_app
from shared.errors import ConfigurationError
from shared.skills import load_skills
from tests.agents.conftest import AUTHORITY, SKILLS_DIR, StartSpecialist


async def test_agent_names_lists_every_specialist_package() -> None:
    assert agent_names() == ["billing", "escalation", "identity", "payment", "support"]


async def test_card_lists_the_skills_from_skill_md(start_specialist: StartSpecialist) -> None:
    payment = await start_specialist("payment")
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{payment.base_url}/.well-known/agent-card.json")
    assert response.status_code == 200
    card = response.json()
    assert card["name"] == "payment"
    assert card["supportedInterfaces"] == [
        {"url": f"{payment.base_url}/a2a/jsonrpc", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
        {"url": f"{payment.base_url}/a2a/rest", "protocolBinding": "HTTP+JSON", "protocolVersion": "1.0"},
    ]
    skills = {s["id"]: s for s in card["skills"]}
    assert set(skills) == {s.name for s in load_skills(SKILLS_DIR, agent="payment")} >= {"refund-charge"}
    refund = skills["refund-charge"]
    assert refund["description"] == "Find a duplicate charge and refund it with the customer's consent."
    assert refund["tags"] == ["payments", "requires:verified-identity"]
    assert refund["examples"] == ["I was charged twice", "refund the double payment"]


def test_unknown_agent_is_a_configuration_error(tmp_path) -> None:
    with pytest.raises(ConfigurationError, match="no specialist named 'sales'"):
        build_app(
            "sales",
            public_url="http://x",
            gateway_mcp_url="http://x/mcp",
            auth=AUTHORITY.auth("t"),
            data_dir=tmp_path,
            skills_dir=SKILLS_DIR,
        )


def test_agent_without_skills_is_a_configuration_error(tmp_path) -> None:
    with pytest.raises(ConfigurationError, match="has no skills"):
        build_app(
            "billing",
            public_url="http://x",
            gateway_mcp_url="http://x/mcp",
            auth=AUTHORITY.auth("t"),
            data_dir=tmp_path,
            skills_dir=tmp_path,
        )


def test_skill_without_a_procedure_is_a_configuration_error(tmp_path) -> None:
    folder = tmp_path / "dispute-charge"
    folder.mkdir()
    (folder / "SKILL.md").write_text(
        "---\nname: dispute-charge\ndescription: Dispute a charge.\nmetadata:\n  agent: payment\n---\nbody\n"
    )
    with pytest.raises(ConfigurationError, match="does not implement: dispute-charge"):
        build_app(
            "payment",
            public_url="http://x",
            gateway_mcp_url="http://x/mcp",
            auth=AUTHORITY.auth("t"),
            data_dir=tmp_path,
            skills_dir=tmp_path,
        )
