"""The "open case" fact: any unresolved contact with the customer, read from where each lives.

An open case is an open support ticket (the support system), a conversation waiting for or
held by a person (the orchestrator's conversation store, through its internal API), or an
approval waiting for a decision (this gateway's own approval store). Marketing and outreach
policy reads the count; the deny reason names the cases. Tickets come from the gateway's
projection when it is given one (live when it is behind); a source that does not answer makes
the fact unknown, which denies (fail closed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

import httpx

from gateway.approvals import Approval
from gateway.facts import GATEWAY_AGENT, FactUnavailable
from gateway.upstream import UpstreamLink, UpstreamUnavailable
from shared.errors import SwitchboardError
from shared.service_auth.audiences import ORCHESTRATOR
from shared.service_auth.client import TokenSource
from shared.tls import client_tls
from shared.tools import CALL_META_KEY, CallContext

OPEN_CASES_PATH = "/api/internal/open-cases"
"""The orchestrator's read of a customer's escalated conversations (a gateway token for the orchestrator)."""


TicketIds = Callable[[str, str], Awaitable[list[str]]]
"""(e-mail, conversation id) -> ids of the customer's open tickets."""


class PendingApprovals(Protocol):
    async def pending_for_customer(self, customer_id: str) -> list[Approval]: ...


class OpenCaseReader:
    def __init__(
        self,
        links: dict[str, UpstreamLink],
        approvals: PendingApprovals,
        *,
        orchestrator_url: str | None,
        tokens: TokenSource | None,
        timeout: float = 5.0,
        ticket_ids: TicketIds | None = None,
    ) -> None:
        """``ticket_ids`` answers open tickets (the gateway's projection); without it they are read live."""
        self._ticket_ids = ticket_ids
        self._links = links
        self._approvals = approvals
        self._escalations_url = f"{orchestrator_url.rstrip('/')}{OPEN_CASES_PATH}" if orchestrator_url else None
        self._tokens = tokens
        self._http = httpx.AsyncClient(timeout=timeout, verify=client_tls())

    async def close(self) -> None:
        await self._http.aclose()

    async def read(self, customer_id: str, email: str, conversation_id: str, msisdn: str | None = None) -> list[str]:
        """Every open case of the customer, each named ("ticket TCK-1 (open)"); raises FactUnavailable."""
        tickets, escalations, approvals = await asyncio.gather(
            self._tickets(email, conversation_id),
            self._escalations(customer_id, email, msisdn),
            self._pending_approvals(customer_id),
            return_exceptions=True,
        )
        found: list[str] = []
        for part in (tickets, escalations, approvals):
            if isinstance(part, BaseException):
                raise part
            found.extend(part)
        return found

    async def _tickets(self, email: str, conversation_id: str) -> list[str]:
        if self._ticket_ids is not None:
            return [f"ticket {t} (open)" for t in await self._ticket_ids(email, conversation_id)]
        link = self._links.get("support")
        if link is None:
            raise FactUnavailable("no support system is configured, so open tickets cannot be read")
        meta = {
            CALL_META_KEY: CallContext(
                agent=GATEWAY_AGENT, conversation_id=conversation_id, audit_id="policy-fact"
            ).model_dump(mode="json")
        }
        try:
            result = await link.call("list_tickets", {"email": email, "status": "open"}, meta)
        except UpstreamUnavailable as exc:
            raise FactUnavailable(f"the support system is not answering ({exc.detail})") from None
        tickets = result.structured_content.get("tickets") if isinstance(result.structured_content, dict) else None
        if result.is_error or not isinstance(tickets, list):
            raise FactUnavailable("the support system could not list open tickets")
        return [f"ticket {t.get('ticket_id')} (open)" for t in tickets if isinstance(t, dict)]

    async def _escalations(self, customer_id: str, email: str, msisdn: str | None) -> list[str]:
        if self._escalations_url is None or self._tokens is None:
            return []  # no orchestrator behind this gateway: no conversation can wait for a person
        try:
            token = await self._tokens.token(ORCHESTRATOR)
            response = await self._http.get(
                self._escalations_url,
                # The other keys count a case opened before the customer finished verifying.
                params={"customer_id": customer_id, "email": email, "msisdn": msisdn or ""},
                headers={"Authorization": f"Bearer {token}"},
            )
        except SwitchboardError as exc:
            raise FactUnavailable(f"no token to ask the orchestrator ({exc.message})") from None
        except httpx.HTTPError as exc:
            raise FactUnavailable(f"the orchestrator is not answering ({type(exc).__name__})") from None
        cases = response.json().get("cases") if response.status_code == 200 else None
        if not isinstance(cases, list):
            raise FactUnavailable(f"the orchestrator could not list escalations ({response.status_code})")
        return [f"escalation in {c.get('conversation_id')} ({c.get('state')})" for c in cases if isinstance(c, dict)]

    async def _pending_approvals(self, customer_id: str) -> list[str]:
        pending = await self._approvals.pending_for_customer(customer_id)
        return [f"approval {a.id} ({a.tool}, waiting for a decision)" for a in pending]
