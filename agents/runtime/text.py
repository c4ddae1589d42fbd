"""Understanding short customer replies without a model: yes/no, choices, codes, keys, amounts.

Everything here is a pure function over the customer's text so the procedures stay
deterministic and each helper can be tested on its own.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from shared.answer_shape import EMAIL as _EMAIL

_WORD = re.compile(r"[a-z']+")

_ACCOUNT = re.compile(r"\bACC-?\s?(\d{7})\b", re.IGNORECASE)
_CUSTOMER_ID = re.compile(r"\bCUST-?\s?(\d{5})\b", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w-])\+?\d[\d ().-]{6,}\d")
_CODE = re.compile(r"(?<!\d)(\d{3})[\s-]?(\d{3})(?!\d)")
_AMOUNT = re.compile(r"(?:[€$£]\s?)?(\d{1,6}(?:[.,]\d{1,2})?)\s?(?:€|eur|euros?|usd|dollars?|gbp|pounds?)?", re.I)

_CURRENCY_SIGNS = {"EUR": "€", "USD": "$", "GBP": "£"}


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def best_match(text: str, choices: Sequence[str], *, cutoff: float = 0.6) -> int | None:
    """Index of the choice the text names (whole name, a distinctive word, or a typo of one)."""
    lowered = text.lower()
    names = [c.lower() for c in choices]
    contained = [i for i, n in enumerate(names) if n and n in lowered]
    if contained:
        return max(contained, key=lambda i: len(names[i]))
    whole = difflib.get_close_matches(lowered.strip(), names, n=1, cutoff=cutoff)
    if whole:
        return names.index(whole[0])
    # A single word can name a plan ("unlimited", "unlimted"), unless two plans share it.
    words = [w for w in _words(text) if len(w) >= 3]
    scores: dict[int, float] = {}
    for i, name in enumerate(names):
        for part in _words(name):
            if len(part) < 3:
                continue
            for w in words:
                ratio = difflib.SequenceMatcher(None, w, part).ratio()
                if ratio >= max(cutoff, 0.8):
                    scores[i] = max(scores.get(i, 0.0), ratio)
    if not scores:
        return None
    best = max(scores.values())
    winners = [i for i, s in scores.items() if s == best]
    return winners[0] if len(winners) == 1 else None


def find_code(text: str) -> str | None:
    """A six-digit one-time code, also when typed as "123 456" or "123-456"."""
    match = _CODE.search(text)
    return match.group(1) + match.group(2) if match else None


def find_email(text: str) -> str | None:
    match = _EMAIL.search(text)
    return match.group(0).lower() if match else None


def find_account_number(text: str) -> str | None:
    match = _ACCOUNT.search(text)
    return f"ACC-{match.group(1)}" if match else None


def find_customer_id(text: str) -> str | None:
    match = _CUSTOMER_ID.search(text)
    return f"CUST-{match.group(1)}" if match else None


def find_phone(text: str) -> str | None:
    """A phone number normalised to digits with an optional leading +; six-digit codes excluded."""
    for match in _PHONE.finditer(_EMAIL.sub(" ", text)):
        raw = match.group(0)
        digits = re.sub(r"\D", "", raw)
        if 8 <= len(digits) <= 15:
            return ("+" if raw.startswith("+") else "") + digits
    return None


def find_customer_hint(text: str) -> str | None:
    """The first identifier a customer gave: email, account number, customer id or phone."""
    return find_email(text) or find_account_number(text) or find_customer_id(text) or find_phone(text)


def find_amount(text: str) -> Decimal | None:
    """An amount of money ("€12.50", "12,50 euros", "12.5"); codes and phone numbers excluded."""
    cleaned = _PHONE.sub(" ", _EMAIL.sub(" ", text))
    for match in _AMOUNT.finditer(cleaned):
        try:
            return Decimal(match.group(1).replace(",", "."))
        except InvalidOperation:
            continue
    return None


HOUSE_CURRENCY = "GBP"
"""What an amount is in when its system does not say: the reference systems price in pounds."""


def money(amount: float | int | str | Decimal | None, currency: str | None = None) -> str:
    """Format an amount for a customer: "€12.50", "£7.00"; an amount always carries its currency."""
    value = Decimal(str(amount if amount is not None else 0)).quantize(Decimal("0.01"))
    code = (currency or HOUSE_CURRENCY).upper()
    sign = _CURRENCY_SIGNS.get(code)
    if sign:
        return f"-{sign}{-value}" if value < 0 else f"{sign}{value}"
    return f"{value} {code}".strip()


def day(value: str | date | datetime | None) -> str:
    """A date the way people say it: "12 Nov"; unparseable input is returned as given."""
    if value is None:
        return ""
    if isinstance(value, str):
        given = value
        try:
            value = datetime.fromisoformat(given.replace("Z", "+00:00"))
        except ValueError:
            return given
    return f"{value.day} {value:%b}"


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def mask_tail(value: str | None) -> str:
    """ "••• 123" from whatever the identity system returned (it may already be masked)."""
    digits = re.sub(r"\D", "", value or "")
    if value and ("•" in value or "*" in value):
        return value
    return f"••• {digits[-3:]}" if digits else (value or "your phone")
