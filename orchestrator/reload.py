"""``switchboard up --reload``: skills and policies follow their files while the stack runs.

A change is checked before anything running is touched. Policies are reloaded by the gateway
itself (``POST /governance/policies/reload``), which keeps the set in force when the new files
fail validation; the reason is logged here. Changed skills restart the agents that own them
and then the orchestrator, whose router learns from the agents' cards; skills that do not
load, or an agent that would not start with them, leave everything running as it was. A new
or changed skill whose examples overlap another skill's is logged as a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from orchestrator.routing.overlap import overlap_warnings
from shared.errors import ConfigurationError
from shared.skill_messages import skill_messages
from shared.skills import Skill, load_skills

if TYPE_CHECKING:
    from orchestrator.launcher import Stack

log = logging.getLogger("switchboard.reload")

POLICY_PATTERNS = ("*.cedar", "*.cedarschema")
SKILL_PATTERN = "*/SKILL.md"


class Services(Protocol):
    """The running services a skill change restarts (the embedded ``Stack``, or an in-memory record)."""

    def running(self) -> set[str]: ...

    def check(self, name: str) -> None:
        """Build the service's app as a restart would; raises ConfigurationError when it would not start."""
        ...

    async def restart(self, name: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Report:
    """What one reload did: ``ok`` is False when the change was refused and the old set stays."""

    what: str
    ok: bool
    message: str
    warnings: tuple[str, ...] = ()


class Reloader:
    """Reacts to changed files under the skills and policy folders."""

    def __init__(
        self,
        *,
        skills_dir: Path,
        policy_dir: Path,
        services: Services,
        reload_policies: Callable[[], Awaitable[str]],
    ) -> None:
        """``reload_policies`` asks the gateway to reload and returns its answer; it raises
        ConfigurationError with the gateway's reason when the new files were refused."""
        self.skills_dir = skills_dir
        self.policy_dir = policy_dir
        self._services = services
        self._reload_policies = reload_policies
        self._skills = {s.name: s for s in load_skills(skills_dir)}

    async def changed(self, paths: Iterable[Path]) -> list[Report]:
        """Reload whatever the changed files belong to (policies first: skills may need new grants)."""
        paths = [p.resolve() for p in paths]
        reports = []
        if any(p.is_relative_to(self.policy_dir.resolve()) for p in paths):
            reports.append(await self.policies())
        if any(p.is_relative_to(self.skills_dir.resolve()) for p in paths):
            reports.append(await self.skills())
        return reports

    async def policies(self) -> Report:
        try:
            answer = await self._reload_policies()
        except ConfigurationError as exc:
            log.warning("policies not reloaded: %s", exc.message)
            return Report("policies", False, exc.message)
        log.info("policies reloaded: %s", answer)
        return Report("policies", True, answer)

    async def skills(self) -> Report:
        try:
            fresh = await asyncio.to_thread(_load, self.skills_dir)
        except ConfigurationError as exc:
            message = f"skills not reloaded, the running skills stay: {exc.message}"
            log.warning("%s", message)
            return Report("skills", False, message)
        old = self._skills
        changed = {n for n in fresh.keys() | old.keys() if fresh.get(n) != old.get(n)}
        if not changed:
            return Report("skills", True, "no skill changed")
        warnings = tuple(await asyncio.to_thread(_overlaps, list(fresh.values()), changed & fresh.keys()))
        for warning in warnings:
            log.warning("%s", warning)
        agents = {s.agent for n in changed for s in (fresh.get(n), old.get(n)) if s is not None}
        running = self._services.running()
        absent = sorted(a for a in agents if f"agent:{a}" not in running)
        if absent:
            log.warning("agent(s) %s are not running: restart switchboard up to start them", ", ".join(absent))
        restart = [f"agent:{a}" for a in sorted(agents) if f"agent:{a}" in running] + ["orchestrator"]
        try:
            for name in restart:
                self._services.check(name)
        except ConfigurationError as exc:
            message = f"skills not reloaded, the running skills stay: {exc.message}"
            log.warning("%s", message)
            return Report("skills", False, message, warnings)
        for name in restart:
            await self._services.restart(name)
        self._skills = fresh
        message = f"skills reloaded ({', '.join(sorted(changed))}); restarted {', '.join(restart)}"
        log.info("%s", message)
        return Report("skills", True, message, warnings)

    def snapshot(self) -> dict[Path, tuple[int, int]]:
        """Modification time and size of every watched file (blocking: run it off the loop)."""
        files = [p for pattern in POLICY_PATTERNS for p in self.policy_dir.glob(pattern)]
        files += list(self.skills_dir.glob(SKILL_PATTERN))
        found = {}
        for path in files:
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                found[path] = (stat.st_mtime_ns, stat.st_size)
        return found

    async def watch(self, stop: asyncio.Event, *, interval: float = 1.0) -> None:
        """Poll the folders until ``stop`` is set; each change is handed to ``changed``."""
        before = await asyncio.to_thread(self.snapshot)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
                return
            now = await asyncio.to_thread(self.snapshot)
            touched = {p for p in before.keys() | now.keys() if before.get(p) != now.get(p)}
            before = now
            if touched:
                await self.changed(touched)


def _load(skills_dir: Path) -> dict[str, Skill]:
    skills = load_skills(skills_dir)
    for skill in skills:
        skill_messages(skill)  # a wrong Messages section fails here, not in a restarted agent
    return {s.name: s for s in skills}


def _overlaps(skills: list[Skill], changed: set[str]) -> list[str]:
    return overlap_warnings(skills, changed)


class StackServices:
    """The embedded stack's services, restarted on the ports they had."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack

    def running(self) -> set[str]:
        return {"orchestrator", *(f"agent:{a}" for a in self._stack.agents)}

    def check(self, name: str) -> None:
        self._stack.app_for(name)

    async def restart(self, name: str) -> None:
        await self._stack.stop_service(name)
        await self._stack.restart_service(name)


RELOAD_WEAKENING_MINUTES = 60
"""How long a file change that weakens a protective policy lasts once a second person approves it."""


def gateway_policy_reload(gateway_url: str, staff_token: str) -> Callable[[], Awaitable[str]]:
    """Asks a running gateway to reload its policy files (the staff API, as a compliance officer would)."""
    import httpx

    async def reload() -> str:
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(
                gateway_url.rstrip("/") + "/governance/policies/reload",
                headers={"Authorization": f"Bearer {staff_token}"},
                # Used only if the files remove or weaken a protective policy: then it is a request
                # that a second compliance person approves (switchboard changes approve CHG-…).
                json={"minutes": RELOAD_WEAKENING_MINUTES, "reason": "policy files changed (switchboard up --reload)"},
            )
        data = response.json()
        if response.status_code >= 400:
            error = data.get("error", {})
            raise ConfigurationError(str(error.get("message", response.text)), hint=error.get("hint"))
        if response.status_code == 202:
            return f"not in force yet: {data['message']}"
        return f"{len(data['policies'])} policies in force"

    return reload
