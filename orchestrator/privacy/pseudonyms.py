"""What an erasure replaces, and with what: each personal value by a pseudonym of the same length.

Two kinds of value. Identifiers (email, phone, account number) name one person wherever they
appear, so they are replaced everywhere. Names do not: another customer may be called "Maria
Lopez" too, and a first name alone ("this is Maria") names many people. The full name and the
first name are replaced only in a row (or line) that is about this customer, one that names them
by id, an identifier, one of their conversations or a record linked to them, and only as whole
words, so another Maria's data and "Mariana" stay as they are.

Each pseudonym is as long as the value in UTF-8 bytes, made from a random key that is thrown
away: the same value becomes the same pseudonym in every store (references still join), nobody
can map it back, and binary cells (serialized working state) stay well-formed, because no length
prefix inside them changes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from orchestrator.privacy.stores import Customer, mentions

_SHORTEST_IDENTIFIER = 4  # shorter is no identifier; replacing it everywhere would hit unrelated text
_SHORTEST_NAME = 2


def _pseudonym(key: bytes, raw: bytes) -> bytes:
    mark = hmac.new(key, raw, hashlib.sha256).hexdigest() * 4
    return ("X" + mark)[: len(raw)].encode()


def _word(value: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"(?<![\w])" + re.escape(value) + rb"(?![\w])")


@dataclass(frozen=True)
class Pseudonyms:
    everywhere: dict[bytes, bytes]
    """Identifiers: replaced wherever they appear."""
    in_scope: dict[bytes, bytes]
    """Full and first name: replaced as whole words, only in rows about the customer."""
    scope: tuple[bytes, ...]
    """What marks a row as about the customer."""

    @classmethod
    def of(cls, customer: Customer, scope: Iterable[str]) -> Pseudonyms:
        key = secrets.token_bytes(32)
        everywhere = {
            v.encode(): _pseudonym(key, v.encode())
            for v in customer.personal()
            if len(v.encode()) >= _SHORTEST_IDENTIFIER
        }
        in_scope = {
            n.encode(): _pseudonym(key, n.encode()) for n in customer.names() if len(n.encode()) >= _SHORTEST_NAME
        }
        marks = (*customer.identifiers(), *scope)
        return cls(everywhere, in_scope, tuple(v.encode() for v in marks if v))

    def about(self, cells: Iterable[object]) -> bool:
        """Whether a row (its cells) is about the customer: names one of ``scope`` (CUST-1 is not in CUST-12)."""
        return any(mentions(cell, self.scope) for cell in cells)

    def needed(self, data: bytes, about: bool) -> bool:
        if any(v in data for v in self.everywhere):
            return True
        return about and any(_word(v).search(data) for v in self.in_scope)

    def apply(self, data: bytes, about: bool) -> bytes:
        # Longest first, so a name inside an email is not replaced before the email.
        for value in sorted(self.everywhere, key=len, reverse=True):
            data = data.replace(value, self.everywhere[value])
        if about:  # the full name before the first name inside it
            for value in sorted(self.in_scope, key=len, reverse=True):
                data = _word(value).sub(self.in_scope[value], data)
        return data

    def values(self) -> tuple[bytes, ...]:
        return (*self.everywhere, *self.in_scope)
