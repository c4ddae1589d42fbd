"""Contact details under the shipped policies: where codes, notices and replacement SIMs go changes only at AAL2."""

from __future__ import annotations

import pytest
from mcp_types import Tool

from gateway.catalog import Catalog
from gateway.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine
from gateway.policy_check import Assumptions, check

BY_CUSTOMER = {"switchboard/subject": {"arg": "customer_id", "kind": "customer_id"}}
WRITES = ["update_contact_details", "update_postal_address"]
AGENTS = ["identity", "support"]
SCHEMA = {"type": "object", "properties": {"customer_id": {"type": "string"}}, "required": ["customer_id"]}


@pytest.fixture(scope="module")
def decide() -> object:
    engine = CedarPolicyEngine.load(DEFAULT_POLICY_DIR)
    catalog = Catalog(AGENTS, engine)
    catalog.set_system(
        "identity",
        [Tool(name=n, input_schema=SCHEMA, _meta=BY_CUSTOMER) for n in WRITES],
    )

    def verdict(agent: str, tool: str, assume: Assumptions) -> str:
        return check(engine, catalog, AGENTS, agent, tool, ["customer_id=CUST-00001"], assume).verdict

    return verdict


@pytest.mark.parametrize("tool", [f"identity.{w}" for w in WRITES])
def test_a_contact_change_needs_a_one_time_code_and_the_identity_agent(decide, tool: str) -> None:
    assert decide("identity", tool, Assumptions()) == "allow"
    assert decide("identity", tool, Assumptions(assurance="AAL1")) == "deny"
    assert decide("identity", tool, Assumptions(verified=False)) == "deny"
    assert decide("support", tool, Assumptions()) == "deny"
