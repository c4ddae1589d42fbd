"""Facts about the customer that policy needs and that live in other systems, read per call.

``UpstreamFacts`` reads consent from the consent registry, open support cases from the
support system and the line's latest SIM change from the network system, live. The gateway
answers consent and open cases from its projection (``gateway.projection``), which falls back
to these live reads when its copy is behind; a SIM change is always read live, at the moment
money would move. A system that does not answer makes the fact unknown, and the gateway then
denies (fail closed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mcp_types import CallToolResult
from pydantic import ValidationError

from gateway.upstream import UpstreamLink, UpstreamUnavailable
from shared.envelope import AuthClaims
from shared.tools import CALL_META_KEY, CallContext, RefundFacts

if TYPE_CHECKING:
    from gateway.catalog import CatalogTool
    from gateway.open_cases import OpenCaseReader

GATEWAY_AGENT = "gateway"


class FactUnavailable(Exception):
    """A fact policy needs could not be read; the message says which and why."""


class CustomerFacts(Protocol):
    async def consent_purposes(self, customer_id: str, conversation_id: str) -> frozenset[str]: ...

    async def open_support_cases(self, email: str, conversation_id: str) -> int: ...

    async def refund_facts(
        self, system: str, tool: str, arguments: dict[str, Any], conversation_id: str
    ) -> RefundFacts: ...

    async def recent_sim_change(self, msisdn: str, max_age_hours: int, conversation_id: str) -> str | None:
        """When the line's SIM last changed, if within ``max_age_hours``; None when it did not."""
        ...


class UpstreamFacts:
    """Reads facts through the gateway's own upstream links (as agent ``gateway``)."""

    def __init__(self, links: dict[str, UpstreamLink]) -> None:
        self._links = links

    async def _call(self, system: str, tool: str, args: dict[str, object], conversation_id: str) -> CallToolResult:
        link = self._links.get(system)
        if link is None:
            raise FactUnavailable(f"no {system} system is configured, so {tool} cannot be read")
        meta = {
            CALL_META_KEY: CallContext(
                agent=GATEWAY_AGENT, conversation_id=conversation_id, audit_id="policy-fact"
            ).model_dump(mode="json")
        }
        try:
            result = await link.call(tool, args, meta, retry=True)  # policy facts are reads
        except UpstreamUnavailable as exc:
            raise FactUnavailable(f"the {system} system is not answering ({exc.detail})") from None
        if result.is_error or not isinstance(result.structured_content, dict):
            raise FactUnavailable(f"the {system} system could not answer {tool}")
        return result

    async def consent_purposes(self, customer_id: str, conversation_id: str) -> frozenset[str]:
        # The flat read, not get_consents: this runs before every customer-scoped call.
        result = await self._call("consent", "get_purposes", {"customer_id": customer_id}, conversation_id)
        assert isinstance(result.structured_content, dict)
        purposes = result.structured_content.get("purposes")
        if not isinstance(purposes, list):
            raise FactUnavailable("the consent registry answered without a purposes list")
        return frozenset(str(p) for p in purposes)

    async def open_ticket_ids(self, email: str, conversation_id: str) -> list[str]:
        result = await self._call("support", "list_tickets", {"email": email, "status": "open"}, conversation_id)
        assert isinstance(result.structured_content, dict)
        tickets = result.structured_content.get("tickets")
        if not isinstance(tickets, list):
            raise FactUnavailable("the support system answered without a tickets list")
        return [str(t.get("ticket_id")) for t in tickets if isinstance(t, dict)]

    async def open_support_cases(self, email: str, conversation_id: str) -> int:
        return len(await self.open_ticket_ids(email, conversation_id))

    async def refund_facts(
        self, system: str, tool: str, arguments: dict[str, Any], conversation_id: str
    ) -> RefundFacts:
        result = await self._call(system, tool, arguments, conversation_id)
        try:
            return RefundFacts.model_validate(result.structured_content)
        except ValidationError:
            raise FactUnavailable(f"the {system} system answered {tool} in an unexpected shape") from None

    async def recent_sim_change(self, msisdn: str, max_age_hours: int, conversation_id: str) -> str | None:
        # The network system's own record, not the signal feed: a swap whose signal never
        # arrived (or has not arrived yet) still counts.
        args: dict[str, object] = {"msisdn": msisdn, "max_age_hours": max_age_hours}
        result = await self._call("network", "check_sim_swap", args, conversation_id)
        assert isinstance(result.structured_content, dict)
        swapped = result.structured_content.get("swapped")
        if not isinstance(swapped, bool):
            raise FactUnavailable("the network system answered check_sim_swap without a swapped flag")
        latest = result.structured_content.get("latest_sim_change")
        return (str(latest) if latest else "recently") if swapped else None


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What was read from the systems of record for one call."""

    consent: tuple[str, ...] = ()
    open_cases: int | None = None
    refund: RefundFacts | None = None
    named_cases: tuple[str, ...] = ()
    """Each open case by name ("ticket TCK-1 (open)"), when the reader names them; for the reason."""
    sim_changed_at: str | None = None
    """When the line's SIM changed, for a money-moving write, if that was within the window."""


