"""Masking tool arguments before they enter the audit log.

The audit log is kept for years and read by people who must not see one-time codes or
full contact details; the digest of the raw arguments still proves what was sent.
"""

from __future__ import annotations

import re
from typing import Any

_SECRET_KEYS = frozenset({"code", "otp", "password", "pin", "token", "secret", "auth_context"})
_PHONE_KEYS = frozenset({"msisdn", "phone", "phone_number", "mobile"})
# Account numbers identify a person as surely as an email: only the last three digits stay, so
# the chain holds no full identifier an erasure would have to reach (it cannot be rewritten).
_ACCOUNT = re.compile(r"\bACC-\d{1,}(\d{3})\b")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# E.164 numbers only: a bare digit run could be a date, an amount or an account number.
_E164 = re.compile(r"\+\d{6,14}(\d{3})\b")
_MASK = "***"


def _mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return f"+{'*' * max(len(digits) - 3, 0)}{digits[-3:]}" if len(digits) > 3 else _MASK


def _mask_text(text: str) -> str:
    text = _EMAIL.sub(lambda m: f"{m.group(1)}{_MASK}@{m.group(2)}", text)
    text = _ACCOUNT.sub(lambda m: f"ACC-{_MASK}{m.group(1)}", text)
    return _E164.sub(lambda m: f"+{'*' * (len(m.group(0)) - 4)}{m.group(1)}", text)


def mask_text(text: str) -> str:
    """Free text (an upstream's error message) with emails, phone and account numbers masked."""
    return _mask_text(text)


def redact(value: Any, key: str | None = None) -> Any:
    """A copy of ``value`` with secrets removed and emails, phone and account numbers masked."""
    if isinstance(value, dict):
        return {k: redact(v, str(k).lower()) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if value is None:
        return None
    if key in _SECRET_KEYS:
        return _MASK
    if isinstance(value, str):
        if key in _PHONE_KEYS:
            return _mask_phone(value)
        return _mask_text(value)
    return value
