"""A rule-driven simulated customer: scripted turns, reactive rules, variations and typos.

No model is involved: the same scenario, trial number and replies always produce the same
customer words, so a failing trial can be replayed exactly. Trials differ only through the
seeded choice of message variants and typos.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Awaitable, Callable
from string import Formatter
from typing import Any

from orchestrator.evaluation.scenario import Rule, Scenario

CodeSource = Callable[[str], Awaitable[str | None]]
"""Given a unified customer id, the latest one-time code sent to that customer (or None)."""

_FIELDS = ("customer_id", "email", "msisdn", "account_number", "display_name")
_CODE_QUESTION = re.compile(r"\bcode\b", re.IGNORECASE)
_IDENTITY = "identity"


class SimulatedCustomer:
    """Decides the customer's next message from the last reply. One instance per trial."""

    def __init__(
        self,
        scenario: Scenario,
        customer: dict[str, Any],
        *,
        trial: int,
        codes: CodeSource,
        other: dict[str, Any] | None = None,
    ) -> None:
        self._scenario = scenario
        self._conversation = scenario.conversation
        self._codes = codes
        self._rng = random.Random(zlib.crc32(f"{scenario.id}/{trial}".encode()))
        self._script = list(self._conversation.turns)
        self._rules_used: dict[int, int] = {}
        self._values = {k: str(customer.get(k) or "") for k in _FIELDS}
        self._values["first_name"] = self._values["display_name"].split(" ")[0]
        self._values["identifier"] = str(customer.get(scenario.customer.identifier) or "")
        for k in _FIELDS:
            self._values[f"other_{k}"] = str((other or {}).get(k) or "")
        self._customer_id = self._values["customer_id"]

    @property
    def values(self) -> dict[str, str]:
        """The customer's own and the other customer's details, for placeholders in criteria."""
        return dict(self._values)

    async def opening(self) -> str:
        return await self._render(self._script.pop(0).say)

    async def respond(self, outcome: dict[str, Any]) -> str | None:
        """The next message given the last turn's outcome, or None when the customer is done."""
        reply = str(outcome.get("reply") or "")
        agent = outcome.get("agent")
        for index, rule in enumerate(self._conversation.rules):
            if self._rule_applies(index, rule, reply, agent):
                self._rules_used[index] = self._rules_used.get(index, 0) + 1
                return await self._render(rule.say)
        if (
            self._conversation.verify
            and agent == _IDENTITY
            and outcome.get("status") == "input-required"
            and not outcome.get("verified")
        ):
            if _CODE_QUESTION.search(reply):
                return await self._code()
            return f"it's {self._values['identifier']}"
        if self._script:
            return await self._render(self._script.pop(0).say)
        return None

    def _rule_applies(self, index: int, rule: Rule, reply: str, agent: str | None) -> bool:
        if self._rules_used.get(index, 0) >= rule.times:
            return False
        if rule.agent is not None and rule.agent != agent:
            return False
        return re.search(rule.when, reply, re.IGNORECASE) is not None

    async def _code(self) -> str:
        code = await self._codes(self._customer_id)
        # A customer who never got a code says so; the agent is expected to offer a resend.
        return code or "I didn't get a code"

    async def _render(self, variants: list[str]) -> str:
        template = self._rng.choice(variants)
        template = _with_typos(template, self._conversation.typos, self._rng)
        fields = {name for _, name, _, _ in Formatter().parse(template) if name}
        values = dict(self._values)
        if "code" in fields:
            values["code"] = (await self._codes(self._customer_id)) or "000000"
        return template.format_map(_Missing(values))


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _with_typos(text: str, rate: float, rng: random.Random) -> str:
    """Swap two neighbouring letters in some words; placeholders and numbers stay intact."""
    if rate <= 0:
        return text
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) < 4 or not word.isalpha() or rng.random() >= rate:
            continue
        j = rng.randrange(1, len(word) - 2)
        words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(words)
