"""The gateway as an OAuth 2.1 protected resource: its RFC 9728 metadata, and the refusal intake.

- ``GET /.well-known/oauth-protected-resource[/mcp]`` names the MCP endpoint and the token
  service that issues tokens for it; a 401 from ``/mcp`` points here.
- ``POST /audit/refusals``: the other services (specialists, enterprise systems) report the
  callers they turned away, so every refusal in the deployment is in the one audit log. The
  reporter must hold a token for the ``audit`` audience; the record names the refused caller
  (as it claimed to be), the service that refused it and the reporter. Rate limited per address
  (before the token is checked) and per reporter: a flood of refused calls elsewhere cannot
  turn into a flood of audit writes; over the limit, 429 with ``Retry-After`` (the reporter keeps
  the refusal in its own log).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.gateway import Gateway
from shared.errors import InvalidRequest, RateLimited, SwitchboardError, Unauthenticated
from shared.rate_limit import Limit, RateLimiter
from shared.service_auth.audiences import AUDIT, GATEWAY
from shared.service_auth.guard import REFUSALS_PATH
from shared.service_auth.verifier import TokenVerifier, refused
from shared.settings import MCP_PATH

METADATA_PATH = "/.well-known/oauth-protected-resource"
REFUSALS_PER_ADDRESS = Limit(burst=200, per_second=50.0)
REFUSALS_PER_REPORTER = Limit(burst=100, per_second=20.0)


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


def _limited(limiter: RateLimiter, key: str, who: str) -> None:
    wait = limiter.take(key)
    if wait is not None:
        raise RateLimited(f"too many refusal reports from {who}", retry_after=wait, hint=f"retry in {wait} s")


def refusal_routes(
    gateway: Callable[[], Gateway],
    verifier: TokenVerifier,
    *,
    per_address: Limit = REFUSALS_PER_ADDRESS,
    per_reporter: Limit = REFUSALS_PER_REPORTER,
    clock: Callable[[], float] = time.monotonic,
) -> list[Route]:
    by_address = RateLimiter(per_address, clock=clock)
    by_reporter = RateLimiter(per_reporter, clock=clock)

    async def report(request: Request) -> JSONResponse:
        try:
            address = request.client.host if request.client else ""
            _limited(by_address, address, "this address")
            token = _bearer(request)
            if not token:
                raise refused("no bearer token: only Switchboard's services may report refusals")
            reporter = await verifier.verify(token, AUDIT)
            _limited(by_reporter, reporter.sub, repr(reporter.sub))
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
        except RateLimited as exc:
            headers = {"Retry-After": str(exc.retry_after)}
            return JSONResponse(exc.to_dict(), status_code=exc.http_status, headers=headers)
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
