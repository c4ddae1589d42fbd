"""The ``switchboard`` subcommands: one module per command group, each with ``register(subparsers)``.

``COMMANDS`` is the index the command line reads without importing any command module: which
module defines each command, and the line ``switchboard --help`` shows for it. A run imports
only the module of the command it was given, so ``switchboard up`` starts its processes without
first loading what the other commands need (settings, skills, HTTP clients). A new command is
a row here and an ``add_command`` call in its module's ``register``.
"""

from __future__ import annotations

import argparse
from typing import NamedTuple


class Command(NamedTuple):
    module: str
    """The module in this package whose ``register`` adds the command."""
    help: str


COMMANDS: dict[str, Command] = {
    "audit": Command("audit", "work with the tamper-evident audit log"),
    "catalog": Command("catalog", "regenerate or check the files derived from skills, tools and policies"),
    "chat": Command("chat", "talk to Switchboard as a customer in the terminal"),
    "outbox": Command("data", "show one-time codes the reference identity system 'sent'"),
    "customers": Command("data", "list reference customers to try, with their keys"),
    "staff": Command("data", "list staff accounts (name, role, sign-in token) for the consoles"),
    "eval": Command("eval", "evaluate the agents with simulated customers and scorecards"),
    "export": Command("export", "export conversations in open formats"),
    "approvals": Command("governance", "list, approve or reject calls waiting for a human"),
    "kill-switch": Command("governance", "stop every tool call (or one agent's, or one tool's) at once"),
    "policy": Command("governance", "list policies and their modes, set one's mode, or check a call"),
    "fraud-hold": Command("governance", "pause (or resume) payment actions for one customer"),
    "retention": Command("governance", "purge what outlived its retention (SWITCHBOARD_RETENTION_*_DAYS)"),
    "changes": Command("governance", "weakened controls: list them, or approve/reject a colleague's request"),
    "erase-customer": Command(
        "governance",
        "erase one customer's personal data in every store (the audit chain keeps only pseudonymous references)",
    ),
    "subject-access": Command(
        "governance", "export everything held about one customer (archive + readable summary), audited"
    ),
    "new-agent": Command("new_agent", "scaffold a new specialist agent and its first skill"),
    "new-skill": Command("new_skill", "scaffold a skill for an agent written by new-agent"),
    "new-tool": Command("new_tool", "scaffold a governed MCP tool on a reference system (model, table, revision)"),
    "prepare": Command(
        "prepare", "create or upgrade tables, seed reference data and create credentials; safe to run again"
    ),
    "route": Command("route", "show how the offline brain routes messages (no services needed)"),
    "serve": Command("serve", "run one service in this process (scale-out: one per container)"),
    "skill": Command("skill", "work on one skill: play its scenarios against a fresh stack"),
    "clients": Command("tokens", "register, list or revoke clients of the token service (external agents)"),
    "tokens": Command("tokens", "the token service's signing keys"),
    "up": Command("up", "start every service on loopback (embedded default) until Ctrl+C"),
}


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str) -> argparse.ArgumentParser:
    """The parser of command ``name``, with its line from ``COMMANDS`` as its help and description."""
    text = COMMANDS[name].help
    return sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
