"""The identity specialist: verifies who the customer is with a one-time code."""

from agents.identity import contact, sign_in, switch, verify
from agents.runtime import SkillGraphs

DESCRIPTION = (
    "Verifies the customer's identity with a one-time code, issues a signed auth context and helps with "
    "signing in online (password reset, registration), changes the email or postal address on the account after "
    "a step-up, and moves the conversation to another account the customer verifies."
)


def create() -> SkillGraphs:
    return SkillGraphs(
        {
            "verify-identity": verify.graph(),
            "sign-in-help": sign_in.graph(),
            "update-contact": contact.graph(),
            "switch-account": switch.graph(),
        }
    )
