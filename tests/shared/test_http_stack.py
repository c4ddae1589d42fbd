"""One HTTP client stack per service process (shared/http_stack.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.packaging.imports import ROOT


def _probe(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    result: list[str] = json.loads(out.splitlines()[-1])
    return result


def test_httpx_callers_get_httpx2_once_switched() -> None:
    # a2a-sdk's client and server import httpx: after the switch they share the MCP SDK's httpx2.
    code = (
        "import json, sys\n"
        "from shared.http_stack import use_one_http_stack\n"
        "switched = use_one_http_stack()\n"
        "import httpx, httpx2, a2a.client, a2a.server.request_handlers\n"
        "print(json.dumps([str(switched), httpx.AsyncClient.__module__.split('.')[0], str(httpx is httpx2)]))\n"
    )
    assert _probe(code) == ["True", "httpx2", "True"]


def test_a_process_that_already_imported_httpx_keeps_it() -> None:
    code = (
        "import json, httpx\n"
        "from shared.http_stack import use_one_http_stack\n"
        "switched = use_one_http_stack()\n"
        "import httpx as again\n"
        "print(json.dumps([str(switched), again.__name__]))\n"
    )
    assert _probe(code) == ["False", "httpx"]
