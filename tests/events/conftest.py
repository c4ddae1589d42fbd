"""Acting on the stack as its agents would, for the event tests."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from orchestrator.launcher import Stack
from shared.authcontext import AuthContextSigner
from shared.envelope import ContextEnvelope, CustomerKeys, CustomerRef
from shared.secrets import Secrets
from shared.service_auth import audiences
from tests.e2e.conftest import chat, running  # noqa: F401  (fixtures)
from tests.e2e.gateway_client import call_as, text_of

WAIT = 10.0


def envelope_for(secrets: Secrets, customer: dict[str, Any]) -> ContextEnvelope:
    """A verified conversation about ``customer`` (the identity system's signature, as after a code)."""
    keys = CustomerKeys(**{k: customer[k] for k in ("customer_id", "email", "msisdn", "account_number")})
    conversation_id = f"events-{uuid.uuid4().hex[:8]}"
    auth = AuthContextSigner(secrets.identity_private_pem.encode()).issue(
        keys, method="otp-sms", assurance="AAL2", conversation_id=conversation_id
    )
    return ContextEnvelope(conversation_id=conversation_id, customer=CustomerRef(keys=keys), auth_context=auth)


async def tool(gateway_mcp_url: str, stack: Stack, agent: str, name: str, args: dict, env: ContextEnvelope) -> dict:
    token = await stack.service_auth(agent).tokens.token(audiences.GATEWAY)
    result = await call_as(gateway_mcp_url, token, name, args, env)
    assert not result.is_error, text_of(result)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def wait_for_view(read: Any, done: Any, within: float = WAIT) -> dict:
    """Read the customer view (bounded) until ``done(view)``; the projection is asynchronous by design."""
    async with asyncio.timeout(within):
        while True:
            view = await read()
            if done(view):
                return view
            await asyncio.sleep(0.01)
