"""The gateway's tool catalog: every upstream tool re-exposed as ``<system>.<tool>``.

Rebuilt only when an upstream is (re)listed, never per call: the per-agent ``tools/list``
answers are computed here from policy at that moment.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mcp_types import ListToolsResult, Tool
from pydantic import ValidationError

from gateway.batch import BATCH_TOOL
from gateway.policy_interface import PolicyEngine, PolicyRequest, ToolFacts
from shared.errors import ConfigurationError
from shared.tools import (
    DEFAULT_PURPOSE,
    FACTS_META_KEY,
    INTERNAL_META_KEY,
    PURPOSE_META_KEY,
    SUBJECT_META_KEY,
    FactSource,
    ToolSubject,
    catalog_name,
)

# Purposes of systems whose tools do not declare one yet: every payments action is a
# payment, whatever its _meta says nothing about. A declared purpose always wins.
_SYSTEM_PURPOSE = {"payments": "payments"}

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CatalogTool:
    name: str
    system: str
    upstream_name: str
    tool: Tool
    subject: ToolSubject | None
    purpose: str = DEFAULT_PURPOSE
    internal: bool = False
    fact_source: FactSource | None = None
    """The system-of-record read whose answer policy needs before this tool may run."""
    facts: ToolFacts = field(init=False)
    """What policy knows of the tool, derived once here: a governed call reads it several times,
    and deriving it walks the input schema."""

    def __post_init__(self) -> None:
        read_only = bool(self.tool.annotations and self.tool.annotations.read_only_hint)
        facts = ToolFacts.of(
            self.name,
            self.system,
            self.tool.input_schema,
            read_only=read_only,
            customer_scoped=self.subject is not None,
            purpose=self.purpose,
            internal=self.internal,
        )
        object.__setattr__(self, "facts", facts)  # frozen: set once, at construction


def _subject(tool: Tool, system: str) -> ToolSubject | None:
    raw = (tool.meta or {}).get(SUBJECT_META_KEY)
    if raw is None:
        return None
    try:
        return ToolSubject.model_validate(raw)
    except ValidationError:
        # Fail closed: a tool whose subject cannot be read is treated as naming a customer
        # through an argument no call can match, so every call to it is denied.
        logger.error("%s.%s declares an unreadable %s: %r", system, tool.name, SUBJECT_META_KEY, raw)
        return ToolSubject(arg="\x00unreadable-subject", kind="\x00")


def _fact_source(tool: Tool, system: str) -> FactSource | None:
    raw = (tool.meta or {}).get(FACTS_META_KEY)
    if raw is None:
        return None
    try:
        return FactSource.model_validate(raw)
    except ValidationError:
        # Fail closed: facts that cannot be read leave policy without them, which holds the call.
        logger.error("%s.%s declares an unreadable %s: %r", system, tool.name, FACTS_META_KEY, raw)
        return FactSource(tool="\x00unreadable-facts", args=[])


def _catalog_tool(system: str, tool: Tool) -> CatalogTool:
    name = catalog_name(system, tool.name)
    subject = _subject(tool, system)
    declared = (tool.meta or {}).get(PURPOSE_META_KEY)
    purpose = declared if isinstance(declared, str) and declared else _SYSTEM_PURPOSE.get(system, DEFAULT_PURPOSE)
    return CatalogTool(
        name=name,
        system=system,
        upstream_name=tool.name,
        tool=tool.model_copy(update={"name": name}),
        subject=subject,
        purpose=purpose,
        # Anything but an explicit false counts as internal: a typo must not open the tool.
        internal=(tool.meta or {}).get(INTERNAL_META_KEY, False) is not False,
        fact_source=_fact_source(tool, system),
    )


def _reads(tool: Tool) -> bool:
    return tool.annotations is not None and tool.annotations.read_only_hint is True


class Catalog:
    """Tools by catalog name, and what each agent may see (with ``gateway.read_batch`` for one who may read)."""

    def __init__(self, agents: Iterable[str], policy: PolicyEngine) -> None:
        self._agents = tuple(agents)
        self._policy = policy
        self._by_system: dict[str, list[CatalogTool]] = {}
        self.tools: dict[str, CatalogTool] = {}
        self._listings: dict[str, ListToolsResult] | None = {a: ListToolsResult(tools=[]) for a in self._agents}

    def set_system(self, system: str, tools: Iterable[Tool]) -> None:
        """Replace one system's tools and recompute the entity graph; every agent's listing is
        recomputed when next asked for (at start-up the systems list one after another, and only
        the listings after the last one are ever read)."""
        self._by_system[system] = [_catalog_tool(system, t) for t in tools]
        self.tools = {t.name: t for ts in self._by_system.values() for t in ts}
        self._policy.set_tools(t.facts for t in self.tools.values())
        self._listings = None

    def _current(self) -> dict[str, ListToolsResult]:
        if self._listings is None:
            self._listings = self.listings(self._policy)
        return self._listings

    def listings(self, policy: PolicyEngine) -> dict[str, ListToolsResult]:
        """What each agent sees under ``policy`` (the current one, or a reloaded one before it is used),
        with ``gateway.read_batch`` for an agent who may read."""
        listings = {
            agent: [
                t.tool
                for t in self.tools.values()
                if policy.decide(PolicyRequest(agent=agent, tool=t.name, action="list")).allowed
            ]
            for agent in self._agents
        }
        return {
            agent: ListToolsResult(tools=[*tools, BATCH_TOOL] if any(_reads(t) for t in tools) else tools)
            for agent, tools in listings.items()
        }

    def use_listings(self, listings: dict[str, ListToolsResult]) -> None:
        """After a policy reload: the listings computed (and checked) under the new policies."""
        self._listings = listings

    def check_internal_tools(self, listings: dict[str, ListToolsResult] | None = None) -> None:
        """The start-up lint: a tool marked internal that any agent could see or call is a policy bug."""
        seen = listings if listings is not None else self._current()
        for tool in self.tools.values():
            if not tool.internal:
                continue
            granted = [a for a in self._agents if tool.tool in seen.get(a, ListToolsResult(tools=[])).tools]
            if granted:
                raise ConfigurationError(
                    f"{tool.name} is marked internal ({INTERNAL_META_KEY}) but policy grants it to "
                    f"{', '.join(sorted(granted))}",
                    hint="no agent may call an internal tool: narrow the grant or keep guard.internal-tools",
                )

    def listing(self, agent: str) -> ListToolsResult:
        return self._current().get(agent) or ListToolsResult(tools=[])

    def input_schema(self, name: str) -> Mapping[str, Any] | None:
        tool = self.tools.get(name)
        return tool.tool.input_schema if tool else None
