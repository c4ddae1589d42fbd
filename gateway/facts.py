"""Facts about the customer that policy needs and that live in other systems, read per call.

Consent is read from the consent registry on every customer-scoped call, and open support
cases from the support system for tools whose purpose needs them (marketing). Nothing here is
cached: a consent revoked a moment ago must already deny the next call. A system that does
not answer makes the fact unknown, and the gateway then denies (fail closed).
"""

from __future__ import annotations

from typing import Protocol

from mcp_types import CallToolResult

from gateway.upstream import UpstreamLink, UpstreamUnavailable
from shared.tools import CALL_META_KEY, CallContext

GATEWAY_AGENT = "gateway"


class FactUnavailable(Exception):
    """A fact policy needs could not be read; the message says which and why."""


class CustomerFacts(Protocol):
    async def consent_purposes(self, customer_id: str, conversation_id: str) -> frozenset[str]: ...

    async def open_support_cases(self, email: str, conversation_id: str) -> int: ...


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

    async def open_support_cases(self, email: str, conversation_id: str) -> int:
        result = await self._call("support", "list_tickets", {"email": email, "status": "open"}, conversation_id)
        assert isinstance(result.structured_content, dict)
        tickets = result.structured_content.get("tickets")
        if not isinstance(tickets, list):
            raise FactUnavailable("the support system answered without a tickets list")
        return len(tickets)
