"""The files ``new-agent`` and ``new-skill`` write, rendered from what the developer typed.

Free text (descriptions, phrasings) never reaches a file unescaped: YAML goes through the YAML
dumper, Python through ASCII string literals, Cedar and docstrings carry only validated names.
So any description, with ": ", quotes, newlines or any script, gives files that load, and the
generated Python passes ruff and mypy --strict as written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.handoff import REQUIRES_VERIFIED_IDENTITY_TAG

if TYPE_CHECKING:
    from orchestrator.registry import ToolEntry

# Arguments a scaffolded node fills itself: the customer's keys come from the verified
# envelope, the conversation from the envelope, the idempotency key from the task and step.
_KEY_KINDS = ("customer_id", "email", "msisdn", "account_number")
_WIDTH = 120


@dataclass(frozen=True)
class SkillSpec:
    agent: str
    skill: str
    description: str
    label: str
    examples: list[str]
    routing: list[str]
    tools: list[ToolEntry]

    @property
    def module(self) -> str:
        return self.skill.replace("-", "_")

    @property
    def state_class(self) -> str:
        return "".join(w.capitalize() for w in self.skill.split("-")) + "State"


def _quoted(text: str) -> str:
    # ASCII only (ruff flags look-alike characters) and no escaped double quote, which ruff
    # format would turn into single quotes: the literal stays exactly as written.
    return json.dumps(text, ensure_ascii=True).replace('\\"', "\\x22")


def literal(text: str, room: int, indent: int = 0, width: int = 100) -> str:
    """A Python string literal for any text: one line when it fits in ``room``, else wrapped."""
    whole = _quoted(text)
    if len(whole) <= room:
        return whole
    # Break after a space where possible; a word longer than a line is cut where it must be.
    chunks = [""]
    for word in re.split(r"(?<= )", text):
        for char in word if len(_quoted(word)) > width else [word]:
            if chunks[-1] and len(_quoted(chunks[-1] + char)) > width:
                chunks.append("")
            chunks[-1] += char
    pad = " " * (indent + 4)
    body = "\n".join(pad + _quoted(c) for c in chunks)
    return "(\n" + body + "\n" + " " * indent + ")"


def _argument(entry: ToolEntry, name: str) -> str | None:
    """The expression a scaffolded node passes for one required argument, or None if only a person knows."""
    subject = (entry.tool.meta or {}).get("switchboard/subject")
    kind = subject.get("kind") if isinstance(subject, dict) and subject.get("arg") == name else None
    if kind in _KEY_KINDS:
        return f"keys.{kind}"
    if name == "conversation_id" or kind == "conversation":
        return "turn.envelope.conversation_id"
    return None


def call_plan(entry: ToolEntry) -> dict[str, str] | None:
    """Arguments for a call the scaffold can write, or None when the tool needs the developer's values."""
    schema = entry.tool.input_schema
    args: dict[str, str] = {}
    for name in schema.get("required", []):
        if name == "idempotency_key":
            continue
        expression = _argument(entry, name)
        if expression is None:
            return None
        args[name] = expression
    return args


def verified_keys(spec: SkillSpec) -> list[str]:
    kinds = []
    for entry in spec.tools:
        subject = (entry.tool.meta or {}).get("switchboard/subject")
        kind = subject.get("kind") if isinstance(subject, dict) else None
        if kind in _KEY_KINDS and kind not in kinds:
            kinds.append(str(kind))
    return kinds or ["customer_id"]


# A write in these systems changes money, a plan or who the customer is: a skill calling one runs
# its own steps every time (``metadata.deterministic``), never a model's choice of tools.
_EXACT_SYSTEMS = ("identity", "payments", "billing")


def deterministic(spec: SkillSpec) -> bool:
    return any(not e.read_only and e.system in _EXACT_SYSTEMS for e in spec.tools)


