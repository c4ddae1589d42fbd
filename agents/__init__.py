"""Specialist agents, each its own A2A server acting only through the governance gateway.

``agent_names`` only lists the folders; ``build_app`` loads the runtime (LangGraph and the MCP
client) when first named, so a process that only needs the names does not pay for it.
"""

from __future__ import annotations

import pkgutil
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.runtime.app import build_app

__all__ = ["agent_names", "build_app"]

# Packages under agents/ that are no specialist.
_NOT_AGENTS = frozenset({"runtime"})


def agent_names() -> list[str]:
    """Every specialist package under ``agents/``, sorted."""
    return sorted(
        info.name
        for info in pkgutil.iter_modules(__path__)
        if info.ispkg and info.name not in _NOT_AGENTS and not info.name.startswith("_")
    )


def __getattr__(name: str) -> Any:
    if name == "build_app":
        from agents.runtime.app import build_app

        return build_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
