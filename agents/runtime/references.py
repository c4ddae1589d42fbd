"""What "the 30GB one", "the second charge", "the one from last Tuesday" and "the cheaper one" point at.

A customer answers a list the way people do: by its place in the list, by a size or a price, by
a date, or by comparing. Each is resolved against exactly what the customer was last shown (the
``Shown`` options a skill keeps in its graph state, in the order it listed them), never against
anything else. Every clue in the reply narrows the same list; one option left is the answer,
several are a clarifying question naming them, none is a question listing what was shown.
Pure functions, no model: the skills stay deterministic and each rule is tested on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

_ORDINALS = {
    "first": 0,
    "1st": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
    "fifth": 4,
    "5th": 4,
    "sixth": 5,
    "6th": 5,
    "last": -1,
    "bottom": -1,
    "top": 0,
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# "last Tuesday", "first of May", "last time" are dates and times, not places in the list.
_NOT_A_PLACE = r"(?!\s+(?:of|day|week|month|year|time|night|" + "|".join(_WEEKDAYS) + r")\b)"
_ORDINAL = re.compile(r"\b(?:the\s+)?(" + "|".join(_ORDINALS) + r")\b" + _NOT_A_PLACE, re.I)
_NUMBERED = re.compile(r"\b(?:number|no\.?|option|#)\s*(\d{1,2})\b|^\s*(\d)\s*[.)]?\s*$", re.I)
_SIZE = re.compile(r"\b(\d{1,4})\s?(?:gb|gig|gigs|gigabytes?)\b", re.I)
_PRICE = re.compile(
    r"(?:[£€$]\s?(\d{1,5}(?:[.,]\d{1,2})?))|\b(\d{1,5}(?:[.,]\d{1,2})?)\s?(?:pounds?|quid|euros?|gbp|eur)\b", re.I
)
_CHEAPEST = re.compile(r"\b(cheapest|lowest price|least expensive)\b", re.I)
_CHEAPER = re.compile(r"\b(cheaper|less expensive|lower price)\b", re.I)
_DEAREST = re.compile(r"\b(most expensive|dearest|priciest)\b", re.I)
_DEARER = re.compile(r"\b(more expensive|dearer|pricier)\b", re.I)
_BIGGEST = re.compile(r"\b(biggest|largest|most data)\b", re.I)
_BIGGER = re.compile(r"\b(bigger|larger|more data)\b", re.I)
_SMALLEST = re.compile(r"\b(smallest|least data)\b", re.I)
_SMALLER = re.compile(r"\b(smaller|less data)\b", re.I)
_WEEKDAY = re.compile(r"\b(last|this|on)?\s*(" + "|".join(_WEEKDAYS) + r")\b", re.I)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(" + "|".join(_MONTHS) + r")[a-z]*\b", re.I)
_MONTH_DAY = re.compile(r"\b(" + "|".join(_MONTHS) + r")[a-z]*\s+(\d{1,2})(?:st|nd|rd|th)?\b", re.I)
_THE_NTH = re.compile(r"\b(?:on|from|dated)\s+the\s+(\d{1,2})(?:st|nd|rd|th)\b", re.I)
_RELATIVE = {"today": 0, "yesterday": 1}


@dataclass(frozen=True, slots=True)
class Shown:
    """One option as the customer saw it: its words, and what it can be told apart by."""

    label: str
    amount: Decimal | None = None
    size_gb: int | None = None
    on: date | None = None


@dataclass(frozen=True, slots=True)
class Resolved:
    """``index`` of the one option meant; or, when unsure, ``candidates`` and the question to ask."""

    index: int | None
    candidates: tuple[int, ...] = ()
    clue: bool = False
    """The reply referred to the list at all (a place, size, price, date or comparison)."""

    def question(self, shown: Sequence[Shown], noun: str = "one") -> str:
        """A short clarifying question naming the options still in play (or all, when none fit)."""
        pool = self.candidates or tuple(range(len(shown)))
        named = [shown[i].label for i in pool[:4]]
        listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]
        if not self.candidates:
            return f"Sorry, I couldn't tell which {noun} you mean. Was it {listed}?"
        return f"Just to be sure I pick the right {noun}: do you mean {listed}?"


def _amount(raw: str) -> Decimal | None:
    try:
        return Decimal(raw.replace(",", "."))
    except InvalidOperation:
        return None


def _dates(text: str, today: date) -> set[date]:
    """The days a reply names: "last Tuesday", "yesterday", "12 March", "March 12", "the 12th"."""
    lowered = text.lower()
    found: set[date] = set()
    for word, back in _RELATIVE.items():
        if re.search(rf"\b{word}\b", lowered):
            found.add(today - timedelta(days=back))
    for match in _WEEKDAY.finditer(lowered):
        wanted = _WEEKDAYS.index(match.group(2))
        back = (today.weekday() - wanted) % 7 or 7  # the most recent one before today
        found.add(today - timedelta(days=back))
    for day, month in [(m.group(1), m.group(2)) for m in _DAY_MONTH.finditer(lowered)] + [
        (m.group(2), m.group(1)) for m in _MONTH_DAY.finditer(lowered)
    ]:
        found |= _past_day(int(day), _MONTHS.index(month[:3]) + 1, today)
    for match in _THE_NTH.finditer(lowered):
        nth = int(match.group(1))  # this month's, or last month's when this month's is still to come
        year, month = (today.year, today.month) if nth <= today.day else _month_before(today)
        found |= _on(year, month, nth)
    return found


def _month_before(today: date) -> tuple[int, int]:
    return (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)


def _on(year: int, month: int, day: int) -> set[date]:
    try:
        return {date(year, month, day)}
    except ValueError:
        return set()


def _past_day(day: int, month: int, today: date) -> set[date]:
    """That day in the latest year that does not put it in the future."""
    for year in (today.year, today.year - 1):
        found = _on(year, month, day)
        if found and min(found) <= today:
            return found
    return set()


def _extreme(
    pool: list[int],
    key: Callable[[int], Decimal | int | None],
    *,
    lowest: bool,
    comparative: bool,
    current: int | None,
) -> list[int]:
    """The option with the lowest (or highest) value. A comparative ("cheaper") compares with what
    the customer has now when one of the options is theirs, else it needs exactly two options."""
    valued = [i for i in pool if key(i) is not None]
    base = key(current) if current is not None else None
    if comparative and base is not None:
        return [i for i in valued if i != current and (key(i) < base if lowest else key(i) > base)]  # type: ignore[operator]
    if not valued or (comparative and len(valued) != 2):
        return valued if comparative else pool
    target = (min if lowest else max)(key(i) for i in valued)  # type: ignore[type-var]
    return [i for i in valued if key(i) == target]


def resolve(text: str, shown: Sequence[Shown], today: date, current: int | None = None) -> Resolved:
    """Which shown option the reply means. Every clue narrows the same list; ``current`` is the
    option the customer has now (their plan), which "cheaper" and "bigger" compare with."""
    pool = list(range(len(shown)))
    clue = False
    places = _THE_NTH.sub(" ", text)  # "from the 2nd" is a date, not the second option
    numbered = _NUMBERED.search(places)
    ordinal = _ORDINAL.search(places)
    if numbered or ordinal:
        clue = True
        if numbered:
            place = int(numbered.group(1) or numbered.group(2)) - 1
        else:
            assert ordinal is not None
            place = _ORDINALS[ordinal.group(1).lower()]
        position = place if place >= 0 else len(shown) + place
        pool = [position] if 0 <= position < len(shown) else []
    sizes = {int(m.group(1)) for m in _SIZE.finditer(text)}
    if sizes:
        clue = True
        pool = [i for i in pool if shown[i].size_gb in sizes]
    prices = {p for m in _PRICE.finditer(text) if (p := _amount(m.group(1) or m.group(2))) is not None}
    if prices:
        clue = True
        pool = [i for i in pool if shown[i].amount is not None and shown[i].amount in prices]
    days = _dates(text, today)
    if days:
        clue = True
        pool = [i for i in pool if shown[i].on in days]
    price: Callable[[int], Decimal | None] = lambda i: shown[i].amount  # noqa: E731
    size: Callable[[int], int | None] = lambda i: shown[i].size_gb  # noqa: E731
    for pattern, key, lowest, comparative in (
        (_CHEAPEST, price, True, False),
        (_CHEAPER, price, True, True),
        (_DEAREST, price, False, False),
        (_DEARER, price, False, True),
        (_BIGGEST, size, False, False),
        (_BIGGER, size, False, True),
        (_SMALLEST, size, True, False),
        (_SMALLER, size, True, True),
    ):
        if pattern.search(text):
            clue = True
            pool = _extreme(pool, key, lowest=lowest, comparative=comparative, current=current)
    if not clue:
        return Resolved(None)
    if len(pool) == 1:
        return Resolved(pool[0], (pool[0],), clue=True)
    return Resolved(None, tuple(pool), clue=True)
