"""Every reference backend on SQLite and on PostgreSQL: the same answers, the same write rules."""

from __future__ import annotations

import pytest

from mcp_servers.payments.backend import RefundRequest
from mcp_servers.support.backend import HumanRequest, NewTicket
from shared.errors import InvalidRequest, NotFound
from shared.events import PLAN_CHANGED, REFUND_ISSUED, kind_of, new_event
from shared.tools import CallContext
from tests.storage.backends.conftest import CUSTOMERS, Systems, pending_events

CALL = CallContext(agent="payment", conversation_id="conv-1", customer_id="CUST-1", audit_id="aud-1")


async def test_every_system_reads_its_seeded_data(systems: Systems) -> None:
    people = systems.customers(CUSTOMERS)
    assert len(people) == CUSTOMERS
    person = people[3]
    billing = await systems.open("billing")
    account = await billing.get_account(person["msisdn"])
    assert account.plan_id == person["plan_id"] and len((await billing.list_plans()).plans) >= 3
    assert (await billing.get_entitlements(person["msisdn"])).features
    crm = await systems.open("crm")
    assert (await crm.get_profile(person["email"])).plan_name == person["crm_plan_name"]
    identity = await systems.open("identity")
    resolved = await identity.resolve_customer(f"it's {person['email']}")
    assert resolved.customer_id == person["customer_id"]
    network = await systems.open("network")
    assert (await network.get_line_status(person["msisdn"])).msisdn == person["msisdn"]
    consent = await systems.open("consent")
    consents = await consent.get_consents(person["customer_id"])
    assert ("marketing" in consents.purposes) == person["has_marketing_consent"]
    assert (await consent.get_purposes(person["customer_id"])).purposes == consents.purposes
    payments = await systems.open("payments")
    charges = (await payments.list_charges(person["account_number"], 50)).charges
    assert charges and {c.currency for c in charges} == {"GBP"}
    with pytest.raises(NotFound):
        await payments.list_charges("ACC-0000000", 5)


async def test_knowledge_search_ranks_titles_first(systems: Systems) -> None:
    support = await systems.open("support")
    found = (await support.search_knowledge("how do I turn on roaming abroad", 3)).articles
    assert found and "roaming" in found[0].title.lower()
    assert [a.score for a in found] == sorted((a.score for a in found), reverse=True) and found[0].score > 0
    assert (await support.search_knowledge("the of and", 3)).articles == []


async def test_a_write_and_its_event_commit_together_or_not_at_all(systems: Systems) -> None:
    payments, account, duplicate = await systems.duplicate_charge()
    request = RefundRequest(account, duplicate.charge_id, duplicate.refundable_amount, "duplicate")
    refund = await payments.issue_refund(request, "key-1", CALL)
    events = await pending_events(payments)
    assert [(kind_of(e), e.get_data()["refund_id"]) for _, e in events] == [(REFUND_ISSUED, refund.refund_id)]
    assert events[0][1].get_subject() == "CUST-1"

    async def fails_after_writing() -> dict:
        await payments.execute("UPDATE charges SET refunded_pence = 0 WHERE charge_id = ?", (duplicate.charge_id,))
        await payments.emit(REFUND_ISSUED, {"refund_id": "RF-NEVER"}, subject=None)
        raise InvalidRequest("refused half-way")

    with pytest.raises(InvalidRequest, match="half-way"):
        await payments.idempotent("issue_refund", "key-2", {"a": 1}, fails_after_writing)
    assert len(await pending_events(payments)) == 1, "the failed write's event was rolled back with it"
    charge = await payments.fetchone("SELECT refunded_pence FROM charges WHERE charge_id = ?", (duplicate.charge_id,))
    assert charge["refunded_pence"] > 0, "the failed write's change was rolled back"
    # The key of a failed write was never claimed: it can act later.
    assert await payments.idempotent("issue_refund", "key-2", {"a": 1}, _result("done")) == {"r": "done"}


def _result(value: str):
    async def action() -> dict:
        return {"r": value}

    return action


async def test_a_repeated_key_returns_the_first_result_and_acts_once(systems: Systems) -> None:
    payments, account, duplicate = await systems.duplicate_charge()
    request = RefundRequest(account, duplicate.charge_id, 1.0, "duplicate")
    first = await payments.issue_refund(request, "same-key", CALL)
    assert await payments.issue_refund(request, "same-key", CALL) == first
    assert [r.refund_id for r in (await payments.list_refunds(account)).refunds] == [first.refund_id]
    assert len(await pending_events(payments)) == 1
    other = RefundRequest(account, duplicate.charge_id, 2.0, "duplicate")
    with pytest.raises(InvalidRequest, match="already used for a different"):
        await payments.issue_refund(other, "same-key", CALL)


async def test_consumed_events_apply_once_and_rows_read_back_in_the_write(systems: Systems) -> None:
    person = systems.customers(1)[0]
    crm = await systems.open("crm")
    event = new_event(
        PLAN_CHANGED,
        "/systems/billing",
        {"msisdn": person["msisdn"], "new_plan_id": "NW-MAX", "plan_name": "Max", "features": [], "data_gb": 1},
        subject=person["customer_id"],
    )
    assert await crm.apply_event(event) is True
    assert await crm.apply_event(event) is False
    assert (await crm.get_customer_view(person["customer_id"])).plan["plan_id"] == "NW-MAX"
    # A write that reads its own uncommitted rows (the queue position counts the new handoff).
    support = await systems.open("support")
    handoff = await support.request_human(HumanRequest("conv-9", "asked", "wants a person", "normal", None), "h1", CALL)
    assert handoff.queue_position >= 1
    ticket = await support.open_ticket(NewTicket(person["email"], "network", "no data", "normal", None), "t1", CALL)
    closed = await support.close_ticket(person["email"], ticket.ticket_id, "t2", CALL)
    assert closed.status == "closed"
    with pytest.raises(InvalidRequest, match="already closed"):
        await support.close_ticket(person["email"], ticket.ticket_id, "t3", CALL)


async def test_identity_codes_lock_out_after_five_wrong_tries_across_resends(systems: Systems) -> None:
    person = systems.customers(1)[0]
    identity = await systems.open("identity")
    started = await identity.start_verification(person["customer_id"], "email", "conv-1")
    for left in (2, 1, 0):
        result = await identity.verify_code(started.verification_id, "x", "conv-1")
        assert result.attempts_left == left and not result.verified
    started = await identity.start_verification(person["customer_id"], "email", "conv-1")
    for _ in range(2):
        result = await identity.verify_code(started.verification_id, "x", "conv-1")
    assert result.locked
    with pytest.raises(InvalidRequest, match="too many attempts"):
        await identity.start_verification(person["customer_id"], "email", "conv-1")
