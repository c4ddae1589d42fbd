"""The whole stack with a model configured by settings: routing, phrasing, usage and the trace."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Chat
from tests.governance.e2e_helpers import refunds_for, small_refund_customers
from tests.llm.stack import PHRASED, ROUTER_MODEL, LLMRunning

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_a_refund_conversation_routed_and_phrased_by_the_model(llm_chat: Chat, llm_running: LLMRunning) -> None:
    running, provider = llm_running.running, llm_running.provider
    customer = small_refund_customers(running.data_dir)[3]

    proposal = await llm_chat.verify(customer, "I was charged twice this month and I want that money back")
    assert (proposal["agent"], proposal["skill"], proposal["status"]) == ("payment", "refund-charge", "input-required")
    # Its invoice reference is no one-time code, so the model re-phrased it (and was counted).
    assert proposal["reply"].startswith(PHRASED), proposal["reply"]
    refunded = await llm_chat.say("yes please")
    assert (refunded["agent"], refunded["status"]) == ("payment", "completed"), refunded
    assert refunded["data"]["refund_id"]
    assert len(refunds_for(running.data_dir, customer["account_number"])) == 1

    # The model re-phrased the deterministic procedures' replies, figures intact.
    replies = [o["reply"] for o in llm_chat.outcomes]
    assert any(r.startswith(PHRASED) for r in replies), replies

    state = await llm_chat.state()
    # The decision and its reason are in the trace, with the brain that made it.
    first = llm_chat.outcomes[0]["route"]
    assert (first["agent"], first["skill"]) == ("payment", "refund-charge")
    assert first["brain"] == f"llm:{ROUTER_MODEL}", first
    assert first["reason"] == "model: the customer's goal is refund-charge", first
    assert first["usage"]["calls"] == 1
    verify_first = state["handoffs"][0]
    assert (verify_first["to_agent"], verify_first["brain"]) == ("identity", f"llm:{ROUTER_MODEL}"), verify_first
    assert verify_first["reason"] == "verify the customer before refund-charge"
    assert [h["to_agent"] for h in state["handoffs"]] == ["identity", "payment"]

    # Usage per agent: every model call counted, priced by litellm from the provider's usage.
    usage = state["llm_usage"]
    assert {"router", "identity", "payment"} <= set(usage), usage
    assert usage["router"]["calls"] == len(provider.seen("route")) == len(llm_chat.outcomes)
    for who in ("identity", "payment"):
        assert usage[who]["calls"] == len(provider.seen("phrase", who)) > 0, (who, usage)
    for totals in usage.values():
        assert totals["total_tokens"] == totals["calls"] * 150
        assert totals["cost_usd"] > 0  # both models are in litellm's bundled price list

    # Only what a skill needs reaches the model: no identifier or one-time code.
    sent = "\n".join(s.text for s in provider.requests)
    for secret in (customer["email"], customer["account_number"], customer["customer_id"], customer["msisdn"]):
        assert secret not in sent
    assert running.latest_code(customer["customer_id"]) not in sent
    assert "<customer_message>" in sent