def skill_md(spec: SkillSpec) -> str:
    metadata: dict[str, str] = {
        "customer_label": spec.label,
        "agent": spec.agent,
        "version": "1.0",
        "tags": f"{REQUIRES_VERIFIED_IDENTITY_TAG}, {spec.agent}",
    }
    if deterministic(spec):
        metadata["deterministic"] = "true"
    front: dict[str, Any] = {"name": spec.skill, "description": spec.description, "metadata": metadata}
    dumped = _dump_yaml(front)
    steps = [
        " ".join(f"{i}. Call `{e.name}`: {e.tool.description or 'see docs/action-catalog.md'}".split())
        for i, e in enumerate(spec.tools, 1)
    ] or ["1. Answer from what the customer said; this skill calls no tools."]
    steps.append(f"{len(steps) + 1}. Tell the customer what was found, in plain words.")
    title = spec.skill.replace("-", " ").capitalize()
    examples = "\n".join(f"- {e}" for e in spec.examples)
    return (
        f"---\n{dumped}---\n\n# {title}\n\n## Procedure\n"
        + "\n".join(steps)
        + f"\n\n## Examples\n{examples}\n\n## Test scenarios\n"
        + f"- A verified customer asking for this is answered by {spec.agent} after the gateway allowed each call "
        + f"(evals/scenarios/{spec.agent}/{spec.skill}.yaml).\n"
    )


def routing_source(spec: SkillSpec) -> str:
    return "".join(f"{line}\n" for line in spec.routing)


def scenario(spec: SkillSpec) -> str:
    doc = {
        "id": f"{spec.skill}-first",
        "title": f"A verified customer gets an answer from {spec.agent}",
        "agent": spec.agent,
        "skill": spec.skill,
        "tags": [spec.agent, spec.skill],
        "conversation": {"turns": [spec.examples[0]]},
        "criteria": {"agents": [spec.agent], "verified": True, "must_tell": [FIRST_REPLY_PATTERN], "max_turns": 6},
    }
    return _dump_yaml(doc)


FIRST_REPLY = "I have checked what I need and can help you with this."
FIRST_REPLY_PATTERN = "checked what I need"


def grant(spec: SkillSpec) -> str:
    tools = ",\n   ".join(f'Tool::"{e.name}"' for e in spec.tools)
    return (
        f"// The tools the {spec.skill} skill calls, granted to the {spec.agent} agent, and no others.\n"
        f'@id("grant.{spec.agent}.{spec.skill}")\n'
        "permit (\n"
        f'  principal == Agent::"{spec.agent}",\n'
        '  action in Action::"use",\n'
        "  resource\n"
        ")\n"
        f"when {{ resource in\n  [{tools}] }};\n"
    )


def _calls(spec: SkillSpec) -> tuple[list[str], list[str]]:
    """The node's call lines, and the tools left for the developer to call with their own values."""
    lines: list[str] = []
    later: list[str] = []
    for entry in spec.tools:
        plan = call_plan(entry)
        if plan is None:
            later.append(entry.name)
            continue
        args = ", ".join(f'"{k}": {v}' for k, v in plan.items())
        step = f', step="{entry.tool.name}"' if not entry.read_only else ""
        line = f'    found["{entry.name}"] = await turn.call("{entry.name}", {{{args}}}{step})'
        if len(line) > _WIDTH:
            # Exploded with trailing commas, which ruff format keeps as written.
            items = "".join(f'            "{k}": {v},\n' for k, v in plan.items())
            step_line = f'        step="{entry.tool.name}",\n' if not entry.read_only else ""
            line = (
                f'    found["{entry.name}"] = await turn.call(\n        "{entry.name}",\n'
                f"        {{\n{items}        }},\n{step_line}    )"
            )
        lines.append(line)
    return lines, later


