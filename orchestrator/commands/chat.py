"""``switchboard chat``: a terminal conversation as a customer (the conversation is in ``_chat``).

Every command registers whenever ``switchboard`` starts; the HTTP client the chat needs is loaded
only when the chat runs, so ``switchboard up`` does not pay for it.
"""

from __future__ import annotations

import argparse

from orchestrator.commands import add_command
from orchestrator.commands._common import add_common


def cmd_chat(args: argparse.Namespace) -> int:
    from orchestrator.commands._chat import run_chat

    return run_chat(args)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "chat")
    add_common(p)
    p.add_argument("--url", help="orchestrator base URL (default: the embedded layout)")
    p.add_argument("--channel", default="chat", choices=["chat", "voice", "email"])
    p.set_defaults(func=cmd_chat)
