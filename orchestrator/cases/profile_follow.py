"""The human's case profile follows the systems of record while the case is open.

The profile is read at hand-off (plan from billing, contact details from identity). A change
after that (the customer upgrades while waiting, or changes their address) reaches the
profile from the change event, so the person working the case never reads a plan the
customer no longer has. Only escalated conversations of the event's customer (its subject)
are touched; each update is versioned like a turn, and a conflict makes the bus deliver the
event again.
"""

from __future__ import annotations

import logging

from cloudevents.core.v1.event import CloudEvent

from orchestrator.conversations import ConversationStore
from shared import events as ev
from shared.escalation import one_line_address

log = logging.getLogger("switchboard.cases")

DURABLE = "orchestrator-case-profiles"
FOLLOWED = (ev.PLAN_CHANGED, ev.CONTACT_CHANGED)


class ProfileFollower:
    """The bus handler: plan and contact changes into the profiles of the customer's open cases."""

    def __init__(self, store: ConversationStore) -> None:
        self._store = store

    async def __call__(self, event: CloudEvent) -> None:
        kind, customer_id = ev.kind_of(event), event.get_subject()
        if kind not in FOLLOWED or not customer_id:
            return
        data = ev.data_of(event)
        for found in await self._store.conversations_for_customer(customer_id):
            if found.status != "escalated" or found.escalation is None or found.escalation.profile is None:
                continue
            state = await self._store.load(found.conversation_id)  # versioned: a concurrent turn wins
            notes = state.escalation
            if notes is None or notes.profile is None:
                continue
            profile = notes.profile
            if kind == ev.PLAN_CHANGED and isinstance(data.get("plan_name"), str):
                profile.plan_name, profile.plan_source = data["plan_name"], "billing.plan-changed event"
                profile.crm_plan_name = None  # the CRM follows the same event: no second plan to show
            elif kind == ev.CONTACT_CHANGED and isinstance(data.get("email"), str):
                profile.email = data["email"]
                if (address := one_line_address(data.get("address"))) is not None:
                    profile.address, profile.city = address, data["address"]["town"]
            else:
                continue
            profile.sources.append(f"{ev.kind_of(event)} {event.get_id()}")
            await self._store.save_turn(state, [])
            log.info("case %s: profile follows %s", state.conversation_id, kind)
