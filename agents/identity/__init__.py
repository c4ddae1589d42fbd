"""The identity specialist: verifies who the customer is with a one-time code."""

from agents.identity import sign_in, verify
from agents.runtime import SkillGraphs

DESCRIPTION = (
    "Verifies the customer's identity with a one-time code, issues a signed auth context and helps with "
    "signing in online (password reset, registration)."
)


def create() -> SkillGraphs:
    return SkillGraphs({"verify-identity": verify.graph(), "sign-in-help": sign_in.graph()})
