"""The orchestrator's signal service: the ingestion desk, the reactions consumer, the route."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiosqlite
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from orchestrator.signals.ingest import MAX_BODY_BYTES, SIGNATURE_HEADER, SignalDesk
from orchestrator.signals.reactions import DURABLE, Reactions
from shared.errors import PayloadTooLarge, ServiceUnavailable, SwitchboardError
from shared.events import EventBus, Subscription
from shared.sqlite import connect

SIGNALS_DB = "signals.db"


@dataclass
class SignalService:
    desk: SignalDesk
    reactions: Subscription | None
    _conn: aiosqlite.Connection | None = None

    @classmethod
    async def start(
        cls,
        *,
        data_dir: Path,
        secret: str,
        bus: EventBus,
        gateway_mcp_url: str | None = None,
        reactions_token: str | None = None,
    ) -> SignalService:
        """Open the desk; with a gateway URL and token, also run the reaction rules."""
        desk = await SignalDesk.open(Path(data_dir) / SIGNALS_DB, secret, bus)
        if not (gateway_mcp_url and reactions_token):
            return cls(desk, None)
        # Its own connection: its commits must never split a desk transaction.
        conn = await connect(Path(data_dir) / SIGNALS_DB)
        reactions = await Reactions.open(conn, gateway_mcp_url, reactions_token)
        return cls(desk, await bus.subscribe(DURABLE, reactions), conn)

    async def stop(self) -> None:
        if self.reactions is not None:
            await self.reactions.stop()
        if self._conn is not None:
            await self._conn.close()
        await self.desk.close()


def signal_routes(service: Callable[[], SignalService | None]) -> list[Route]:
    """``POST /api/signals``: see ``orchestrator.signals.ingest`` for the contract."""

    async def ingest(request: Request) -> JSONResponse:
        running = service()
        try:
            if running is None:
                raise ServiceUnavailable("signal ingestion is not configured here", hint="start it with the stack")
            body = b""
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise PayloadTooLarge(f"a signal is at most {MAX_BODY_BYTES} bytes")
            remote = request.client.host if request.client else None
            accepted = await running.desk.ingest(body, request.headers.get(SIGNATURE_HEADER), remote)
        except SwitchboardError as exc:
            return JSONResponse({"error": exc.to_dict()}, status_code=exc.http_status)
        return JSONResponse(accepted, status_code=202)

    return [Route("/api/signals", ingest, methods=["POST"])]
