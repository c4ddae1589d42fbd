"""The payment specialist: refunds duplicate charges and reports payment history."""

from agents.payment import history, refund
from agents.runtime import SkillGraphs

DESCRIPTION = "Finds and refunds duplicate charges and summarises the customer's payments and refunds."


def create() -> SkillGraphs:
    return SkillGraphs({"refund-charge": refund.graph(), "payment-history": history.graph()})
