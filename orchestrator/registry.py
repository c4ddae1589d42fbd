"""What exists, read from where it is declared: agents and skills from ``SKILL.md``, tools from the
MCP servers' own definitions, grants from the Cedar policies.

Tests, the action-catalog doc and ``compose.yaml`` derive their lists from here, so adding an
agent, a skill, a tool or a grant is one change in one place (``switchboard catalog write``
regenerates the derived files; ``switchboard catalog check`` says when they are stale).
"""

from __future__ import annotations

import asyncio
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from mcp_types import Tool

from gateway.catalog import Catalog
from gateway.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine
from mcp_servers._added_tools import register_added_tools
from shared.settings import AGENTS, SYSTEMS
from shared.skills import SKILLS_DIR, Skill, load_skills
from shared.tools import INTERNAL_META_KEY, SUBJECT_META_KEY, catalog_name


@dataclass(frozen=True)
class ToolEntry:
    """One tool of the action catalog, as its MCP server declares it."""

    name: str
    system: str
    tool: Tool

    @property
    def read_only(self) -> bool:
        return bool(self.tool.annotations and self.tool.annotations.read_only_hint)

    @property
    def subject(self) -> str | None:
        raw = (self.tool.meta or {}).get(SUBJECT_META_KEY)
        return str(raw["arg"]) if isinstance(raw, dict) and "arg" in raw else None

    @property
    def internal(self) -> bool:
        return bool((self.tool.meta or {}).get(INTERNAL_META_KEY))


def agents(skills_dir: Path = SKILLS_DIR) -> list[str]:
    """Every agent that owns a skill: the built-in five in their usual order, then the rest sorted."""
    owners = {s.agent for s in load_skills(skills_dir)}
    return [a for a in AGENTS if a in owners] + sorted(owners - set(AGENTS))


def skills(skills_dir: Path = SKILLS_DIR) -> list[Skill]:
    return load_skills(skills_dir)


async def _system_tools(system: str) -> list[Tool]:
    # Registering a tool never touches the backend, so a server built without one lists its tools.
    module = importlib.import_module(f"mcp_servers.{system}.server")
    server = module.build_server(cast(Any, None))
    register_added_tools(system, server, None)  # what ``switchboard new-tool`` added is served too
    return list(await server.list_tools())


def tools() -> dict[str, ToolEntry]:
    """Every tool of every system by catalog name (``billing.get_account``), in system order."""

    async def gather() -> list[list[Tool]]:
        return list(await asyncio.gather(*(_system_tools(s) for s in SYSTEMS)))

    listed = asyncio.run(gather())
    return {
        catalog_name(system, t.name): ToolEntry(catalog_name(system, t.name), system, t)
        for system, system_tools in zip(SYSTEMS, listed, strict=True)
        for t in system_tools
    }


def grants(
    agent_names: list[str] | None = None,
    policy_dir: Path = DEFAULT_POLICY_DIR,
    catalog: dict[str, ToolEntry] | None = None,
) -> dict[str, list[str]]:
    """The tools each agent may call, as the gateway's own catalog computes its ``tools/list``."""
    names = agent_names if agent_names is not None else agents()
    entries = catalog if catalog is not None else tools()
    gateway_catalog = Catalog(names, CedarPolicyEngine.load(policy_dir))
    for system in SYSTEMS:
        gateway_catalog.set_system(system, [e.tool for e in entries.values() if e.system == system])
    listed: dict[str, list[str]] = {}
    by_upstream = {(e.system, e.tool.name): e.name for e in entries.values()}
    for agent in names:
        visible = {id(t) for t in gateway_catalog.listing(agent).tools}
        listed[agent] = [
            by_upstream[(c.system, c.upstream_name)] for c in gateway_catalog.tools.values() if id(c.tool) in visible
        ]
    return listed
