"""The enterprise systems (crm, billing, payments, support, identity, network, consent) as MCP servers.

Each has a small backend Protocol and a reference backend on the built-in dataset
(``mcp_servers.dataset``), on SQLite files by default or in PostgreSQL (one schema per system)
when ``SWITCHBOARD_DATABASE_URL`` names a server; ``build_app`` serves one of them over
streamable HTTP.

``build_app`` is loaded on first use: it imports every server, and a process that only needs
the dataset or one backend (``switchboard prepare``, the evaluation fixtures) should not pay for
them, nor have its submodules' ``from mcp_servers import …`` run through all of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp_servers._app import build_app

__all__ = ["build_app"]


def __getattr__(name: str) -> Any:
    if name == "build_app":
        from mcp_servers._app import build_app

        return build_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
