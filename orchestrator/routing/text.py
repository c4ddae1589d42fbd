"""Normalising a customer's words before routing.

Both the training phrases and every routed message go through ``normalize`` so that the
classifier sees one spelling of things customers write many ways: accents, curly quotes,
stretched letters ("pleeease"), chat shorthand ("u", "pls") and identifiers (an email address,
an account or phone number) that carry intent by their kind, not their value.
"""

from __future__ import annotations

import re
import unicodedata

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ACCOUNT = re.compile(r"\bacc[\s-]?\d{4,}\b")
_TICKET = re.compile(r"\b(?:tck|tkt|inc|case)[\s#-]?\d{2,}\b")
_PHONE = re.compile(r"\+?\d[\d\s()-]{7,}\d")
# A reference we gave out ("PORT-1A2B3C4D"): its letters are random, so left to the digit rule they
# would become random words that sway the route; it reads like a numbered one ("ORD-00412").
_HEX_REFERENCE = re.compile(r"\b([a-z]{2,5})-(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{6,}\b")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
_STRETCHED = re.compile(r"([a-z])\1{2,}")
_NON_WORD = re.compile(r"[^a-z0-9@ ]+")
_SPACES = re.compile(r"\s+")

# Chat shorthand that would otherwise split one word into unrelated n-grams.
_SHORTHAND = {
    "u": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "pleas": "please",
    "thx": "thanks",
    "wanna": "want to",
    "gonna": "going to",
    "gimme": "give me",
    "im": "i am",
    "cant": "can not",
    "cannot": "can not",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "wont": "will not",
    "isnt": "is not",
    "havent": "have not",
    "txt": "text",
    "msg": "message",
    "acc": "account",
    "acct": "account",
    # Customers' abbreviations of the words requests turn on: too far from the word for the
    # speller ("pwd" is five edits from "password"), so read as the word itself.
    "pw": "password",
    "pwd": "password",
    "passwd": "password",
    "pword": "password",
    "pmt": "payment",
    "pymt": "payment",
    "addr": "address",
    "amt": "amount",
    "nbr": "number",
    "info": "information",
    "abt": "about",
    "cuz": "because",
    "coz": "because",
    "bcoz": "because",
    "tmrw": "tomorrow",
    "yday": "yesterday",
    "thru": "through",
    "rcvd": "received",
    "recd": "received",
}


def normalize(text: str) -> str:
    """Lower-case, accent-free, shorthand-expanded text with identifiers replaced by their kind."""
    if not text.isascii():  # ASCII has no accents to strip; most messages are ASCII
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower()
    text = text.replace("\u2019", "'").replace("'", "")
    text = _EMAIL.sub(" emailaddress ", text)
    text = _ACCOUNT.sub(" accountnumber ", text)
    text = _TICKET.sub(" ticketnumber ", text)
    text = _PHONE.sub(" phonenumber ", text)
    text = _HEX_REFERENCE.sub(r" \1 0 ", text)
    text = _DIGITS.sub(" 0 ", text)
    text = _STRETCHED.sub(r"\1\1", text)
    text = _NON_WORD.sub(" ", text)
    words = [_SHORTHAND.get(word, word) for word in text.split()]
    return _SPACES.sub(" ", " ".join(words)).strip()


def words(normalized: str) -> list[str]:
    """The words of an already normalised text."""
    return normalized.split()
