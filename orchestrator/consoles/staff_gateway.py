"""Calling the governance gateway's staff API as the signed-in person.

Every call carries the person's own staff bearer token (kept server-side in their session), so
the gateway enforces their role itself and its audit log names them as the decider. A gateway
error passes through with its status, code and message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from shared.errors import ServiceUnavailable, SwitchboardError
from shared.tls import client_tls

if TYPE_CHECKING:
    from orchestrator.consoles.auth import StaffSession

__all__ = ["GatewayRefused", "StaffGateway"]


class GatewayRefused(SwitchboardError):
    """The governance gateway answered with an error; its code, status and message pass through."""

    def __init__(self, status: int, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.http_status = status
        self.code = code


class StaffGateway:
    """Calls the gateway's staff API as the signed-in person (their own bearer token).

    One client for the whole console, created on first use in the serving loop. It keeps no
    idle connections: console routes have no shutdown hook to close a pool, and a console
    request is a person clicking, where a loopback connect costs nothing they would notice.
    """

    def __init__(self, base_url: str | None, timeout: float = 15.0) -> None:
        self.base_url = (base_url or "").rstrip("/")
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def call(
        self,
        session: StaffSession,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """The gateway's answer to ``method path`` (2xx), or ``GatewayRefused`` with its error."""
        client = self._open()
        try:
            response = await client.request(
                method,
                path,
                params=params,
                json=json,
                headers={"Authorization": f"Bearer {session.gateway_token}"},
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                "the governance gateway did not answer", hint="try again; if it persists, check the gateway"
            ) from exc
        if not response.is_success:
            _raise_refusal(response)
        return response

    async def stream(
        self, session: StaffSession, method: str, path: str, *, params: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        """An open streaming answer (2xx) for passing a download through; the caller closes it."""
        client = self._open()
        request = client.build_request(
            method, path, params=params, headers={"Authorization": f"Bearer {session.gateway_token}"}
        )
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                "the governance gateway did not answer", hint="try again; if it persists, check the gateway"
            ) from exc
        if not response.is_success:
            await response.aread()
            await response.aclose()
            _raise_refusal(response)
        return response

    def _open(self) -> httpx.AsyncClient:
        if not self.base_url:
            raise ServiceUnavailable("the console has no governance gateway configured", hint="set gateway_url")
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self._timeout,
                limits=httpx.Limits(max_keepalive_connections=0),
                verify=client_tls(),
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _raise_refusal(response: httpx.Response) -> None:
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        error = {}
    raise GatewayRefused(
        response.status_code,
        str(error.get("code", "gateway_error")),
        str(error.get("message", f"the governance gateway answered {response.status_code}")),
        error.get("hint"),
    )
