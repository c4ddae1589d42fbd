"""One TLS context for every HTTP client a process makes.

Building a client with the default ``verify=True`` builds a new ``ssl.SSLContext`` and loads
the CA bundle into it: about 20 ms of CPU each time. The services make a few dozen clients while
they start (token fetches, key-set fetches, upstream sessions), so sharing one context, built
the same way the HTTP library builds its own, saves most of a second of start-up CPU.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def client_tls() -> ssl.SSLContext:
    """The CA-verifying context ``httpx`` would build for a client, built once per process."""
    return httpx.create_ssl_context()
