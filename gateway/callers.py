"""Who an agent acts for: the A2A caller's token, presented with each tool call and verified here.

A specialist forwards the token its own caller (the orchestrator, an external agent) presented
to it, in ``_meta[CALLER_META_KEY]``. The gateway checks it was issued for that very agent, so
the audit log names a caller the token service vouches for, not one the agent made up.
"""

from __future__ import annotations

from typing import Any

from shared.service_auth.audiences import agent as agent_audience
from shared.service_auth.verifier import TokenVerifier, refused
from shared.tools import CALLER_META_KEY


async def a2a_caller(verifier: TokenVerifier, agent: str, meta: dict[str, Any]) -> str | None:
    """The verified A2A caller of ``agent`` (None when the call is not made for one); raises Unauthenticated."""
    token = meta.pop(CALLER_META_KEY, None)
    if token is None:
        return None
    if not isinstance(token, str):
        raise refused(f"_meta[{CALLER_META_KEY!r}] must be the A2A caller's bearer token")
    claims = await verifier.verify(token, agent_audience(agent))
    return claims.sub
