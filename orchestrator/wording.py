"""What the supervisor itself says to a customer: clarifying questions, small talk, requests we do
not handle, languages we do not serve, a second request in the same message, and amounts.

Everything here is plain customer language. Skills are offered by their ``customer_label`` (from
the SKILL.md front matter, published as the AgentCard skill's name), never by their description.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from orchestrator.routing import RouteDecision
from shared.yes_no import OTHER_LANGUAGE_YES

Labels = Mapping[tuple[str, str], str]
# The least score at which a third option is offered.
_THIRD_OPTION = 0.05

# Offered when a message says nothing about its goal: the commonest reasons people write.
_COMMON = ("a question about your bill", "a problem with your signal, calls or data", "changing your plan")

_GREETING = re.compile(r"^\W*(hi|hello|hey|hiya|yo|good (morning|afternoon|evening)|morning|evening)\b", re.I)
_THANKS = re.compile(r"\b(thanks?|thank you|thx|cheers|ta|brilliant|perfect|great)\b", re.I)
_GOODBYE = re.compile(
    r"\b(bye|goodbye|see you|that'?s (all|it|everything)|nothing else|all sorted|have a nice day)\b", re.I
)
_HOW_ARE_YOU = re.compile(r"\bhow (are|r) (you|u)\b|\bhow'?s it going\b", re.I)
_WHO = re.compile(r"\b(who are you|who am i talking to|your name|are you (a )?(real|bot|robot|human|chatgpt))", re.I)
_WHAT_CAN = re.compile(r"\bwhat (can|do) you (do|help)", re.I)

_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def money(amount: float | str, currency: str | None) -> str:
    """``£42.00``, ``€9.50`` or ``12.00 CHF``: an amount always carries its currency."""
    code = (currency or "GBP").upper()
    value = f"{float(amount):,.2f}"
    symbol = _SYMBOLS.get(code)
    return f"{symbol}{value}" if symbol else f"{value} {code}"


def options(decision: RouteDecision, labels: Labels, *, most: int = 3) -> list[str]:
    """Customer labels of the decision's best alternatives, two or three of them, best first."""
    found: list[str] = []
    for alternative in decision.alternatives:
        label = labels.get((alternative.agent, alternative.skill))
        if label and label not in found:
            found.append(label)
    # A third option only when the brain really saw it as a candidate. Validation folds of the
    # routing set: at 0.05 the right skill was among the options of 88.4% of unsure messages a
    # skill owns (2.7 options on average), at 0.1 83.9% (2.3); always three gained 0.3 more.
    strong = [a for a in decision.alternatives[2:] if a.score >= _THIRD_OPTION]
    return found[: 2 + min(len(strong), most - 2)]


def either(choices: Sequence[str]) -> str:
    if len(choices) == 1:
        return choices[0]
    return ", ".join(choices[:-1]) + " or " + choices[-1]


def clarifying_question(decision: RouteDecision, labels: Labels) -> str:
    """Two or three short options in the customer's terms, or an open question when none fit."""
    choices = options(decision, labels)
    if len(choices) >= 2 and decision.intent == "skill":
        return f"Just so I help with the right thing: is this about {either(choices)}?"
    common = [c for c in _COMMON if c in labels.values()] or list(labels.values())[:3]
    return f"Of course. What can I help you with today? For example {either(common)}."


def small_talk(text: str, labels: Labels) -> str:
    """A natural answer to a greeting, thanks, goodbye or chit-chat."""
    if _GOODBYE.search(text) or (_THANKS.search(text) and len(text.split()) <= 6):
        return "You're welcome! Thanks for getting in touch, and have a lovely day."
    if _HOW_ARE_YOU.search(text):
        return "I'm doing well, thanks for asking! What can I help you with today?"
    if _WHO.search(text):
        return (
            "I'm Northwind Mobile's virtual assistant. I can help with your bill, payments, your plan and "
            "problems with your service, and I can put you through to a person whenever you like."
        )
    if _WHAT_CAN.search(text):
        return f"I can help with things like {either(list(labels.values())[:4])}. What would you like to do?"
    if _GREETING.search(text):
        return "Hello! How can I help you today?"
    common = [c for c in _COMMON if c in labels.values()] or list(labels.values())[:3]
    return (
        f"I'm only able to help with your Northwind Mobile account, for example {either(common)}. "
        "What can I do for you?"
    )


def out_of_scope(has_human: bool) -> str:
    if has_human:
        return (
            "I'm sorry, that's not something I can do here, but a colleague from our team can help. "
            "Would you like me to put you through? Just say yes."
        )
    return "I'm sorry, that's not something I can do here. Is there anything else I can help you with?"


# Which languages we serve and the offer of a person, in the customer's own language.
_OTHER_LANGUAGE = {
    "es": (
        "Lo siento, por ahora solo puedo atenderle en inglés. "
        "Si lo prefiere, le paso con un compañero de nuestro equipo: responda «sí»."
    ),
    "de": (
        "Entschuldigung, ich kann Ihnen im Moment nur auf Englisch helfen. "
        "Wenn Sie möchten, verbinde ich Sie mit einem Kollegen aus unserem Team: antworten Sie einfach „ja“."
    ),
    "fr": (
        "Désolé, je ne peux vous répondre qu'en anglais pour le moment. "
        "Si vous le souhaitez, je vous mets en relation avec un conseiller : répondez « oui »."
    ),
    "it": (
        "Mi dispiace, per ora posso aiutarla solo in inglese. "
        "Se preferisce, la metto in contatto con un collega del nostro team: risponda «sì»."
    ),
    "pt": (
        "Desculpe, de momento só consigo ajudar em inglês. "
        "Se preferir, passo-o a um colega da nossa equipa: responda «sim»."
    ),
    "pl": (
        "Przepraszam, na razie mogę pomóc tylko po angielsku. "
        "Jeśli Pan/Pani woli, połączę z konsultantem z naszego zespołu: proszę odpisać „tak”."
    ),
    "nl": (
        "Sorry, ik kan u op dit moment alleen in het Engels helpen. "
        "Als u wilt, verbind ik u met een collega van ons team: antwoord dan „ja”."
    ),
}
_OTHER_LANGUAGE_EN = (
    "Sorry, I can only help in English for now. If you'd like, I can put you through to a colleague "
    "from our team: just say yes."
)
# "Yes" in the languages above, so a customer can accept the offered colleague in their own words.
YES_WORDS = OTHER_LANGUAGE_YES


def other_language(language: str | None) -> str:
    return _OTHER_LANGUAGE.get(language or "", _OTHER_LANGUAGE_EN)


def queued(first: str | None, second: str) -> str:
    """Announces the second request of a message, kept for when the first is done."""
    start = f"Let's start with {first}. " if first else ""
    return f"{start}After this I'll help with {second}."


def taking_up(label: str) -> str:
    return f"Now, you also asked about {label}."
