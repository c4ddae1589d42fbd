"""Identity as an MCP server: resolves who the customer is and verifies them with one-time codes."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from mcp_servers._tooling import (
    IDEMPOTENT_WRITE,
    READ_ONLY,
    ConversationId,
    CustomerId,
    Email,
    IdempotencyKey,
    RecordId,
    act,
    require_call_context,
    tool_meta,
)
from mcp_servers.identity.backend import IdentityBackend
from mcp_servers.identity.contact import ContactDetails, PostalAddress
from mcp_servers.identity.models import (
    ResolvedCustomer,
    SignalContext,
    SignInLinkSent,
    VerificationResult,
    VerificationStarted,
)

# Not read-only (codes are sent and attempts counted) and not idempotent (each call sends a code).
_STATEFUL = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
AddressLine = Annotated[str, Field(min_length=1, max_length=100)]
Town = Annotated[str, Field(min_length=1, max_length=60)]
Postcode = Annotated[str, Field(min_length=1, max_length=12, description="UK postcode, e.g. KM1 4AB")]


def build_server(backend: IdentityBackend) -> MCPServer:
    server = MCPServer(
        "identity",
        version="1",
        log_level="WARNING",
        instructions="Finds the customer behind an email, number or account and verifies them.",
    )
    meta = tool_meta()

    @server.tool(annotations=_READ_ONLY, meta=meta)
    async def resolve_customer(
        hint: Annotated[
            str,
            Field(
                min_length=1,
                max_length=500,
                description="email, phone number, account number or customer id; free text is fine",
            ),
        ],
    ) -> ResolvedCustomer:
        """Find the customer a hint points at, with masked destinations for a one-time code."""
        return await act(backend.resolve_customer(hint))

    @server.tool(annotations=_STATEFUL, meta=meta)
    async def start_verification(
        identifier: Annotated[
            str,
            Field(
                min_length=1,
                max_length=500,
                description="what the customer gave: email, phone number, account number or customer id",
            ),
        ],
        channel: Literal["sms", "email", "any"],
        conversation_id: ConversationId,
    ) -> VerificationStarted:
        """Send a six-digit code (valid 10 minutes) if the details match an account.

        The answer is the same whether they match or not, and names no contact detail: tell the
        customer a code was sent *if* the details match. Resends are capped; after too many
        attempts this way is paused and the error says to offer another contact detail or a human.
        """
        return await act(backend.start_verification(identifier, channel, conversation_id))

    @server.tool(annotations=_STATEFUL, meta=meta)
    async def verify_code(
        verification_id: RecordId,
        code: Annotated[str, Field(min_length=1, max_length=16)],
        conversation_id: ConversationId,
    ) -> VerificationResult:
        """Check the code; when right, returns the signed auth context and the customer's keys."""
        return await act(backend.verify_code(verification_id, code, conversation_id))

    @server.tool(annotations=_READ_ONLY, meta=meta)
    async def issue_signal_context(signal_id: RecordId, conversation_id: ConversationId) -> SignalContext:
        """Proactive care only: an AAL0 auth context for the customer a recent network signal named."""
        return await act(backend.issue_signal_context(signal_id, conversation_id))

    @server.tool(annotations=READ_ONLY, meta=tool_meta("customer_id", "customer_id"))
    async def get_contact_details(customer_id: CustomerId) -> ContactDetails:
        """The customer's email, mobile number and postal address, as identity (their system of record) has them."""
        return await act(backend.get_contact_details(customer_id))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=tool_meta("customer_id", "customer_id"))
    async def update_contact_details(
        customer_id: CustomerId, email: Email, idempotency_key: IdempotencyKey, ctx: Context
    ) -> ContactDetails:
        """Change the customer's email address; every copy (CRM, support) follows from the change event.

        The mobile number is not a contact detail here: it is the customer's line, which billing
        and the network know it by, and moving it is a port, not an edit.
        """
        call = require_call_context(ctx)
        return await act(backend.update_contact_details(customer_id, email, idempotency_key, call))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=tool_meta("customer_id", "customer_id"))
    async def update_postal_address(
        customer_id: CustomerId,
        line1: AddressLine,
        town: Town,
        postcode: Postcode,
        idempotency_key: IdempotencyKey,
        ctx: Context,
        line2: AddressLine | None = None,
    ) -> ContactDetails:
        """Change the customer's postal address (where SIMs, letters and deliveries go); the CRM and open cases follow.

        An address that is not one (no street, no town, not a UK postcode) is refused with what is wrong.
        """
        call = require_call_context(ctx)
        given = PostalAddress(line1=line1, line2=line2, town=town, postcode=postcode)
        return await act(backend.update_postal_address(customer_id, given, idempotency_key, call))

    @server.tool(annotations=IDEMPOTENT_WRITE, meta=tool_meta("customer_id", "customer_id"))
    async def send_sign_in_link(
        customer_id: CustomerId,
        purpose: Literal["password-reset", "registration"],
        idempotency_key: IdempotencyKey,
        ctx: Context,
    ) -> SignInLinkSent:
        """Email a one-time link (an hour) to set a new password or finish registering online.

        It goes only to the email address on record; the answer names it masked.
        """
        call = require_call_context(ctx)
        return await act(backend.send_sign_in_link(customer_id, purpose, idempotency_key, call))

    return server
