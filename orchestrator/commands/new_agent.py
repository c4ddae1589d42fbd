"""``switchboard new-agent``: a specialist (A2A agent) with its first skill, in one command.

The new agent is started by ``switchboard up`` (agent folders are discovered), publishes an
AgentCard built from its SKILL.md, and the supervisor routes to it from the card's examples and
the routing rows: no other file changes. Its skill, grant, scenario and test are those of
``switchboard new-skill``; later skills are added with that command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchestrator.commands import _skill_files as files
from orchestrator.commands import add_command
from orchestrator.commands.new_skill import (
    add_skill_arguments,
    check_not_labelled_elsewhere,
    refresh_derived,
    skill_plan,
    spec_from,
    write_files,
)
from shared.errors import InvalidRequest
from shared.skills import load_skill


def scaffold(root: Path, spec: files.SkillSpec, description: str) -> list[Path]:
    """Write the agent package and its first skill; refuses to overwrite anything."""
    package = root / "agents" / spec.agent
    if package.exists():
        raise InvalidRequest(f"{package} already exists; nothing was written", hint="pick another name")
    check_not_labelled_elsewhere(root, spec)
    plan = skill_plan(root, spec)
    plan[package / "__init__.py"] = files.agent_init(spec.agent, description, [spec.skill])
    written = write_files(plan)
    load_skill(root / "skills" / spec.skill / "SKILL.md")
    refresh_derived(root)
    return written


def cmd_new_agent(args: argparse.Namespace) -> int:
    if not args.description.strip():
        raise InvalidRequest("the description is empty", hint="one sentence: what this specialist does")
    spec = spec_from(args, args.name, args.skill, args.skill_description or args.description)
    for path in scaffold(Path(args.root), spec, " ".join(args.description.split())):
        print(f"created {path}")
    print(
        f"Next: `switchboard skill test {spec.skill}`, write the skill's steps in "
        f"agents/{spec.agent}/{spec.module}.py, then `switchboard up`: "
        "the supervisor learns the new skill from its AgentCard."
    )
    sys.stdout.flush()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "new-agent")
    p.add_argument("name", help="agent name, e.g. retention")
    p.add_argument("--skill", required=True, help="first skill name, e.g. retention-offer")
    p.add_argument("--description", required=True, help="what this specialist does (any text)")
    p.add_argument("--skill-description", help="what the skill does (defaults to --description)")
    add_skill_arguments(p)
    p.set_defaults(func=cmd_new_agent)
