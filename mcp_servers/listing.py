"""Every system's tools as its MCP server lists them, without opening any data.

Building a server only registers its tools; nothing touches a backend until a tool runs, so
a command can read the action catalog (names, input schemas, ``_meta``) offline.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mcp_types import Tool

from mcp_servers._added_tools import register_added_tools
from mcp_servers._app import _FACTORIES, _Options
from shared.authcontext import generate_private_key_pem


async def list_catalog() -> dict[str, list[Tool]]:
    """Each system's tools, keyed by system name."""
    with tempfile.TemporaryDirectory() as unused:
        # The identity server refuses to build without a signing key; this one signs nothing.
        options = _Options(Path(unused), None, generate_private_key_pem().decode(), 60)
        listed: dict[str, list[Tool]] = {}
        for system, factory in _FACTORIES.items():
            backend, server = factory(options)
            # The same tools the served system lists: its own and those added beside it (new-tool).
            register_added_tools(system, server, backend)
            listed[system] = list(await server.list_tools())
        return listed
