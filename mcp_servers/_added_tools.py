"""Tools added beside a system's own server (``switchboard new-tool``), found at start-up.

Each module in ``mcp_servers/<system>/tools/`` defines one tool: its typed input and output
models, its reference-backend read, and ``register(server, backend)``. A new tool therefore
touches no existing module; its table and reference rows come with a revision of the system.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from mcp.server.mcpserver import MCPServer


def register_added_tools(system: str, server: MCPServer, backend: Any) -> list[str]:
    """Register every tool module of ``system``; returns their names (none when it has no folder)."""
    package_name = f"mcp_servers.{system}.tools"
    try:
        package = importlib.import_module(package_name)
    except ModuleNotFoundError as exc:
        if exc.name == package_name:
            return []
        raise
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_"))
    for name in names:
        importlib.import_module(f"{package_name}.{name}").register(server, backend)
    return names
