"""Checks a model's reply must pass before a customer reads it.

A model can be talked into anything, and a small one echoes its prompt. So a reply is refused
when it carries prompt or system text, template markers, tool names or internal words, when the
model stopped at its token limit, when it states an amount, a date or a reference that no
tool result (nor the customer, nor the procedure's own draft) gave, or when it is written in
another language than the customer's. The caller then uses the procedure's own wording. Each
check is cheap: regular expressions, a set of word 8-grams and common-word counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from shared.language import ENGLISH, NAMES, detect

_MARKERS = re.compile(
    r"<<\s*/?SYS\s*>>|\[/?INST\]|<\|[a-z_]+\|>|</?s>|<(?:start|end)_of_turn>"
    r"|(?:<|&lt;)\s*/?\s*(?:draft_reply|customer_message|tool_result|system|assistant|user)\s*(?:>|&gt;)"
    r"|^\s*#{1,6}\s",
    re.IGNORECASE | re.MULTILINE,
)
_TOOL_NAME = re.compile(
    r"\b(?:crm|billing|payments|support|identity|network|consent)(?:\.|__)[a-z_]+\b|\banswer_customer\b"
)
_INTERNAL = re.compile(
    r"\b(?:system prompt|skills?|gateway|MCP|A2A|envelope|auth context|idempotency|hydrated|function call|tool call)\b",
    re.IGNORECASE,
)
_AMOUNT = re.compile(
    r"[£$€]\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*\.\d{2}\b|\b\d[\d,]*(?:\.\d+)?\s?(?:pounds?|euros?|dollars?|GBP|EUR|USD)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_REFERENCE = re.compile(r"\b[A-Z]{2,5}-[A-Z0-9][A-Z0-9-]{3,}\b")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", re.IGNORECASE)
_ISO_DATE = re.compile(r"\b\d{4}-(\d{2})-(\d{2})")
_SHINGLE = 8
_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class Evidence:
    """What a reply may take its facts from, and the prompt text it must not repeat."""

    facts: str
    """Tool results, the customer's own words, the procedure's draft: any fact in them may be said."""
    prompt: str = ""
    """The system and skill instructions the model was given."""
    language: str = ENGLISH
    """The customer's language (``customer_language``): a reply must be written in it."""


def refusal(text: str, evidence: Evidence, *, finish_reason: str = "") -> str | None:
    """Why ``text`` must not reach the customer, or None when it may."""
    if finish_reason == "length":
        return "cut off at the token limit"
    if _MARKERS.search(text):
        return "template or prompt markers"
    if _TOOL_NAME.search(text):
        return "a tool name"
    if (word := _INTERNAL.search(text)) is not None:
        return f"an internal word ({word.group(0)!r})"
    if evidence.prompt and _shingles(text) & _shingles(evidence.prompt):
        return "text from the instructions"
    if (fact := _unsupported_fact(text, evidence.facts)) is not None:
        return f"a fact no tool result gave ({fact!r})"
    written = detect(text)
    if written is not None and written != evidence.language:
        return f"not in the customer's language ({NAMES.get(written, written)}, not {NAMES.get(evidence.language)})"
    return None


def customer_language(text: str) -> str:
    """The language the customer wrote ``text`` in; English when too short to tell (what we serve)."""
    return detect(text) or ENGLISH


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + _SHINGLE]) for i in range(len(words) - _SHINGLE + 1)}


def _unsupported_fact(text: str, facts: str) -> str | None:
    amounts = {value for raw in _NUMBER.findall(facts) if (value := _decimal(raw)) is not None}
    raw: str
    for raw in _AMOUNT.findall(text):
        number = _NUMBER.search(raw)
        value = _decimal(number.group(0)) if number else None
        if value is None or value not in amounts:
            return raw.strip()
    references = set(_REFERENCE.findall(facts))
    reference: str
    for reference in _REFERENCE.findall(text):
        if reference not in references:
            return reference
    days = _dates(facts)
    for day in _dates(text):
        if day not in days:
            return f"{_MONTHS[day[0] - 1]} {day[1]}"
    return None


def _decimal(raw: str) -> Decimal | None:
    try:
        return Decimal(raw.replace(",", ""))
    except InvalidOperation:
        return None


def _dates(text: str) -> set[tuple[int, int]]:
    """(month, day) pairs however they are written: 2026-11-03, 3 November, Nov 3rd."""
    found: set[tuple[int, int]] = {(int(m), int(d)) for m, d in _ISO_DATE.findall(text)}
    found |= {(_month(m), int(d)) for d, m in _DAY_MONTH.findall(text)}
    found |= {(_month(m), int(d)) for m, d in _MONTH_DAY.findall(text)}
    return found


def _month(name: str) -> int:
    return _MONTHS.index(name[:3].lower()) + 1


def joined(parts: Iterable[str]) -> str:
    """Evidence texts in one string, for ``Evidence.facts``."""
    return "\n".join(parts)
