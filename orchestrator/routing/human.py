"""Spotting an explicit request for a human, typos included.

A customer who asks for a person must reach one whatever else the message says, so this check
runs before (and overrides) the classifier. It looks for a *request* — a verb such as "talk",
"speak", "connect", "transfer" or "want" in front of a word for a person — rather than any
mention of one, so "the agent told me I'd get a refund" still goes to the refund skill. Most
messages that mention a person ask for something else: a fault ("i can't reach anyone"), a
complaint about staff, a request for a family member or a business's staff; each rule below
that stops a mention from counting names the messages it keeps from a human by mistake.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise

from orchestrator.routing.spelling import distance

# Words for a person, each with the number of typos tolerated. Short common words get none or
# one, so that "stuff" never reads as "staff" nor "managed" as "manager".
_PERSON_WORDS: dict[str, int] = {
    "human": 1,
    "humans": 1,
    "person": 1,
    "agent": 1,
    "representative": 3,
    "rep": 0,
    "manager": 1,
    "supervisor": 2,
    "operator": 2,
    "employee": 2,
    "staff": 0,
    "advisor": 1,
    "adviser": 1,
    "boss": 0,
    "someone": 1,
    "somebody": 2,
    "anyone": 0,
    "anybody": 1,
    "team": 0,
    "colleague": 2,
    "customerservice": 3,
}
# One edit from a person word but not one: "the line which i manage" is no request for a manager,
# and a possessive ("someone's phone", "a person's number": the apostrophe is gone by now) is
# about that person's things.
_NOT_PERSON = frozenset(
    {
        "managed",
        "manage",
        "manages",
        "agents",
        "humane",
        "persona",
        "rap",
        "ref",
        "reps",
        "teams",
        "persons",
        "someones",
        "somebodys",
        "anyones",
        "anybodys",
    }
)
# "someone" alone is too vague after a weak verb ("I need someone to fix my internet"), and so is
# a team or a colleague ("I need a plan for my team"): these count only after a verb of talking.
_VAGUE = frozenset({"someone", "somebody", "anyone", "anybody", "team", "colleague"})
# A person mentioned this way is unambiguous wherever it appears.
_ALWAYS = frozenset({"human", "humans"})
_QUALIFIERS = frozenset({"real", "actual", "live", "proper"})
# Two words that name a thing, not a person: "a human error", "the contact person on the account".
_COMPOUNDS = frozenset({("human", "error"), ("human", "resources"), ("human", "rights"), ("contact", "person")})
# Written as two words, these are the people a customer asks to be put through to.
_SERVICE = frozenset({"service", "services", "support", "care"})
# A number before the person counts people: "a business with 20 staff", "we have 3 staff".
_COUNTS = frozenset({"0", "two", "three", "four", "five", "six", "few", "several", "many"})

# Not "with" on its own: "a business with 20 staff" and "great with computers, someone …" ask for
# no one. It counts just after one of these or after a word for a line (``_ON_THE_LINE``).
_TALK = frozenset(
    {
        "talk",
        "tlak",
        "tak",
        "speak",
        "speek",
        "spek",
        "chat",
        "connect",
        "transfer",
        "transferred",
        "escalate",
        "through",
        "over",
        "contact",
        "reach",
    }
)
# "speak with a manager", "connect me with someone", "put me on the phone with someone".
_ON_THE_LINE = frozenset({"phone", "line", "call"})
_TALK_OR_WITH = _TALK | {"with"}
# The verbs of talking that may also follow the person: "is there anyone i can speak to".
_SPEAK = frozenset({"talk", "tlak", "tak", "speak", "speek", "spek"})
# After the person, a call back: "can someone call me", "have a manager ring me back". The call
# comes at once or after one of these; further away it is a fault ("anybody, every call drops").
_CALL = frozenset({"call", "ring", "phone"})
_CALL_LEAD = frozenset({"to", "please", "can", "could", "will", "would"})
_WANT = frozenset({"want", "need", "get", "give", "have", "bring", "send", "find", "prefer", "rather"})
_BOTS = frozenset({"bot", "bots", "robot", "robots", "chatbot", "chatbots"})
# Words that name the bot only in talk of talking to it ("not a machine", "talk to a computer"):
# otherwise they are the customer's things or services ("my computer is not connecting to the
# wifi", "i do not want automated payments").
_MACHINES = frozenset({"machine", "computer", "ai", "automated"})
# In front of a machine word, these make it the customer's thing: a possessive, or "washing machine".
_THEIR_THING = frozenset({"my", "our", "his", "her", "their", "washing"})
# Talk of talking to a machine ("sick of talking to a computer"). Not in _TALK: before a person it
# tells what happened ("i was talking to an agent yesterday who said ...").
_TALKING = frozenset({"talking", "speaking", "chatting"})
_REFUSAL = frozenset({"not", "no", "stop", "refuse", "enough", "hate", "useless", "instead"})
# A complaint about the bot that asks for it to be passed on wants that done, not a person: "the bot
# on your website was useless, please log that as feedback", "i want that fed back".
_PASSED_ON = frozenset({"feedback", "complaint", "complain", "complaining", "review"})
_REPORTED = frozenset({"said", "told", "says", "promised", "gave", "was", "were", "did", "sent", "called"})
# Between a verb and the person, these make the person what the message is about, not whom the
# customer wants: "a grievance about your staff", "feedback to the shop staff", "report an employee".
_TOPIC = frozenset(
    {"about", "regarding", "concerning", "feedback", "grievance", "review", "compliment", "praise", "report"}
)
# Between a verb and the person, a thing is what the verb moves, not the customer: "transfer my
# number to another person", "can i get a refund, your agent charged me twice".
_THINGS = frozenset(
    {"number", "line", "account", "ownership", "contract", "sim", "refund", "money", "credit", "plan", "bill"}
)
# In front of a verb of talking, a fault: "i can't reach anyone", "unable to contact anybody".
_NEGATION = frozenset({"not", "unable", "never"})
# Filler that may surround a bare "agent!" or "human please".
_FILLER = frozenset({"please", "now", "a", "an", "the", "to", "i", "me", "want", "need", "pls", "just", "ok", "hi"})

_WINDOW = 6


@lru_cache(maxsize=8192)
def person_word(word: str) -> str | None:
    """The person word ``word`` spells, allowing a few typos, or None."""
    if word in _PERSON_WORDS:
        return word
    if word in _NOT_PERSON or len(word) < 4:
        return None
    for target, limit in _PERSON_WORDS.items():
        # Typos rarely hit the first letter; checking it keeps this cheap on unseen words.
        if limit and word[0] == target[0] and distance(word, target, limit) <= limit:
            return target
    return None


def asks_for_human(words: list[str]) -> bool:
    """True when the (normalised) words ask to be put through to a person."""
    words = _joined(words)
    people = [(i, p) for i, w in enumerate(words) if (p := person_word(w)) is not None]
    bot, machine = any(w in _BOTS for w in words), _machine(words)
    if (bot or machine) and not _passed_on(words):
        if bot and (people or any(w in _REFUSAL or w in _TALK for w in words)):
            return True
        if machine and (people or any(w in _TALK or w in _TALKING for w in words)):
            return True
    if not people:
        return False
    if all(w in _FILLER or w in _QUALIFIERS or person_word(w) for w in words):
        return True
    for i, person in people:
        previous = words[i - 1] if i else ""
        following = words[i + 1] if i + 1 < len(words) else ""
        if following in _REPORTED or previous in _COUNTS:
            continue
        if (person, following) in _COMPOUNDS or (previous, person) in _COMPOUNDS:
            continue
        before = words[max(0, i - _WINDOW) : i]
        after = words[i + 1 : i + 4]
        if person in _ALWAYS:
            return True
        if any(w in _QUALIFIERS for w in before[-2:]):
            return True
        # "someone real", "someone who can actually help": not just anyone.
        if person in _VAGUE and ("real" in after[:2] or (following == "who" and "actually" in after)):
            return True
        if _talked_to(before, person) or any(w in _SPEAK for w in after) or _calls_back(after):
            return True
        if person not in _VAGUE and _verb_before(before, _WANT) is not None:
            return True
    return False


def _machine(words: list[str]) -> bool:
    """Whether a machine word names the bot, not something the customer owns ("my computer")."""
    return any(w in _MACHINES and (i == 0 or words[i - 1] not in _THEIR_THING) for i, w in enumerate(words))


def _passed_on(words: list[str]) -> bool:
    """The message asks for feedback or a complaint to be passed on ("log that as feedback", "fed back")."""
    return any(w in _PASSED_ON for w in words) or ("fed", "back") in pairwise(words)


def _joined(words: list[str]) -> list[str]:
    """``words`` with "customer service" (or services, support, care) made one person word."""
    if "customer" not in words:
        return words
    out: list[str] = []
    for word in words:
        if word in _SERVICE and out and out[-1] == "customer":
            out[-1] = "customerservice"
        else:
            out.append(word)
    return out


def _verb_before(before: list[str], verbs: frozenset[str]) -> int | None:
    """Where the nearest of ``verbs`` stands before the person, unless a topic or a thing comes between."""
    for j in range(len(before) - 1, -1, -1):
        if before[j] in _TOPIC or before[j] in _THINGS:
            return None
        if before[j] in verbs:
            return j
    return None


def _talked_to(before: list[str], person: str) -> bool:
    """A verb of talking leads to the person; a negated one to someone vague is a fault ("can't reach anyone")."""
    j = _verb_before(before, _TALK_OR_WITH)
    if j is None:
        return False
    if before[j] == "with" and not any(w in _TALK or w in _ON_THE_LINE for w in before[max(0, j - 2) : j]):
        return False
    return not (person in _VAGUE and any(w in _NEGATION for w in before[max(0, j - 2) : j]))


def _calls_back(after: list[str]) -> bool:
    """The person is asked to call: "someone call me", "can a manager please ring me back"."""
    k = 1 if after and after[0] in _CALL_LEAD else 0
    if len(after) <= k or after[k] not in _CALL:
        return False
    # "ring" and "phone" are nouns as often as verbs ("my boss's phone"): they need whom they call.
    return after[k] == "call" or after[k + 1 : k + 2] in (["me"], ["us"], ["back"])
