"""Heavy libraries load where they are used, not when a service's module is imported.

Each case imports one entry point in a fresh interpreter and lists the libraries it must not
have loaded: each costs a noticeable part of a second at every start of ``switchboard up``
(docs/deploy.md, ``benchmarks/startup.py``). A failure names the library; ``python -X importtime``
on the same import shows which module pulled it in.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.packaging.imports import ROOT

# Loaded only by the work that needs them: training the router (scikit-learn, SciPy), a configured
# model (litellm), a bus URL (NATS), an old store being upgraded (Alembic), PostgreSQL (its drivers),
# an export (vCon), an OTLP endpoint (OpenTelemetry's SDK, outside the specialists' LangGraph).
EVERYWHERE = ("sklearn", "scipy", "litellm", "nats", "alembic", "asyncpg", "psycopg", "vcon", "jinja2")

CASES = {
    # `switchboard up` up to the start of the process that forks its children (orchestrator.commands.up):
    # its own command's module, none of the others', and none of what the children need.
    "up until it starts the forking process": (
        "import orchestrator.cli\norchestrator.cli.build_parser(['up'])\nimport orchestrator.workers.forking",
        (
            *EVERYWHERE,
            "pydantic",
            "pydantic_settings",
            "yaml",
            "httpx",
            "orchestrator.launcher",
            "orchestrator.workers.parent",
            "orchestrator.commands.governance",
            "orchestrator.commands.eval",
        ),
    ),
    # `switchboard --help` lists every command from the index without importing any command's module.
    "the command line's help": (
        "import orchestrator.cli\norchestrator.cli.build_parser(['--help'])",
        ("pydantic", "orchestrator.commands.up", "orchestrator.commands.serve", "orchestrator.commands.audit"),
    ),
    # What `switchboard` loads to parse its command line, and what the parent of `up --workers`
    # adds to prepare the data directory and bind the sockets, before any child starts, and to
    # run the retention schedule after (tests/e2e/test_up_workers.py watches a running parent).
    "the command line and the parent of up": (
        "import orchestrator.cli, orchestrator.launcher, orchestrator.workers, mcp_servers.dataset\n"
        "import orchestrator.commands.up, orchestrator.retention\n"
        "orchestrator.cli.build_parser()",
        (
            *EVERYWHERE,
            "sqlalchemy",
            "httpx",
            "httpx2",
            "uvicorn",
            "joserfc",
            "mcp",
            "mcp_types",
            "cedarpy",
            "langgraph",
            "a2a",
            "numpy",
        ),
    ),
    # Its A2A front loads a2a-sdk's server (and with it SQLAlchemy) after start-up (orchestrator.front_later).
    "the orchestrator": (
        "import orchestrator.api",
        (*EVERYWHERE, "langgraph", "mcp", "cedarpy", "tokenizers", "a2a.server", "sqlalchemy"),
    ),
    # Neither calls an A2A agent: a2a-sdk stays out (shared.service_auth.a2a_client is apart).
    "the gateway": ("import gateway.app", (*EVERYWHERE, "sqlalchemy", "langgraph", "a2a", "numpy")),
    "the systems": (
        "import mcp_servers._app, token_service",
        (*EVERYWHERE, "sqlalchemy", "langgraph", "a2a", "cedarpy"),
    ),
    "the specialists": ("import agents.runtime.app", (*EVERYWHERE, "cedarpy", "numpy", "tokenizers")),
    # What the process that forks the children of `up --workers` imports for all of them: only what
    # two or more kinds of child share (orchestrator.workers.zygote), nothing one alone needs.
    "the zygote of up --workers": (
        "from orchestrator.workers.zygote import preload\npreload()",
        (*EVERYWHERE, "sqlalchemy", "langgraph", "cedarpy", "numpy", "tokenizers", "a2a.server", "rich", "pygments"),
    ),
    # A process that serves (a child of `up`, `serve`) runs on one HTTP stack (shared.http_stack), so
    # httpx's command-line libraries, which it imports whenever they are installed, stay out.
    "a service process": (
        "from shared.http_stack import use_one_http_stack\n"
        "assert use_one_http_stack()\n"
        "import orchestrator.workers.child, shared.serving, agents.runtime.app, orchestrator.api, gateway.app\n"
        "import mcp_servers._app, token_service, orchestrator.signals, orchestrator.a2a_front",
        (*EVERYWHERE, "rich", "pygments"),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_entry_point_leaves_heavy_libraries_unloaded(case: str) -> None:
    code, absent = CASES[case]
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {absent!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    assert json.loads(out.splitlines()[-1]) == [], f"{case} loaded these at import"
