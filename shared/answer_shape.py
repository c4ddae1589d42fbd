"""What a waiting specialist asked the customer for, and whether a reply has that shape.

A specialist that asks for a detail says which kind in its result's ``asking``. The supervisor
reads a reply of that shape as the answer even when the router places the words elsewhere: a
new address names a town, and a town pulls towards outage questions. The patterns live here
because the specialist that reads the detail and the supervisor that routes it must agree.
"""

from __future__ import annotations

import re

__all__ = ["EMAIL", "PORTING_CODE", "UK_POSTCODE", "Asking", "fits"]

UK_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b", re.I)
"""A UK postcode, outward and inward parts as groups ("KM1 4AB")."""
PORTING_CODE = re.compile(r"\b([A-Za-z]{3})[ -]?(\d{6})\b")
"""A porting authorisation code: three letters and six digits ("ABC 123456")."""
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE_NUMBER = re.compile(r"(?<![\d+])(?:\+44\s?|0)7\d{3}\s?\d{3}\s?\d{3}(?!\d)")

Asking = str
"""The kinds a specialist may ask for: ``postal-address``, ``email``, ``port-in`` (a number to bring
in or its porting code); ``identifier`` and ``code`` are read by the voice line, not here."""

_SHAPES: dict[str, tuple[re.Pattern[str], ...]] = {
    "postal-address": (UK_POSTCODE,),
    "email": (EMAIL,),
    "port-in": (PORTING_CODE, _PHONE_NUMBER),
}


def fits(asking: Asking | None, text: str) -> bool:
    """Whether ``text`` carries the kind of detail the waiting specialist asked for."""
    shapes = _SHAPES.get(asking or "")
    return shapes is not None and any(shape.search(text) for shape in shapes)
