"""The payment specialist: refunds duplicate charges and reports payment history."""

from agents.payment.history import payment_history
from agents.payment.refund import refund_charge
from agents.runtime import SkillTable

DESCRIPTION = "Finds and refunds duplicate charges and summarises the customer's payments and refunds."


def create() -> SkillTable:
    return SkillTable({"refund-charge": refund_charge, "payment-history": payment_history})
