"""The identity specialist: verifies who the customer is with a one-time code."""

from agents.identity import verify
from agents.runtime import SkillGraphs

DESCRIPTION = "Verifies the customer's identity with a one-time code and issues a signed auth context."


def create() -> SkillGraphs:
    return SkillGraphs({"verify-identity": verify.graph()})
