"""Every reply, written for a screen, turned into words for the ear (the one renderer the phone uses).

- money as words with its currency ("£12.00" -> "twelve pounds"; a bare "12.00" is in the
  operator's currency);
- references, codes and phone numbers spelled in short groups (``Spell``), so a caller can
  write them down, and remembered so "say that again" repeats them;
- masked numbers ("••• 154") as "the number ending in 1 5 4"; e-mail addresses with "at" and "dot";
- no URLs (the site's name instead), no markup, no internal ids; every list item, in order;
- words about screens ("type", "(yes/no)") as words about phones.

Pure functions of the text and ``Voice`` (currency): each rule is tested on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from orchestrator.channels.twilio import Part, Spell

_ONES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ("_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_CURRENCIES = {
    # code: (sign, one, many, one minor, many minor)
    "GBP": ("£", "pound", "pounds", "penny", "pence"),
    "EUR": ("€", "euro", "euros", "cent", "cents"),
    "USD": ("$", "dollar", "dollars", "cent", "cents"),
}
_BY_SIGN = {sign: code for code, (sign, *_rest) in _CURRENCIES.items()}

_MARKUP = re.compile(r"\*\*|__|`|<[^>\n]{1,40}>")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_URL = re.compile(r"\bhttps?://[^\s<>()]+|\bwww\.[^\s<>()]+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
_MONEY = re.compile(
    r"(?P<neg>-)?(?P<sign>[£€$])\s?(?P<amount>\d[\d,]*(?:\.\d{1,2})?)"
    r"|(?<![\w.])(?P<bare>\d[\d,]*\.\d{2})(?:\s?(?P<code>GBP|EUR|USD))?(?!\w|\.\d)"
)
# What is spelled, in one pass so a spelled piece is never matched again from inside.
_SPELLED = re.compile(
    r"(?P<masked>(?:\+?\d{1,4}\s?)?[•*]+\s?(?P<tail>\d{2,4})\b)"
    r"|(?P<reference>\b[A-Z]{2,5}(?:-[A-Z0-9]{2,})+\b)"
    r"|(?P<phone>(?<![\w])\+?\d[\d ]{7,16}\d(?![\w]))"
    r"|(?P<code>(?<![\w£€$.,])\d{5,8}(?!\w|[.,]\d))"
)
_ISO_DATE = re.compile(r"\b(20\d\d)-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?\b")
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_REPLACEMENTS = (
    (re.compile(r"\s*\((?:yes|y)\s*/\s*(?:no|n)\)", re.IGNORECASE), " Please say yes or no."),
    (re.compile(r"\btype it here\b", re.IGNORECASE), "say it or key it in"),
    (re.compile(r"\btype\b"), "say"),
    (re.compile(r"\bhere in the chat\b|\bin this chat\b", re.IGNORECASE), "on this call"),
)


@dataclass(frozen=True)
class Voice:
    """What the renderer needs from the settings: the currency a bare amount is in."""

    currency: str = "GBP"


def number_words(n: int) -> str:
    """0 <= n < 1,000,000 in words ("three hundred and twelve"); larger numbers digit by digit."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("-" + _ONES[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + (" and " + number_words(rest) if rest else "")
    if n < 1_000_000:
        rest = n % 1000
        joiner = " and " if 0 < rest < 100 else " "
        return number_words(n // 1000) + " thousand" + (joiner + number_words(rest) if rest else "")
    return " ".join(_ONES[int(d)] for d in str(n))


def money_words(amount: Decimal, currency: str) -> str:
    """Decimal("12.50"), "GBP" -> "twelve pounds and fifty pence"."""
    _sign, one, many, one_minor, many_minor = _CURRENCIES.get(currency.upper(), _CURRENCIES["GBP"])
    value = abs(amount).quantize(Decimal("0.01"))
    major, minor = int(value), int((value % 1) * 100)
    words = f"{number_words(major)} {one if major == 1 else many}"
    if minor:
        words += f" and {number_words(minor)} {one_minor if minor == 1 else many_minor}"
    return ("minus " if amount < 0 else "") + words


def groups(chars: str) -> tuple[str, ...]:
    """Characters in groups of three (a last single one joins the group before)."""
    out = [chars[i : i + 3] for i in range(0, len(chars), 3)]
    if len(out) > 1 and len(out[-1]) == 1:
        out[-2:] = [out[-2] + out[-1]]
    return tuple(out)


def _date(match: re.Match[str]) -> str:
    """2026-10 -> "October 2026"; 2026-10-03 -> "3 October 2026"."""
    year, month, day = match.group(1), _MONTHS[int(match.group(2)) - 1], match.group(3)
    return f"{int(day)} {month} {year}" if day else f"{month} {year}"


def _site(url: str) -> str:
    host = urlsplit(url if "//" in url else "https://" + url).hostname or "our website"
    return host.removeprefix("www.").replace(".", " dot ")


def _email(match: re.Match[str]) -> str:
    local, _, domain = match.group(0).partition("@")
    return f"{local.replace('.', ' dot ')} at {domain.replace('.', ' dot ')}"


def _money(voice: Voice) -> Callable[[re.Match[str]], str]:
    def say(match: re.Match[str]) -> str:
        if match.group("sign"):
            amount = Decimal(match.group("amount").replace(",", ""))
            words = money_words(amount, _BY_SIGN[match.group("sign")])
            return ("minus " if match.group("neg") else "") + words
        amount = Decimal(match.group("bare").replace(",", ""))
        return money_words(amount, match.group("code") or voice.currency)

    return say


def _flatten(text: str) -> str:
    """Markup, links and list layout out; every list item kept, in order, as its own sentence."""
    text = _LINK.sub(lambda m: f"{m.group(1)} (on {_site(m.group(2))})", text)
    text = _URL.sub(lambda m: _site(m.group(0).rstrip(".,;")) + m.group(0)[len(m.group(0).rstrip(".,;")) :], text)
    text = _MARKUP.sub("", text)
    sentences: list[str] = []
    for raw in text.splitlines():
        line = _BULLET.sub("", raw).strip()
        if not line:
            continue
        sentences.append(line if line[-1] in ".!?:" else line + ".")
    return " ".join(sentences)


def render(text: str, voice: Voice | None = None) -> list[Part]:
    """``text`` as words and spelled groups, ready for ``TwiML.say``."""
    voice = voice or Voice()
    text = text or ""
    for pattern, words in _REPLACEMENTS:
        text = pattern.sub(words, text)
    text = _UUID.sub("", _flatten(text))
    text = _EMAIL.sub(_email, text)
    text = _ISO_DATE.sub(_date, text)
    text = _MONEY.sub(_money(voice), text)
    text = re.sub(r"\s+([.,?!])", r"\1", re.sub(r"\s{2,}", " ", text)).strip()
    parts: list[Part] = []
    at = 0
    for match in _SPELLED.finditer(text):
        if match.start() > at:
            parts.append(text[at : match.start()])
        at = match.end()
        if match.group("masked"):
            parts.extend(["the number ending in ", Spell((match.group("tail"),))])
            continue
        chunks = [c for c in re.split(r"[-\s]", match.group(0).lstrip("+")) if c]
        parts.append(Spell(tuple(g for chunk in chunks for g in groups(chunk))))
    if at < len(text):
        parts.append(text[at:])
    return parts


def references(parts: list[Part]) -> list[Spell]:
    """The spelled pieces of a reply: what "say that again" repeats."""
    return [p for p in parts if isinstance(p, Spell)]
