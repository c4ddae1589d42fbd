"""A skill's own words for outcomes announced after its task has answered.

A held action is decided later, by a person: the supervisor tells the customer, but the words
are the skill's, because only the skill knows whether it was a refund, a discount or a plan
change. The specialist also says its own ``handover`` text when it offers a person. A skill writes them
in its SKILL.md under ``## Messages``::

    ## Messages
    - waiting: Your discount of {amount} is waiting for a colleague's approval.
    - approved: Good news: your discount has been approved and applied.
    - rejected: I'm sorry, our team couldn't approve the discount, so nothing has changed.
    - handover: A colleague can close your contract with you today. Shall I put you through?

Placeholders: ``{amount}`` (the held amount with its currency) and ``{reference}`` (the
system's reference for what was done, with a leading space and brackets when there is one).
Any outcome left out gets the supervisor's neutral wording.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from shared.errors import ConfigurationError
from shared.skills import Skill

OUTCOMES: tuple[str, ...] = ("waiting", "approved", "rejected", "expired", "paused", "failed", "handover")
"""``paused``: an approval rejected because a kill switch stopped that kind of action; ``handover``:
what the specialist says when it offers the customer a person (``agents.runtime.outcomes.hand_over``)."""

PLACEHOLDERS: tuple[str, ...] = ("amount", "reference")
_SECTION = "Messages"
_PLACEHOLDER = re.compile(r"\{(\w*)\}")


def skill_messages(skill: Skill) -> dict[str, str]:
    """The skill's messages by outcome; ConfigurationError names the file for a mistake."""
    match = re.search(rf"^## {_SECTION}\s*\n(.*?)(?=^## |\Z)", skill.body, re.DOTALL | re.MULTILINE)
    if not match:
        return {}
    messages: dict[str, str] = {}
    for line in match.group(1).splitlines():
        if not line.startswith("- "):
            continue
        outcome, sep, text = line[2:].partition(":")
        outcome, text = outcome.strip(), text.strip()
        if not sep or outcome not in OUTCOMES or not text:
            raise ConfigurationError(
                f"{skill.path}: ## {_SECTION} line {line!r} is not '- <outcome>: <text>'",
                hint=f"outcomes: {', '.join(OUTCOMES)}",
            )
        unknown = [p for p in _PLACEHOLDER.findall(text) if p not in PLACEHOLDERS]
        if unknown:
            raise ConfigurationError(
                f"{skill.path}: ## {_SECTION} {outcome}: unknown placeholder {{{unknown[0]}}}",
                hint=f"placeholders: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}",
            )
        messages[outcome] = text
    return messages


def fill(template: str, values: Mapping[str, str]) -> str:
    """The template with its placeholders replaced (a missing value leaves nothing behind)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)
