"""The orchestrator's signal service: the ingestion desk, the reactions consumer, the route."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from orchestrator.signals.errors import RefusalsRateLimited
from orchestrator.signals.ingest import MAX_BODY_BYTES, SIGNATURE_HEADER, SignalDesk, SignalWindow
from orchestrator.signals.limits import RefusalBudget
from orchestrator.signals.store import SignalStore, open_signal_store
from orchestrator.signals.subjects import GatewaySubjects
from shared.errors import PayloadTooLarge, ServiceUnavailable, SwitchboardError
from shared.events import EventBus, Subscription
from shared.service_auth import TokenSource

SIGNALS_DB = "signals.db"


@dataclass
class SignalService:
    desk: SignalDesk
    reactions: Subscription | None
    store: SignalStore | None = None

    @classmethod
    async def start(
        cls,
        *,
        data_dir: Path,
        secret: str,
        bus: EventBus | None,
        gateway_mcp_url: str | None = None,
        reactions_tokens: TokenSource | None = None,
        database_url: str | None = None,
        budget: RefusalBudget | None = None,
        window: SignalWindow | None = None,
    ) -> SignalService:
        """Open the store (``database_url``, else ``signals.db``) and the desk; with a gateway
        URL and a token source (the reactions client), also run the reaction rules and resolve each
        signal's number to the customer it is about (the event's subject).

        ``bus=None`` records signals for another process to relay and react to (an orchestrator
        worker of ``switchboard up --workers``, whose bus is in the process of the systems)."""
        store = await open_signal_store(database_url, default_sqlite=Path(data_dir) / SIGNALS_DB)
        subjects = GatewaySubjects(gateway_mcp_url, reactions_tokens) if gateway_mcp_url and reactions_tokens else None
        try:
            desk = await SignalDesk.open(store, secret, bus, budget, window, subjects=subjects)
        except BaseException:
            await store.close()
            raise
        if bus is None or not (gateway_mcp_url and reactions_tokens):
            return cls(desk, None, store)
        # Imported here: the reactions are an MCP client, and an orchestrator that only records
        # signals (a worker of ``up --workers``) should not pay for loading the MCP SDK.
        from orchestrator.signals.reactions import DURABLE, RULES, Reactions

        reactions = Reactions(store, gateway_mcp_url, reactions_tokens)
        try:
            # Shared: one orchestrator replica acts on each signal (its actions are not to repeat).
            subscription = await bus.subscribe(DURABLE, reactions, kinds={rule.kind for rule in RULES})
        except BaseException:
            await desk.close()
            await store.close()
            raise
        return cls(desk, subscription, store)

    async def stop(self) -> None:
        if self.reactions is not None:
            await self.reactions.stop()
        await self.desk.close()
        if self.store is not None:
            await self.store.close()


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
        except RefusalsRateLimited as exc:
            retry_after = RefusalBudget.retry_after_header(exc.retry_after)
            return JSONResponse({"error": exc.to_dict()}, status_code=429, headers={"Retry-After": retry_after})
        except SwitchboardError as exc:
            return JSONResponse({"error": exc.to_dict()}, status_code=exc.http_status)
        return JSONResponse(accepted, status_code=202)

    return [Route("/api/signals", ingest, methods=["POST"])]
