"""A customer's open cases with people, as the gateway's marketing rule reads them.

An escalated conversation counts for the customer it was verified as, and, when the customer
asked for a person before finishing verification, for the customer they said they were
(``ConversationState.claimed``). A claim is unproven, so it is used only here, where counting
a case too many denies an offer and counting one too few would send it.
"""

from __future__ import annotations

from orchestrator.conversations import ConversationState, ConversationStore

MAX_CLAIM = 254


def normalize_claim(identifier: str) -> str:
    """The form claims and customer keys are compared in: no spaces, lower case."""
    return "".join(identifier.split()).lower()[:MAX_CLAIM]


def _state(c: ConversationState) -> str:
    if c.human:
        return f"held by {c.human.name}"
    return "waiting for a person" if c.customer else "waiting for a person, not verified"


async def open_cases(store: ConversationStore, customer_id: str, keys: tuple[str, ...]) -> list[dict[str, str]]:
    """Escalated conversations of the customer: verified as them, or claimed as one of ``keys``."""
    own = [c for c in await store.conversations_for_customer(customer_id) if c.status == "escalated"]
    wanted = {normalize_claim(k) for k in (customer_id, *keys) if k}
    claimed = [
        c
        for c in await store.with_status("escalated")
        if c.customer is None and c.claimed is not None and c.claimed in wanted
    ]
    return [{"conversation_id": c.conversation_id, "state": _state(c)} for c in (*own, *claimed)]
