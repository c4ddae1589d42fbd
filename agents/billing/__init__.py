"""The billing specialist: explains bills and changes plans."""

from agents.billing import bill, plans
from agents.runtime import SkillGraphs

DESCRIPTION = "Explains the customer's bill against the previous month and changes their plan."


def create() -> SkillGraphs:
    return SkillGraphs({"explain-bill": bill.graph(), "change-plan": plans.graph()})