def moves_money(tool: CatalogTool) -> bool:
    """A payments write (a refund, a payment, a change of how the customer pays)."""
    return tool.purpose == "payments" and not tool.facts.read_only


async def read_call_facts(
    facts: CustomerFacts,
    tool: CatalogTool,
    claims: AuthClaims | None,
    customer_scoped: bool,
    arguments: dict[str, Any],
    conversation_id: str,
    open_cases: OpenCaseReader | None = None,
    sim_window_hours: int | None = None,
) -> CallFacts:
    """Consent, open support cases and a write's own facts, read fresh for this call (never cached).

    They live in different systems and do not depend on each other, so the reads a call
    needs run at the same time: one round trip's wait instead of several. A call that needs
    none of them (most reads) makes no read at all. Raises FactUnavailable when any fails.
    With ``sim_window_hours``, a money-moving write also reads the line's latest SIM change.
    """
    reads: dict[str, Awaitable[Any]] = {}
    if claims is not None and customer_scoped:
        reads["consent"] = facts.consent_purposes(claims.sub, conversation_id)
    if tool.purpose == "marketing" and claims is not None and claims.keys.email:
        # Any unresolved contact counts (tickets, people awaited or holding, approvals) when the
        # gateway can see them all; otherwise the support system's open tickets.
        reads["cases"] = (
            open_cases.read(claims.sub, claims.keys.email, conversation_id, claims.keys.msisdn)
            if open_cases is not None
            else facts.open_support_cases(claims.keys.email, conversation_id)
        )
    source = tool.fact_source
    if source is not None and customer_scoped:
        args = {name: arguments.get(name) for name in source.args}
        reads["refund"] = facts.refund_facts(tool.system, source.tool, args, conversation_id)
    if sim_window_hours is not None and customer_scoped and claims is not None and moves_money(tool):
        if not claims.keys.msisdn:
            # No line to check is not a line without a swap: the write waits for a person.
            raise FactUnavailable("the customer has no mobile number on record to check for a SIM change")
        reads["sim"] = facts.recent_sim_change(claims.keys.msisdn, sim_window_hours, conversation_id)
    if not reads:
        return CallFacts()
    if len(reads) == 1:
        values = [await next(iter(reads.values()))]
    else:
        # Every read finishes before this returns: no task outlives the call that needed it.
        values = await asyncio.gather(*reads.values(), return_exceptions=True)
        failed = next((v for v in values if isinstance(v, BaseException)), None)
        if failed is not None:
            raise failed
    got = dict(zip(reads, values, strict=True))
    cases = got.get("cases")
    named = tuple(cases) if isinstance(cases, list) else ()
    count = len(cases) if isinstance(cases, list) else cases
    return CallFacts(tuple(got.get("consent", ())), count, got.get("refund"), named, got.get("sim"))
