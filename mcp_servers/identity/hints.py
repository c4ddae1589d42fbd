"""Finding customer keys in what a customer typed: an email, phone number, account or customer id."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_CUSTOMER_ID = re.compile(r"\bCUST[-\s]?(\d{5})\b", re.IGNORECASE)
_ACCOUNT = re.compile(r"\bACC[-\s]?(\d{7})\b", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w+])(\+?\d[\d\s().-]{7,18}\d)(?!\w)")


def normalise_msisdn(text: str) -> str | None:
    """E.164 from a UK national (07700 900123), international (0044 / +44) or spaced number."""
    digits = re.sub(r"\D", "", text)
    if text.strip().startswith("+"):
        candidate = "+" + digits
    elif digits.startswith("00"):
        candidate = "+" + digits[2:]
    elif digits.startswith("0"):
        candidate = "+44" + digits[1:]
    elif digits.startswith("44") and len(digits) == 12:
        candidate = "+" + digits
    elif digits.startswith("7") and len(digits) == 10:
        candidate = "+44" + digits
    else:
        return None
    return candidate if 9 <= len(candidate) <= 16 else None


def find_keys(hint: str) -> list[tuple[str, str]]:
    """Every (kind, value) key found in the hint, most specific kinds first."""
    found: list[tuple[str, str]] = []
    found += [("customer_id", f"CUST-{m}") for m in _CUSTOMER_ID.findall(hint)]
    found += [("account_number", f"ACC-{m}") for m in _ACCOUNT.findall(hint)]
    found += [("email", m.lower()) for m in _EMAIL.findall(hint)]
    without_emails = _EMAIL.sub(" ", hint)
    for raw in _PHONE.findall(without_emails):
        msisdn = normalise_msisdn(raw)
        if msisdn:
            found.append(("msisdn", msisdn))
    return list(dict.fromkeys(found))


def mask_msisdn(msisdn: str) -> str:
    return msisdn[:3] + "*" * max(len(msisdn) - 6, 0) + msisdn[-3:]


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
