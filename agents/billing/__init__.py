"""The billing specialist: explains bills and changes plans."""

from agents.billing.bill import explain_bill
from agents.billing.plans import change_plan
from agents.runtime import SkillTable

DESCRIPTION = "Explains the customer's bill against the previous month and changes their plan."


def create() -> SkillTable:
    return SkillTable({"explain-bill": explain_bill, "change-plan": change_plan})
