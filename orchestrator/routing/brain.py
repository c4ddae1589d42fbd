"""The routing extension point: anything that turns a customer's words into a ``RouteDecision``."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from orchestrator.routing.decision import RouteDecision


@runtime_checkable
class Brain(Protocol):
    """Maps one customer turn to a specialist and skill. The offline brain and an LLM brain both fit."""

    async def route(self, text: str) -> RouteDecision:
        """Decide who owns ``text``; never raises for odd wording, only for oversized input."""
        ...
