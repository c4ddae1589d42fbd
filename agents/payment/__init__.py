"""The payment specialist: refunds duplicate charges and reports payment history."""

from agents.payment import arrangement, history, method, refund, refund_status
from agents.runtime import SkillGraphs

DESCRIPTION = (
    "Finds and refunds duplicate charges, summarises the customer's payments and refunds, and looks after "
    "the card on file and autopay, says where a refund is, and spreads an unpaid bill over instalments."
)


def create() -> SkillGraphs:
    return SkillGraphs(
        {
            "refund-charge": refund.graph(),
            "payment-history": history.graph(),
            "payment-method": method.graph(),
            "refund-status": refund_status.graph(),
            "payment-arrangement": arrangement.graph(),
        }
    )
