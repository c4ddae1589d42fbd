"""Keeping personal data away from the model.

The model never needs a customer's identifiers: the runtime binds them into tool arguments itself
(see ``tools``). So identifiers are removed from tool results and masked in free text before
anything reaches a model, while facts a skill reasons about (amounts, dates, plan names) pass.
"""

from __future__ import annotations

import re
from typing import Any

# Fields whose value identifies the customer or proves who they are; dropped from tool results.
PERSONAL_FIELDS = frozenset(
    {
        "email",
        "msisdn",
        "phone",
        "account_number",
        "customer_id",
        "name",
        "full_name",
        "address",
        "city",
        "destinations",
        "sent_to",
        "auth_context",
        "keys",
        "card_number",
        "iban",
        "code",
    }
)
REDACTED = "[redacted]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_ACCOUNT = re.compile(r"\bACC-?\s?\d{7}\b", re.IGNORECASE)
_CUSTOMER_ID = re.compile(r"\bCUST-?\s?\d{5}\b", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w-])\+?\d[\d ().-]{6,}\d")
# A code stands alone; six digits inside a reference (INV-202611-00042, RF-A123456BC) are not one.
_CODE = re.compile(r"(?<![\w-])\d{3}[\s-]?\d{3}(?![\w-])")


def redact_text(text: str) -> str:
    """``text`` with emails, phone and account numbers, customer ids and one-time codes masked."""
    text = _EMAIL.sub("[email]", text)
    text = _ACCOUNT.sub("[account]", text)
    text = _CUSTOMER_ID.sub("[customer]", text)
    text = _PHONE.sub("[phone]", text)
    return _CODE.sub("[code]", text)


def redact_data(value: Any) -> Any:
    """A copy of a tool result with personal fields masked and free text scrubbed."""
    if isinstance(value, dict):
        return {k: REDACTED if k in PERSONAL_FIELDS else redact_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_data(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def customer_message(text: str) -> str:
    """The customer's words, masked and fenced as untrusted data."""
    return f"<customer_message>\n{redact_text(text)}\n</customer_message>"
