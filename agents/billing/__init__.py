"""The billing specialist: explains bills and changes plans."""

from agents.billing import bill, contract, plans
from agents.runtime import SkillGraphs

DESCRIPTION = (
    "Explains the customer's bill against the previous month, changes their plan and says when the "
    "contract ends and what leaving early costs."
)


def create() -> SkillGraphs:
    return SkillGraphs({"explain-bill": bill.graph(), "change-plan": plans.graph(), "contract-end": contract.graph()})
