"""The billing specialist: explains bills and changes plans."""

from agents.billing import bill, close_account, contract, invoice_copy, open_account, plans
from agents.runtime import SkillGraphs

DESCRIPTION = (
    "Explains the customer's bill against the previous month, sends invoice copies, changes their plan, "
    "says when the contract ends and what leaving early costs, closes accounts with a person's approval and "
    "tells newcomers how to join."
)


def create() -> SkillGraphs:
    return SkillGraphs(
        {
            "explain-bill": bill.graph(),
            "change-plan": plans.graph(),
            "contract-end": contract.graph(),
            "invoice-copy": invoice_copy.graph(),
            "close-account": close_account.graph(),
            "open-account": open_account.graph(),
        }
    )
