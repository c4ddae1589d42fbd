"""The identity specialist: verifies who the customer is with a one-time code."""

from agents.identity.verify import verify_identity
from agents.runtime import SkillTable

DESCRIPTION = "Verifies the customer's identity with a one-time code and issues a signed auth context."


def create() -> SkillTable:
    return SkillTable({"verify-identity": verify_identity})