def procedure(spec: SkillSpec) -> str:
    calls, later = _calls(spec)
    keys = verified_keys(spec)
    uses_keys = any("keys." in line for line in calls)
    body = ["    turn = turn_of(runtime)"]
    if uses_keys:
        body.append("    keys = turn.keys")
        body.append("    assert keys is not None  # the verification gate ran first")
    body.append("    found: dict[str, Any] = {}")
    body += calls
    note = ""
    if later:
        note = (
            "\nGranted but not called yet (their arguments are the skill's own decisions):\n"
            + "\n".join(f"``{t}``" for t in later)
            + "\n"
        )
    tools = "".join(f'\n    "{e.name}",' for e in spec.tools) + ("\n" if spec.tools else "")
    return f'''"""``{spec.skill}``: the {spec.agent} specialist's skill, as a LangGraph graph.

    verify -> act

``verify`` waits (``auth-required``) until the supervisor has verified the customer; ``act`` reads
through the governance gateway with ``await turn.call(...)`` (the only way to read or act) and
ends the task with ``finish(reply)``. ``ask(reply)`` from ``agents.runtime.graph`` waits for the
customer's answer. Whatever the skill must remember between turns goes in the state.
{note}"""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime.graph import SkillContext, SkillState, finish, turn_of
from agents.runtime.steps import VERIFY_NODE, verified_first

TOOLS: tuple[str, ...] = ({tools})
"""The governed tools this skill is granted (gateway/policies/{spec.skill}.cedar)."""


class {spec.state_class}(SkillState, total=False):
    """What the skill keeps between the customer's turns (on the server, with the A2A task)."""


async def act(state: {spec.state_class}, runtime: Runtime[SkillContext]) -> Command[Any]:
{chr(10).join(body)}
    return finish(
        turn.reply(
            {json.dumps(FIRST_REPLY)},
            "completed",
            summary="{spec.skill} answered",
            data={{"read": sorted(found)}},
        )
    )


def graph() -> StateGraph[{spec.state_class}, SkillContext, Any, Any]:
    g = StateGraph({spec.state_class}, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first({", ".join(json.dumps(k) for k in keys)}, then="act"))
    g.add_node("act", act)
    g.set_entry_point(VERIFY_NODE)
    return g
'''


def agent_init(agent: str, description: str, skills: list[str]) -> str:
    """The agent package: ``create()`` maps every skill to its graph (rewritten by ``new-skill``)."""
    modules = sorted(s.replace("-", "_") for s in skills)
    imports = f"from agents.{agent} import {', '.join(modules)}"
    entries = "\n".join(f'            "{s}": {s.replace("-", "_")}.graph(),' for s in sorted(skills))
    return f'''"""The {agent} specialist. Written by ``switchboard new-agent``; ``new-skill`` rewrites it."""

{imports}
from agents.runtime import SkillGraphs

DESCRIPTION = {literal(description, room=_WIDTH - len("DESCRIPTION = "))}


def create() -> SkillGraphs:
    return SkillGraphs(
        {{
{entries}
        }}
    )
'''


def skill_test(spec: SkillSpec) -> str:
    return f'''"""The {spec.skill} skill: it meets the house rules, its agent is granted exactly its tools, and its
scenarios pass against the real gateway and reference systems (``switchboard skill test {spec.skill}``).
"""

from __future__ import annotations

import pytest

from agents.{spec.agent} import {spec.module}
from orchestrator import registry
from orchestrator.evaluation.skill_harness import run_skill
from shared.skills import MAX_EXAMPLES, MIN_EXAMPLES, load_skills

SKILL = "{spec.skill}"


def test_the_skill_is_declared_for_its_agent() -> None:
    skill = next(s for s in load_skills(agent="{spec.agent}") if s.name == SKILL)
    assert MIN_EXAMPLES <= len(skill.examples) <= MAX_EXAMPLES
    assert skill.customer_label


def test_the_agent_may_call_every_tool_of_the_skill() -> None:
    granted = set(registry.grants()["{spec.agent}"])
    assert set({spec.module}.TOOLS) <= granted


@pytest.mark.e2e
async def test_the_scenarios_pass_through_the_real_gateway() -> None:
    results = await run_skill(SKILL)
    assert results and all(r.passed for r in results), [(r.scenario_id, r.failures) for r in results]
'''


def _dump_yaml(doc: dict[str, Any]) -> str:
    # Loaded here: every command registers at start-up, and only scaffolding writes YAML.
    import yaml

    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
