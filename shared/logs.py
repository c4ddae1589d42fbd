"""How a Switchboard process logs: one line format, set before anything builds an MCP server.

The MCP SDK's ``MCPServer`` calls ``logging.basicConfig`` with a rich handler and a bare
``%(message)s`` format each time one is built (mcp 2.3, ``configure_logging`` in
``mcp.server.mcpserver.utilities.logging``). ``basicConfig`` does nothing once the root logger
has a handler, so a process that calls ``configure_logging`` first keeps this format for every
line, its own and the libraries'. (The SDK still imports rich and builds its handler; it is
never attached.)
"""

from __future__ import annotations

import logging

NOISY = ("httpx", "httpx2", "a2a", "mcp", "uvicorn")
"""Per-request lines from the HTTP clients, servers and SDKs, which drown what Switchboard says
itself: warnings only, unless debugging."""


def log_format(process: str | None = None) -> str:
    """The line format; ``process`` names one process among several writing to one terminal."""
    where = f" [{process}]" if process else ""
    return f"%(asctime)s %(levelname)s{where} %(name)s: %(message)s"


def configure_logging(level: str, process: str | None = None) -> None:
    """Log to stderr in Switchboard's format from ``level`` (debug, info, warning, error) up.

    Call it first thing in a process, before any MCP server is built."""
    logging.basicConfig(level=level.upper(), format=log_format(process))
    if level.lower() != "debug":
        for name in NOISY:
            logging.getLogger(name).setLevel(logging.WARNING)
