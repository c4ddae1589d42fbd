"""The gateway as an OAuth 2.1 protected resource: its RFC 9728 metadata, and the refusal intake.

- ``GET /.well-known/oauth-protected-resource[/mcp]`` names the MCP endpoint and the token
  service that issues tokens for it; a 401 from ``/mcp`` points here.
- ``POST /audit/refusals``: the other services (specialists, enterprise systems) report the
  callers they turned away, so every refusal in the deployment is in the one audit log. The
  reporter must hold a token for the ``audit`` audience; the record names the refused caller
  (as it claimed to be), the service that refused it and the reporter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.gateway import Gateway
from shared.errors import InvalidRequest, SwitchboardError, Unauthenticated
from shared.service_auth.audiences import AUDIT, GATEWAY
from shared.service_auth.guard import REFUSALS_PATH
from shared.service_auth.verifier import TokenVerifier, refused
from shared.settings import MCP_PATH

METADATA_PATH = "/.well-known/oauth-protected-resource"


class ReportedRefusal(BaseModel):
    service: str = Field(max_length=100)
    caller: str = Field(max_length=200)
    reason: str = Field(max_length=500)
    path: str = Field(default="", max_length=200)
    client: str = Field(default="", max_length=100)


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def protected_resource_routes(public_url: str, token_service_url: str) -> list[Route]:
    document = {
        "resource": public_url.rstrip("/") + MCP_PATH,
        "authorization_servers": [token_service_url.rstrip("/")],
        "bearer_methods_supported": ["header"],
        "resource_name": "Switchboard governance gateway",
        "audience": GATEWAY,
    }

    async def metadata(request: Request) -> JSONResponse:
        return JSONResponse(document, headers={"Cache-Control": "max-age=300"})

    return [Route(METADATA_PATH, metadata, methods=["GET"]), Route(METADATA_PATH + MCP_PATH, metadata, methods=["GET"])]


def refusal_routes(gateway: Callable[[], Gateway], verifier: TokenVerifier) -> list[Route]:
    async def report(request: Request) -> JSONResponse:
        try:
            token = _bearer(request)
            if not token:
                raise refused("no bearer token: only Switchboard's services may report refusals")
            reporter = await verifier.verify(token, AUDIT)
            try:
                refusal = ReportedRefusal.model_validate(await request.json())
            except (ValueError, ValidationError) as exc:
                raise InvalidRequest("the refusal report is malformed", hint="send service, caller and reason") from exc
            where = f" from {refusal.client}" if refusal.client else ""
            await gateway().record_refused(
                refusal.caller,
                f"{refusal.service}{refusal.path}",
                f"refused at {refusal.service} (reported by {reporter.sub}){where}: {refusal.reason}",
            )
        except SwitchboardError as exc:
            return JSONResponse(exc.to_dict(), status_code=exc.http_status)
        return JSONResponse({"recorded": True}, status_code=201)

    return [Route(REFUSALS_PATH, report, methods=["POST"])]


def service_caller(verifier: TokenVerifier, agents: frozenset[str]) -> Callable[[str], Awaitable[str | None]]:
    """The agent a presented token belongs to, if it is a valid gateway token of one (for the staff API)."""

    async def identify(token: str) -> str | None:
        if token.count(".") != 2:
            return None
        try:
            claims = await verifier.verify(token, GATEWAY)
        except (Unauthenticated, SwitchboardError):
            return None
        return claims.sub if claims.sub in agents else None

    return identify
