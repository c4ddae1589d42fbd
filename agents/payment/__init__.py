"""The payment specialist: refunds duplicate charges and reports payment history."""

from agents.payment import history, method, refund
from agents.runtime import SkillGraphs

DESCRIPTION = (
    "Finds and refunds duplicate charges, summarises the customer's payments and refunds, and looks after "
    "the card on file and autopay."
)


def create() -> SkillGraphs:
    return SkillGraphs(
        {"refund-charge": refund.graph(), "payment-history": history.graph(), "payment-method": method.graph()}
    )
