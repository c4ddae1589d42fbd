"""Turning chat text into short spoken replies, and speech-to-text results back into usable text.

Pure functions: each is tested on its own.
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
        words = [t for t in run if t.strip()]
        strong = sum(1 for t in words if t.lower() in _STRONG)
        if len(words) >= 3 and strong >= len(words) - 1:
            out.append(" ".join(_NUMBER_WORDS[t.lower()] for t in words))
        else:
            out.extend(run)
        run.clear()

    for token in tokens:
        if token.lower() in _NUMBER_WORDS or (run and not token.strip()):
            run.append(token)
        else:
            trailing = []
            while run and not run[-1].strip():
                trailing.append(run.pop())
            flush()
            out.extend(reversed(trailing))
            out.append(token)
    flush()
    return "".join(out)


def normalize_speech(text: str) -> str:
    """Speech results read digits back in pieces ("1 2 3, 4 5 6"); join runs into one number.

    Only runs that make a one-time code (6), a link code (8) or a phone number (9-15 digits)
    are joined, so "2 lines for 30 euros" stays as it was said.
    """
    text = _words_to_digits(text or "").strip()

    def join(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return digits if len(digits) in (6, 8) or 9 <= len(digits) <= 15 else match.group(0)

    return _DIGIT_RUN.sub(join, text).rstrip(".")


def use_caller_id(text: str, caller: str | None) -> str:
    """ "this number" -> the caller ID, when there is one: a hint to look the customer up.

    It proves nothing: the identity check still sends a one-time code to the number on file.
    """
    if not caller or not re.fullmatch(r"\+?\d{7,15}", caller):
        return text
    return _CALLER_ID_PHRASE.sub(caller, text)


def for_voice(text: str, limit: int = 320) -> str:
    """A reply short enough to listen to: the first sentences up to ``limit``, and its question.

    Lists are read as one sentence of at most three items; the closing question (what the
    caller must answer) is always kept.
    """
    lines = [ln.strip() for ln in (text or "").replace("**", "").replace("`", "").splitlines()]
    items = [re.sub(r"^([-*•]|\d+[.)])\s+", "", ln) for ln in lines if re.match(r"^([-*•]|\d+[.)])\s+", ln)]
    prose = [ln for ln in lines if ln and not re.match(r"^([-*•]|\d+[.)])\s+", ln)]
    sentences = [s for ln in prose for s in _SENTENCE.split(ln) if s]
    if items:
        spoken = ", ".join(i.rstrip(".") for i in items[:3])
        more = f", and {len(items) - 3} more" if len(items) > 3 else ""
        # The list belongs after the sentence that introduced it (usually the first).
        sentences.insert(min(1, len(sentences)), f"{spoken}{more}.")
    question = next((s for s in reversed(sentences) if s.endswith("?")), None)
    kept: list[str] = []
    size = 0
    for sentence in sentences:
        if kept and size + len(sentence) > limit:
            break
        kept.append(sentence)
        size += len(sentence) + 1
    if question and question not in kept:
        kept.append(question)
    spoken_text = " ".join(kept)
    spoken_text = _MASKED.sub(r"the number ending in \1", spoken_text)
    spoken_text = re.sub(r"\btype it here\b", "say it or key it in", spoken_text)
    return re.sub(r"\btype\b", "say", spoken_text)
