"""Who may be called: the audience names of Switchboard's services, and the token service's paths.

An audience names a *service*, not a replica or an address, so a token stays valid however
the service is deployed: ``agent:billing`` for a specialist, ``mcp:payments`` for an
enterprise system, ``gateway`` for the governance gateway's MCP endpoint, ``audit`` for its
refusal intake, ``orchestrator`` for the supervisor.
"""

from __future__ import annotations

from collections.abc import Iterable

GATEWAY = "gateway"
ORCHESTRATOR = "orchestrator"
AUDIT = "audit"
"""The gateway's refusal intake: services report the callers they turned away."""

TOKEN_PATH = "/oauth/token"
JWKS_PATH = "/.well-known/jwks.json"
METADATA_PATH = "/.well-known/oauth-authorization-server"

AGENT_PREFIX = "agent:"
SYSTEM_PREFIX = "mcp:"
EXTERNAL_PREFIX = "external:"


def agent(name: str) -> str:
    return f"{AGENT_PREFIX}{name}"


def system(name: str) -> str:
    return f"{SYSTEM_PREFIX}{name}"


REACTIONS = "reactions"
"""The signal-reactions engine: no A2A service, a client of the gateway."""


def builtin_grants(agents: Iterable[str], systems: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Every built-in client and the audiences it may get tokens for: the one place saying who calls whom."""
    grants: dict[str, tuple[str, ...]] = {
        ORCHESTRATOR: (f"{AGENT_PREFIX}*", AUDIT),
        GATEWAY: (f"{SYSTEM_PREFIX}*", ORCHESTRATOR),
        REACTIONS: (GATEWAY,),
    }
    grants.update({name: (GATEWAY, AUDIT) for name in agents})
    grants.update({system(s): (AUDIT,) for s in systems})
    return grants
