"""A specialist in a process of its own, so a test can ``kill -9`` it and start it again.

Run as ``python -m tests.agents.agent_child CONFIG.json``. The listening socket is inherited from
the test (``pass_fds``), so a restarted process answers on the same address. The process is a
client of the test stack's token service (its client credentials are in the config) and calls
the stack's real gateway.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import uvicorn

from agents import build_app
from shared.service_auth import service_auth
from shared.skills import SKILLS_DIR


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    sock = socket.socket(fileno=config["fd"])
    app = build_app(
        config["agent"],
        public_url=config["public_url"],
        gateway_mcp_url=config["gateway_url"],
        auth=service_auth(config["token_url"], config["agent"], config["client_secret"]),
        data_dir=Path(config["data_dir"]),
        skills_dir=SKILLS_DIR,
        database_url=config.get("database_url"),
    )
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


if __name__ == "__main__":
    main(sys.argv[1])
