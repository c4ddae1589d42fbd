"""Speech-to-text results back into what the caller meant: codes, phone numbers, e-mails, accounts.

People say identifiers in pieces: "oh seven seven double oh", "jo dot bloggs at example dot
com", "A C C one two three ...". Recognisers write them back in pieces too ("1 2 3, 4 5 6").
``normalize_speech`` puts them together so the identity check reads them like typed text.
Pure functions: each is tested on its own. (Replies for the ear are ``spoken.py``.)
"""

from __future__ import annotations

import re

_NUMBER_WORDS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "to": "2",
    "too": "2",
    "three": "3",
    "four": "4",
    "for": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
# Unambiguous number words; the homophones above only count inside a run of these.
_STRONG = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
_TOKEN = re.compile(r"[A-Za-z]+|\d+|[^A-Za-z\d]+")
_DIGIT_RUN = re.compile(r"(?<![\w.])\d{1,6}(?:[\s,.-]+\d{1,6})+(?![\w])")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_MASKED = re.compile(r"[•*]+\s?(\d{2,4})\b")
_CALLER_ID_PHRASE = re.compile(
    r"\b(?:(?:this|my|the)\s+(?:phone\s+|mobile\s+|cell\s+)?number(?:\s+i'?m\s+calling\s+(?:from|on))?"
    r"|the\s+number\s+i'?m\s+calling\s+(?:from|on)|this\s+phone|this\s+line)\b",
    re.IGNORECASE,
)


def _words_to_digits(text: str) -> str:
    """ "one two three four five six" -> "1 2 3 4 5 6" (runs of 3+ number words only)."""
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        words = [t for t in run if t.lower() in _NUMBER_WORDS]
        strong = sum(1 for t in words if t.lower() in _STRONG)
        long_enough = (len(words) >= 5 and 2 * strong >= len(words)) or (len(words) >= 7 and strong >= 2)
        if len(words) >= 3 and (strong >= len(words) - 1 or long_enough):
            out.append(" ".join(_NUMBER_WORDS[t.lower()] for t in words))
        else:
            out.extend(run)
        run.clear()

    for token in tokens:
        if token.lower() in _NUMBER_WORDS or (run and re.fullmatch(r"[\s,-]+", token)):
            run.append(token)
        else:
            trailing = []
            while run and run[-1].lower() not in _NUMBER_WORDS:
                trailing.append(run.pop())
            flush()
            out.extend(reversed(trailing))
            out.append(token)
    flush()
    return "".join(out)


_REPEAT = re.compile(r"\b(double|triple)\s+(\w+)", re.IGNORECASE)
# The part before "at": letters spelled one by one, or words joined by "dot", "underscore" ...
_EMAIL_SPOKEN = re.compile(
    r"\b(?P<local>(?:[a-z0-9]\s+)+[a-z0-9]|[a-z0-9]+(?:\s+(?:dot|underscore|dash|hyphen)\s+[a-z0-9]+)*)"
    r"\s+at\s+(?P<domain>[a-z0-9]+(?:\s+(?:dot|dash|hyphen)\s+[a-z0-9]+)+)\b",
    re.IGNORECASE,
)
_SEPARATORS = {"dot": ".", "underscore": "_", "dash": "-", "hyphen": "-"}
_ACCOUNT_SPOKEN = re.compile(r"\b(?:a\s*c\s*c|account(?:\s+number)?)\s*(?:is\s+)?-?\s*(\d{7})\b", re.IGNORECASE)


def _repeat(match: re.Match[str]) -> str:
    times = 2 if match.group(1).lower() == "double" else 3
    return " ".join([match.group(2)] * times)


def _email(match: re.Match[str]) -> str:
    def squash(words: str) -> str:
        return "".join(_SEPARATORS.get(w.lower(), w.lower()) for w in words.split())

    return f"{squash(match.group('local'))}@{squash(match.group('domain'))}"


def normalize_speech(text: str) -> str:
    """Speech results read digits back in pieces ("1 2 3, 4 5 6"); join runs into one number.

    Only runs that make a one-time code (6), an account (7), a link code (8) or a phone number (9-15 digits)
    are joined, so "2 lines for 30 euros" stays as it was said.
    """
    text = _REPEAT.sub(_repeat, text or "")
    text = _EMAIL_SPOKEN.sub(_email, text)
    text = _words_to_digits(text).strip()

    def join(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return digits if 6 <= len(digits) <= 15 else match.group(0)

    text = _DIGIT_RUN.sub(join, text).rstrip(".")
    return _ACCOUNT_SPOKEN.sub(lambda m: f"ACC-{m.group(1)}", text)


_SAID_IDENTIFIER = re.compile(r"\d{7,}|@|\bACC-\d", re.IGNORECASE)


def use_caller_id(text: str, caller: str | None) -> str:
    """ "this number" -> the caller ID, when there is one: a hint to look the customer up.

    A number (or e-mail, or account) the caller says wins: "my number is 07700 900596" is that
    number, whoever's phone it comes from. Caller ID proves nothing: the identity check sends
    its one-time code to the contact on record, never to the calling number as such.
    """
    if not caller or not re.fullmatch(r"\+?\d{7,15}", caller) or _SAID_IDENTIFIER.search(text):
        return text
    return _CALLER_ID_PHRASE.sub(caller, text)
