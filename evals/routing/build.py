"""Build the routing set (``train.jsonl`` and ``test.jsonl``) from the hand-written messages in ``source/``.

    python evals/routing/build.py

``source/<skill>.txt`` holds one customer message a line for that skill; ``out-of-scope.txt``,
``small-talk.txt`` and ``vague.txt`` hold messages no skill owns; ``lang-<code>.txt`` holds
``<label> | <message>`` lines in another language. None of them paraphrases a skill's examples.

Each hand-written message is assigned to a split by a hash of its text, and every variant made
from it (typos, a rambling frame, a second request joined to it) stays in the same split, so the
test split shares no message, not even a misspelt one, with what the brain learns from.
Deterministic: the same sources always give the same files.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from a checkout

from shared.skills import load_skills  # noqa: E402

SOURCES = HERE / "source"
TEST_SHARE = 3  # one message in three is held out
NO_SKILL = ("out-of-scope", "small-talk", "vague")

# Frames people put around the actual request when they write at length.
_OPENERS = (
    "hi, sorry to bother you, ",
    "ok so this is a bit of a long story but basically ",
    "morning. i've been meaning to sort this out for ages and ",
    "hello, i'm writing for my mum who isn't great with computers, ",
    "right, i've been on hold on the phone for 40 minutes so trying here instead. ",
    "hey, quick one hopefully: ",
    "so i was checking my phone on the bus this morning and ",
    "not sure if this is the right place to ask but ",
    "hi, i've been a customer for about eight years now and ",
    "good evening, i hope you can help me. ",
    "listen, i don't have long, ",
    "ugh honestly, ",
    "Hello team, my name is Dave. ",
    "I was told by a friend to message here. ",
)
_CLOSERS = (
    " thanks in advance",
    ". i've been with you for years so i'd appreciate it sorted quickly",
    ", it's really annoying",
    ". let me know what you need from me",
    " if that makes sense?",
    ", cheers",
    ". thanks, you're a star",
    ", i'm at work so might be slow to reply",
    ". this is the second time this year something like this has happened",
    " and i'd like it dealt with today please",
)
_JOINERS = (" and also ", ". also ", ", and another thing, ", ". oh and ", " - plus ", ". then ", "; and after that ")
_KEYBOARD = {
    "a": "sq",
    "e": "wr",
    "i": "uo",
    "o": "ip",
    "n": "bm",
    "t": "ry",
    "s": "ad",
    "r": "et",
    "l": "k",
    "h": "gj",
    "c": "xv",
    "d": "sf",
    "m": "n",
    "p": "o",
    "g": "fh",
    "y": "tu",
}


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def group_of(text: str) -> str:
    """A short name for the hand-written message a row was made from, shared by all its variants.

    Validation folds of the training split are cut by group, so a typo-ridden or rambling
    variant is never validated against a brain that learned its original.
    """
    return f"{_seed(text.strip().lower()) % 16**8:08x}"


def split_of(text: str) -> str:
    """The split a hand-written message (and everything made from it) belongs to."""
    return "test" if _seed(text.strip().lower()) % TEST_SHARE == 0 else "train"


def typos(text: str) -> str:
    """``text`` as typed in a hurry: lower case, no apostrophes, a few letters swapped or lost."""
    rng = random.Random(_seed("typo:" + text))
    out = []
    for word in text.lower().replace("'", "").split():
        if len(word) > 3 and rng.random() < 0.4:
            i = rng.randrange(1, len(word) - 1)
            kind = rng.randrange(4)
            if kind == 0:
                word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            elif kind == 1:
                word = word[:i] + word[i + 1 :]
            elif kind == 2:
                word = word[:i] + word[i] + word[i:]
            elif word[i] in _KEYBOARD:
                word = word[:i] + rng.choice(_KEYBOARD[word[i]]) + word[i + 1 :]
        out.append(word)
    return " ".join(out)


def rambling(text: str) -> str:
    rng = random.Random(_seed("ramble:" + text))
    return rng.choice(_OPENERS) + text + rng.choice(_CLOSERS)


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build() -> dict[str, list[dict[str, object]]]:
    owners = {s.name: s.agent for s in load_skills()}
    splits: dict[str, list[dict[str, object]]] = {"train": [], "test": []}
    bases: dict[str, list[tuple[str, str]]] = {"train": [], "test": []}

    def add(base: str, row: dict[str, object]) -> None:
        splits[split_of(base)].append({**row, "group": group_of(base)})

    for skill, agent in sorted(owners.items()):
        path = SOURCES / f"{skill}.txt"
        for text in _lines(path) if path.exists() else []:
            rng = random.Random(_seed("variants:" + text))
            add(text, {"text": text, "agent": agent, "skill": skill, "kind": "request"})
            if rng.random() < 0.85:
                add(text, {"text": typos(text), "agent": agent, "skill": skill, "kind": "request", "style": "typos"})
            if rng.random() < 0.45:
                add(
                    text,
                    {"text": rambling(text), "agent": agent, "skill": skill, "kind": "request", "style": "rambling"},
                )
            bases[split_of(text)].append((skill, text))
    for kind in NO_SKILL:
        for text in _lines(SOURCES / f"{kind}.txt"):
            rng = random.Random(_seed("variants:" + text))
            add(text, {"text": text, "agent": None, "skill": None, "kind": kind})
            if kind != "vague" and rng.random() < 0.5:
                add(text, {"text": typos(text), "agent": None, "skill": None, "kind": kind, "style": "typos"})
            if kind == "out-of-scope" and rng.random() < 0.3:
                add(text, {"text": rambling(text), "agent": None, "skill": None, "kind": kind, "style": "rambling"})
    for path in sorted(SOURCES.glob("lang-*.txt")):
        lang = path.stem.removeprefix("lang-")
        for line in _lines(path):
            label, _, text = (part.strip() for part in line.partition("|"))
            owner = owners.get(label)
            add(
                text,
                {
                    "text": text,
                    "agent": owner,
                    "skill": label if owner else None,
                    "kind": "other-language",
                    "lang": lang,
                },
            )
    for split, pool in bases.items():
        _two_requests(splits[split], pool, owners)
    return splits


def _two_requests(rows: list[dict[str, object]], pool: list[tuple[str, str]], owners: dict[str, str]) -> None:
    """Two requests in one message, from two hand-written messages of the same split."""
    # A request for a person overrides everything else in a message, so it is never half of a pair.
    usable = [(skill, text) for skill, text in pool if skill != "human-handoff"]
    rng = random.Random(len(usable))
    for _ in range(len(usable) * 2 // 3):
        (first, a), (second, b) = rng.sample(usable, 2)
        if first == second:
            continue
        text = a.rstrip("?.!") + rng.choice(_JOINERS) + b
        rows.append(
            {
                "text": text,
                "agent": owners[first],
                "skill": first,
                "kind": "two-requests",
                "then": {"agent": owners[second], "skill": second},
                "group": f"{group_of(a)}+{group_of(b)}",
            }
        )


def main() -> int:
    for split, rows in build().items():
        path = HERE / f"{split}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"{path.name}: {len(rows)} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
