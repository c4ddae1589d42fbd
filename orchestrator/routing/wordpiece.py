"""BERT's uncased WordPiece tokenizer, in plain Python, for the bundled static embedding model.

The ``tokenizers`` library reads the same ``tokenizer.json`` but costs half a second to import;
this reads only its vocabulary and does what its BertNormalizer, BertPreTokenizer and WordPiece
model do for lower-cased text: strip accents and control characters, split on whitespace and
punctuation, then cut each word into the longest vocabulary pieces from the left (``##`` marks
a piece inside a word). A word that cannot be cut is unknown and dropped, as model2vec drops it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

_MAX_WORD = 100
# Plain ASCII (most messages) takes a short cut with the same result: control characters other
# than whitespace vanish, and every printable character that is not a letter or digit is punctuation.
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASCII_WORDS = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


def _is_punctuation(ch: str) -> bool:
    code = ord(ch)
    # BERT counts every non-alphanumeric ASCII character as punctuation, plus Unicode's P* classes.
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x2FA1F
    )


class WordPiece:
    """Token ids of a text, as the model was trained to see them."""

    def __init__(self, tokenizer_json: Path) -> None:
        spec = json.loads(tokenizer_json.read_text(encoding="utf-8"))
        model = spec["model"]
        if model.get("type") != "WordPiece":
            raise ValueError(f"{tokenizer_json} is not a WordPiece tokenizer")
        self._vocab: dict[str, int] = dict(model["vocab"])
        self._prefix = str(model.get("continuing_subword_prefix", "##"))
        self._unknown = self._vocab.get(str(model.get("unk_token", "[UNK]")), -1)
        self._word_ids = lru_cache(maxsize=65536)(self._uncached_word_ids)

    def _words(self, text: str) -> list[str]:
        if text.isascii():
            return _ASCII_WORDS.findall(_ASCII_CONTROL.sub("", text.lower()))
        text = unicodedata.normalize("NFD", text.lower())
        out: list[str] = []
        current: list[str] = []
        for ch in text:
            category = unicodedata.category(ch)
            if category == "Mn" or ch == "\ufffd" or (category.startswith("C") and ch not in "\t\n\r"):
                continue
            if ch.isspace():
                if current:
                    out.append("".join(current))
                    current = []
            elif _is_punctuation(ch) or _is_cjk(ch):
                if current:
                    out.append("".join(current))
                    current = []
                out.append(ch)
            else:
                current.append(ch)
        if current:
            out.append("".join(current))
        return out

    def _uncached_word_ids(self, word: str) -> tuple[int, ...]:
        if len(word) > _MAX_WORD:
            return ()
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else self._prefix + word[start:end]
                found = self._vocab.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None or found == self._unknown:
                return ()  # the whole word is unknown
            ids.append(found)
            start = end
        return tuple(ids)

    def ids(self, text: str) -> list[int]:
        return [i for word in self._words(text) for i in self._word_ids(word)]
