"""Rule-driven reactions: an outage opens a ticket and tells the customer; marketing waits while it is open."""

from __future__ import annotations

import pytest

from mcp_servers.dataset import system_db_path
from tests.e2e.conftest import RunningStack
from tests.signals.conftest import DISCONNECTED, ROAMING, notification, rows, send, wait_for_rows

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_outage_opens_a_ticket_notifies_and_blocks_marketing(running: RunningStack) -> None:
    customer = running.customers(60, has_open_ticket=False, has_marketing_consent=True)[37]
    outage = notification(DISCONNECTED, customer["msisdn"])
    assert (await send(running.topology.orchestrator, running.data_dir, outage)).status_code == 202
    signals_db = running.data_dir / "signals.db"
    done = await wait_for_rows(
        signals_db, "SELECT action, outcome, audit_id FROM reactions WHERE signal_id = ?", (outage["id"],), n=2
    )
    assert {(a, o) for a, o, _ in done} == {("open-ticket", "ok"), ("notify", "ok")}, done
    tickets = rows(
        system_db_path(running.data_dir, "support"),
        "SELECT category, status, agent FROM tickets WHERE email = ? AND summary LIKE ?",
        (customer["email"], f"%{outage['id']}%"),
    )
    assert tickets == [("network", "open", "reactions")]
    notices = rows(
        system_db_path(running.data_dir, "crm"),
        "SELECT channel, agent FROM service_messages WHERE email = ?",
        (customer["email"],),
    )
    assert notices == [("email", "reactions")]

    # Roaming starts while the case is open: the offer is marketing, so policy holds it back.
    roaming = notification(ROAMING, customer["msisdn"], roaming=True, countryCode=34, countryName=["Spain"])
    assert (await send(running.topology.orchestrator, running.data_dir, roaming)).status_code == 202
    (outcome,) = await wait_for_rows(
        signals_db, "SELECT outcome, detail FROM reactions WHERE signal_id = ?", (roaming["id"],)
    )
    assert outcome[0] == "denied" and "guard.no-marketing-during-open-case" in outcome[1], outcome
    offers = rows(
        system_db_path(running.data_dir, "crm"), "SELECT * FROM offers_sent WHERE email = ?", (customer["email"],)
    )
    assert offers == []

    # A redelivered outage event never opens a second ticket (idempotent reactions).
    assert (await send(running.topology.orchestrator, running.data_dir, outage)).status_code == 409
    assert (
        len(
            rows(
                system_db_path(running.data_dir, "support"),
                "SELECT 1 FROM tickets WHERE summary LIKE ?",
                (f"%{outage['id']}%",),
            )
        )
        == 1
    )
