"""``switchboard new-agent``: scaffold a specialist (A2A agent, its first skill, a test) in one command.

The new agent is started by ``switchboard up`` (agent folders are discovered), publishes an
AgentCard built from its SKILL.md, and the supervisor routes to it from the card's examples:
no other file changes. Its skill calls no tools until the developer adds them (and a policy
grant for them in ``gateway/policies/``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from shared.errors import InvalidRequest

_NAME = re.compile(r"^[a-z][a-z0-9]*$")
_SKILL = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

_INIT = '''"""The {name} specialist: {description}"""

from agents.{name}.{module} import {function}
from agents.runtime import SkillTable

DESCRIPTION = {description!r}


def create() -> SkillTable:
    return SkillTable({{{skill!r}: {function}}})
'''

_PROCEDURE = '''"""``{skill}``: {skill_description}"""

from __future__ import annotations

from agents.runtime import Reply, Turn


async def {function}(turn: Turn) -> Reply:
    """One customer turn of {skill}. Every side effect must be ``await turn.call("<system>.<tool>", ...)``."""
    return turn.reply(
        {first_reply!r},
        "completed",
        summary="{skill} answered",
    )
'''

_SKILL_MD = """---
name: {skill}
description: {skill_description}
metadata:
  customer_label: "{label}"
  agent: {name}
  version: "1.0"
  tags: {tags}
---

# {title}

## Procedure
1. Read what the customer asks for.
2. Answer with what this skill knows; act only through governed tool calls.

## Examples
{examples}

## Test scenarios
- A customer asking "{first_example}" is routed to {name} / {skill}.
"""

_TEST = '''"""The scaffolded {name} specialist answers its skill over A2A."""

from __future__ import annotations

from shared.skills import load_skills


def test_{name}_skill_is_declared() -> None:
    skills = load_skills(agent={name!r})
    assert [s.name for s in skills] == [{skill!r}]
    assert len(skills[0].examples) >= 3
'''


def scaffold(
    root: Path,
    name: str,
    skill: str,
    description: str,
    skill_description: str,
    examples: list[str],
    requires_verified_identity: bool,
) -> list[Path]:
    """Write the agent package, its skill and a test; refuses to overwrite anything."""
    if not _NAME.match(name):
        raise InvalidRequest(f"agent name {name!r} must be lowercase letters and digits, starting with a letter")
    if not _SKILL.match(skill):
        raise InvalidRequest(f"skill name {skill!r} must be lowercase words joined by hyphens")
    if len(examples) < 3:
        raise InvalidRequest(
            "give at least three --example phrasings: routing learns the skill from them",
            hint='e.g. --example "will my phone work in Spain"',
        )
    module = skill.replace("-", "_")
    function = module
    files = {
        root / "agents" / name / "__init__.py": _INIT.format(
            name=name, module=module, function=function, description=description, skill=skill
        ),
        root / "agents" / name / f"{module}.py": _PROCEDURE.format(
            skill=skill,
            skill_description=skill_description,
            function=function,
            first_reply=f"{description} (This is the {name} specialist; its procedure is still to be written.)",
        ),
        root / "skills" / skill / "SKILL.md": _SKILL_MD.format(
            skill=skill,
            skill_description=skill_description,
            name=name,
            tags="requires:verified-identity" if requires_verified_identity else name,
            title=skill.replace("-", " ").capitalize(),
            label=skill.replace("-", " "),
            examples="\n".join(f"- {e}" for e in examples),
            first_example=examples[0],
        ),
        root / "tests" / "agents" / f"test_{name}_scaffold.py": _TEST.format(name=name, skill=skill),
    }
    existing = [p for p in files if p.exists()]
    if existing:
        raise InvalidRequest(f"{existing[0]} already exists; nothing was written", hint="pick another name")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)


def cmd_new_agent(args: argparse.Namespace) -> int:
    written = scaffold(
        Path(args.root),
        args.name,
        args.skill,
        args.description,
        args.skill_description or args.description,
        args.example,
        args.requires_verified_identity,
    )
    for path in written:
        print(f"created {path}")
    print(
        f"Next: write the procedure in agents/{args.name}/, grant its tools in gateway/policies/, "
        "then `switchboard up` — the supervisor learns the new skill from its AgentCard."
    )
    sys.stdout.flush()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("new-agent", help="scaffold a new specialist agent and its first skill")
    p.add_argument("name", help="agent name, e.g. travel")
    p.add_argument("--skill", required=True, help="first skill name, e.g. roaming-advice")
    p.add_argument("--description", required=True, help="one sentence: what this specialist does")
    p.add_argument("--skill-description", help="what the skill does (defaults to --description)")
    p.add_argument(
        "--example", action="append", default=[], help="a customer phrasing for routing (give at least three)"
    )
    p.add_argument(
        "--requires-verified-identity", action="store_true", help="the supervisor verifies the customer first"
    )
    p.add_argument("--root", default=".", help="source checkout to write into (default: the current folder)")
    p.set_defaults(func=cmd_new_agent)
