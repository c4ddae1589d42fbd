"""One HTTP client stack per process: ``httpx`` resolves to ``httpx2``.

The MCP SDK talks over httpx2, a2a-sdk (and Switchboard's own older call sites) over httpx, so a
process loaded both stacks. httpx also imports its command-line client's libraries (rich,
Pygments) whenever they are installed, which every start of a service paid for nothing. httpx2's
``alias_httpx`` (its documented switch for applications moving over) makes ``import httpx``
give httpx2 process-wide, so one stack serves every caller and neither cost is paid.

Only a program's entry point calls ``use_one_http_stack``, before anything imports httpx: a
library must never switch it for its host process.
"""

from __future__ import annotations

import sys


def use_one_http_stack() -> bool:
    """Make ``import httpx`` (and ``httpcore``) resolve to httpx2 from here on; False if httpx was
    already imported (an embedding program, a test run), where the process keeps both stacks."""
    if "httpx" in sys.modules or "httpcore" in sys.modules:
        return False
    import httpx2

    httpx2.alias_httpx()
    return True
