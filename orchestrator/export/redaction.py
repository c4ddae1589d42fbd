"""Redacting personal data from an export.

``none`` keeps the customer's details (one-time codes are masked in every mode: a code is a
secret, never conversation content). ``pii`` replaces names, email addresses, phone numbers,
account numbers and customer ids with placeholders everywhere: parties, dialog text, analysis
and tool-call attachments.
"""

from __future__ import annotations

import re
from typing import Any, Literal

Redaction = Literal["none", "pii"]
MODES: tuple[str, ...] = ("none", "pii")

_CODE = re.compile(r"(?<![\w-])\d{6}(?![\w-])")
_PATTERNS = (
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (re.compile(r"\+?\d[\d\s*-]{8,}\d"), "[phone]"),
    (re.compile(r"\bACC-\d+\b"), "[account]"),
    (re.compile(r"\bCUST-\d+\b"), "[customer-id]"),
)


class Redactor:
    """Applies one redaction mode to text and JSON values; knows the customer's own names."""

    def __init__(self, mode: Redaction, names: list[str] | None = None) -> None:
        self.mode = mode
        self._names = [n for n in (names or []) if n and len(n) > 1]

    def text(self, value: str) -> str:
        value = _CODE.sub("[code]", value)
        if self.mode == "none":
            return value
        for pattern, placeholder in _PATTERNS:
            value = pattern.sub(placeholder, value)
        for name in self._names:
            value = re.sub(rf"\b{re.escape(name)}\b", "[name]", value)
        return value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value
