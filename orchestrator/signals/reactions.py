"""Rule-driven proactive reactions to network signals, acting through the governance gateway.

Reactions act as the ``reactions`` agent with an auth context the identity system issues only
for a customer named by a recent signal it recorded (AAL0, method ``network-signal``), so the
same policies hold as for any specialist: consent for the purpose, no marketing while a
support case is open, every call audited. A rule's actions are idempotent (their keys derive
from the signal's event id), so a redelivered event never opens a second ticket.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import httpx2
from cloudevents.core.v1.event import CloudEvent

from orchestrator.signals.store import Reaction, SignalStore
from shared import events as ev
from shared.envelope import ENVELOPE_META_KEY, ContextEnvelope, CustomerRef
from shared.service_auth import BearerAuth, TokenSource
from shared.service_auth.audiences import GATEWAY
from shared.tls import client_tls

if TYPE_CHECKING:
    from mcp import Client
    from mcp_types import RequestParamsMeta

log = logging.getLogger("switchboard.reactions")

AGENT = "reactions"
DURABLE = "orchestrator-reactions"
MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Action:
    name: str
    tool: str
    arguments: Callable[[dict[str, Any], CustomerRef, str], dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    when: Callable[[dict[str, Any]], bool]
    actions: tuple[Action, ...]


def _ticket(data: dict[str, Any], customer: CustomerRef, key: str) -> dict[str, Any]:
    return {
        "email": customer.keys.email,
        "category": "network",
        "summary": f"Device lost connectivity (network signal {data['signal_id']} at {data['occurred_at']}); "
        "opened proactively",
        "priority": "high",
        "idempotency_key": f"{key}-ticket",
    }


def _outage_notice(data: dict[str, Any], customer: CustomerRef, key: str) -> dict[str, Any]:
    return {
        "email": customer.keys.email,
        "channel": "email",
        "text": "We can see your phone lost its connection to our network. We've opened a ticket and are "
        "looking into it; you don't need to call us. We'll update you when it's fixed.",
        "idempotency_key": f"{key}-notice",
    }


def _roaming_offer(data: dict[str, Any], customer: CustomerRef, key: str) -> dict[str, Any]:
    offer = {"offer_id": "ROAM-DAY-PASS", "channel": "sms", "idempotency_key": f"{key}-offer"}
    return {"email": customer.keys.email, **offer}


RULES: tuple[Rule, ...] = (
    Rule(
        "connectivity-outage",
        ev.CONNECTIVITY_CHANGED,
        lambda d: d.get("connectivity") == "NOT_CONNECTED",
        (
            Action("open-ticket", "support.open_ticket", _ticket),
            Action("notify", "crm.send_service_message", _outage_notice),
        ),
    ),
    # Marketing, so policy sends it only with marketing consent and no open support case.
    Rule(
        "roaming-day-pass-offer",
        ev.ROAMING_CHANGED,
        lambda d: d.get("roaming") is True,
        (Action("offer", "crm.send_offer", _roaming_offer),),
    ),
)


class Reactions:
    """The bus handler that runs matching rules; outcomes go to the signal store's reactions."""

    def __init__(
        self, store: SignalStore, gateway_mcp_url: str, tokens: TokenSource, rules: tuple[Rule, ...] = RULES
    ) -> None:
        self._store = store
        self._url = gateway_mcp_url
        self._auth = BearerAuth(tokens, GATEWAY)
        self._rules = rules
        self._attempts: dict[str, int] = {}

    async def __call__(self, event: CloudEvent) -> None:
        kind = ev.kind_of(event)
        data = ev.data_of(event)
        rules = [r for r in self._rules if r.kind == kind and r.when(data)]
        if not rules:
            return
        done = await self._store.reactions_done(event.get_id())
        pending = [(r, a) for r in rules for a in r.actions if a.name not in done]
        if not pending:
            return
        # The MCP client is loaded on the first signal, not at every orchestrator start.
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client

        http = httpx2.AsyncClient(auth=self._auth, timeout=10, verify=client_tls())
        async with http, Client(streamable_http_client(self._url, http_client=http)) as client:
            conversation_id = f"signal-{data.get('signal_id')}"
            envelope = ContextEnvelope(conversation_id=conversation_id, channel="api", handoff_reason="network signal")
            granted = await self._call(
                client,
                envelope,
                "identity.issue_signal_context",
                {
                    "signal_id": data.get("signal_id"),
                    "conversation_id": conversation_id,
                },
            )
            if granted.get("error"):
                self._retry_or_give_up(event, granted["error"])
                return
            customer = CustomerRef.model_validate(granted["customer"])
            envelope = envelope.model_copy(update={"customer": customer, "auth_context": granted["auth_context"]})
            for rule, action in pending:
                arguments = action.arguments(data, customer, event.get_id())
                result = await self._call(client, envelope, action.tool, arguments)
                outcome = "error" if result.get("error") else "ok"
                if result.get("denied"):
                    outcome = "denied"
                await self._record(event, rule, action, data, customer.customer_id, outcome, result)
        self._attempts.pop(event.get_id(), None)

    async def _call(self, client: Client, envelope: ContextEnvelope, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        # RequestParamsMeta is an open TypedDict (extra_items=Any) whose extra keys mypy cannot check.
        meta = cast("RequestParamsMeta", {ENVELOPE_META_KEY: envelope.model_dump_json()})
        result = await client.call_tool(tool, args, meta=meta)
        audit_id = (result.meta or {}).get("switchboard/audit_id")
        if result.is_error:
            text = " ".join(getattr(c, "text", "") for c in result.content)
            return {"error": text, "denied": text.startswith("DENIED"), "audit_id": audit_id}
        return {**(result.structured_content or {}), "audit_id": audit_id}

    def _retry_or_give_up(self, event: CloudEvent, error: str) -> None:
        # The identity system may not have recorded the signal yet (it reads the same bus):
        # raise so the bus redelivers, but not forever for a number that is not ours.
        attempts = self._attempts[event.get_id()] = self._attempts.get(event.get_id(), 0) + 1
        if "was received" in error and attempts < MAX_ATTEMPTS:
            raise RuntimeError(f"no signal context yet for {event.get_id()}: {error}")
        log.warning("giving up on reactions to %s: %s", event.get_id(), error)
        self._attempts.pop(event.get_id(), None)

    async def _record(
        self,
        event: CloudEvent,
        rule: Rule,
        action: Action,
        data: dict[str, Any],
        customer_id: str,
        outcome: str,
        result: dict[str, Any],
    ) -> None:
        await self._store.record_reaction(
            Reaction(
                event_id=event.get_id(),
                rule=rule.id,
                action=action.name,
                signal_id=data.get("signal_id"),
                customer_id=customer_id,
                outcome=outcome,
                detail=json.dumps({k: v for k, v in result.items() if k != "audit_id"}),
                audit_id=result.get("audit_id"),
            )
        )
