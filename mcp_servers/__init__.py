"""The enterprise systems (crm, billing, payments, support, identity, network) as MCP servers.

Each has a small backend Protocol and a reference backend on the built-in dataset
(``mcp_servers.dataset``), on SQLite files by default or in PostgreSQL (one schema per system)
when ``SWITCHBOARD_DATABASE_URL`` names a server; ``build_app`` serves one of them over
streamable HTTP.
"""

from mcp_servers._app import build_app

__all__ = ["build_app"]
