"""``switchboard new-agent``: scaffold a specialist (A2A agent, its first skill graph, a test) in one command.

The new agent is started by ``switchboard up`` (agent folders are discovered), publishes an
AgentCard built from its SKILL.md, and the supervisor routes to it from the card's examples:
no other file changes. Its skill calls no tools until the developer adds them (and a policy
grant for them in ``gateway/policies/``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from shared.errors import InvalidRequest

_NAME = re.compile(r"^[a-z][a-z0-9]*$")
_SKILL = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

_INIT = '''"""The {name} specialist: {doc}"""

{imports}

DESCRIPTION = {description}


def create() -> SkillGraphs:
    return SkillGraphs({{{skill}: {module}.graph()}})
'''

_PROCEDURE = '''"""``{skill}``: {skill_description}

    {shape}

Each node is a small step: ``turn_of(runtime)`` is this request's turn, ``await turn.call(
"<system>.<tool>", ...)`` is the only way to read or act (through the governance gateway),
``ask(reply)`` waits for the customer (the task goes ``input-required``) and ``finish(reply)`` ends
the task. Whatever the skill must remember between turns goes in the state, never in a reply.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime.graph import SkillContext, SkillState, finish, turn_of{steps_import}


class {state_class}(SkillState, total=False):
    """What the skill keeps between the customer's turns (on the server, with the A2A task)."""


async def answer(state: {state_class}, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    return finish(
        turn.reply(
            {first_reply},
            "completed",
            summary="{skill} answered",
        )
    )


def graph() -> StateGraph[{state_class}, SkillContext, Any, Any]:
    g = StateGraph({state_class}, context_schema=SkillContext)
    g.add_node("answer", answer)
{entry}
    return g
'''

_ENTRY_OPEN = '    g.set_entry_point("answer")'
_ENTRY_VERIFIED = """    g.add_node(VERIFY_NODE, verified_first("email", then="answer"))
    g.set_entry_point(VERIFY_NODE)"""

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

_TEST = '''"""The scaffolded {name} specialist: its skill is declared and its graph runs."""

from __future__ import annotations

from langgraph.checkpoint.memory import InMemorySaver

{imports}
from shared.envelope import ContextEnvelope
from shared.handoff import HandoffRequest
from shared.skills import load_skills


def test_{name}_skill_is_declared() -> None:
    skills = load_skills(agent="{name}")
    assert [s.name for s in skills] == ["{skill}"]
    assert len(skills[0].examples) >= 3


async def test_{module}_graph_runs_one_task() -> None:
    graphs = create()
    graphs.compile(InMemorySaver())
    turn = Turn(
        text={first_example},
        envelope=ContextEnvelope(conversation_id="conv-test"),
        handoff=HandoffRequest(skill="{skill}"),
        gateway=GatewayClient("http://127.0.0.1:9/mcp", token="unused"),
        task_id="task-1",
    )
    outcome = await graphs.run("{skill}", turn, thread="task-1", context_id="conv-test", resume=False)
    {assertion}
'''

_ASSERT_OPEN = 'assert outcome.wait is None and outcome.reply.result.status == "completed"'
_ASSERT_VERIFIED = 'assert outcome.wait == "auth"  # an unverified customer: the task waits for verification'


def _quoted(text: str) -> str:
    """A Python string literal in the project's style (double quotes)."""
    return json.dumps(text, ensure_ascii=False)


def _sorted_imports(*lines: str) -> str:
    return "\n".join(sorted(lines))


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
    state_class = "".join(w.capitalize() for w in skill.split("-")) + "State"
    files = {
        root / "agents" / name / "__init__.py": _INIT.format(
            name=name,
            module=module,
            doc=description,
            description=_quoted(description),
            skill=_quoted(skill),
            imports=_sorted_imports(f"from agents.{name} import {module}", "from agents.runtime import SkillGraphs"),
        ),
        root / "agents" / name / f"{module}.py": _PROCEDURE.format(
            skill=skill,
            skill_description=skill_description,
            state_class=state_class,
            shape="verify -> answer" if requires_verified_identity else "answer",
            entry=_ENTRY_VERIFIED if requires_verified_identity else _ENTRY_OPEN,
            steps_import="\nfrom agents.runtime.steps import VERIFY_NODE, verified_first"
            if requires_verified_identity
            else "",
            first_reply=_quoted(
                f"{description} (This is the {name} specialist; its procedure is still to be written.)"
            ),
        ),
        root / "skills" / skill / "SKILL.md": _SKILL_MD.format(
            skill=skill,
            skill_description=skill_description,
            name=name,
            tags="requires:verified-identity" if requires_verified_identity else name,
            title=skill.replace("-", " ").capitalize(),
            label=skill.replace("-", " "),
            examples="\n".join(f"- {e}" for e in examples),
            first_example=_quoted(examples[0]),
            imports=_sorted_imports(
                f"from agents.{name} import create", "from agents.runtime import GatewayClient, Turn"
            ),
        ),
        root / "tests" / "agents" / f"test_{name}_scaffold.py": _TEST.format(
            name=name,
            skill=skill,
            module=module,
            first_example=_quoted(examples[0]),
            imports=_sorted_imports(
                f"from agents.{name} import create", "from agents.runtime import GatewayClient, Turn"
            ),
            assertion=_ASSERT_VERIFIED if requires_verified_identity else _ASSERT_OPEN,
        ),
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
        f"Next: add the skill's steps as nodes of its graph in agents/{args.name}/, "
        "grant its tools in gateway/policies/, then `switchboard up` — "
        "the supervisor learns the new skill from its AgentCard."
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
