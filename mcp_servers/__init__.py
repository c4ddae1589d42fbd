"""The enterprise systems (crm, billing, payments, support, identity, network) as MCP servers.

Each has a small backend Protocol and a SQLite reference backend on the built-in dataset
(``mcp_servers.dataset``); ``build_app`` serves one of them over streamable HTTP.
"""

from mcp_servers._app import build_app

__all__ = ["build_app"]
