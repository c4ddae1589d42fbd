"""``switchboard new-skill``: a skill whose files pass the suite as written.

It writes the skill (SKILL.md with enough examples for routing), its LangGraph graph calling the
named tools through the gateway, labelled routing rows, a scenario for ``switchboard skill test``,
a Cedar grant for exactly the named tools and a test; then rebuilds the routing set and the
derived files (``switchboard catalog write``). It refuses to overwrite anything, and reads back
what it wrote so a broken file never reaches ``switchboard up``.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.commands import _skill_files as files
from orchestrator.commands import add_command
from orchestrator.commands.catalog import derived_files
from shared.errors import InvalidRequest
from shared.skills import (
    MAX_EXAMPLES,
    MAX_ROUTING_ROWS,
    MIN_EXAMPLES,
    MIN_ROUTING_ROWS,
    label_problem,
    load_skill,
    load_skills,
)

if TYPE_CHECKING:
    from orchestrator.registry import ToolEntry

AGENT_NAME = re.compile(r"^[a-z][a-z0-9]*$")
SKILL_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SCAFFOLD_MARK = "Written by ``switchboard new-agent``"


def _lines(values: list[str], path: str | None) -> list[str]:
    found = list(values)
    if path:
        try:
            found += Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            hint = "give a text file, one phrasing a line"
            raise InvalidRequest(f"cannot read {path}: {exc.strerror}", hint=hint) from exc
    # One phrasing is one line of the skill's list: whitespace (newlines too) collapses to spaces.
    return [" ".join(v.split()) for v in found if v.strip()]


def _check_counts(kind: str, values: list[str], low: int, high: int, flag: str) -> None:
    if len(set(values)) != len(values):
        raise InvalidRequest(f"the {kind} repeat a phrasing", hint="each line once")
    if not low <= len(values) <= high:
        raise InvalidRequest(
            f"give {low} to {high} {kind}; got {len(values)}",
            hint=f"{flag} FILE with one customer phrasing a line (the suite checks these counts)",
        )


def _tools(names: list[str]) -> list[ToolEntry]:
    from orchestrator import registry

    catalog = registry.tools()
    unknown = [n for n in names if n not in catalog]
    if unknown:
        raise InvalidRequest(f"no tool {', '.join(unknown)} in the action catalog", hint="see docs/action-catalog.md")
    internal = [n for n in names if catalog[n].internal]
    if internal:
        raise InvalidRequest(f"{', '.join(internal)} is internal: no agent may be granted it", hint="pick another tool")
    return [catalog[n] for n in dict.fromkeys(names)]


def build_spec(
    agent: str,
    skill: str,
    description: str,
    label: str,
    examples: list[str],
    routing: list[str],
    tools: list[str],
) -> files.SkillSpec:
    """Validate what the developer typed against the rules the suite enforces."""
    if not AGENT_NAME.match(agent):
        raise InvalidRequest(f"agent name {agent!r} must be lowercase letters and digits, starting with a letter")
    if not SKILL_NAME.match(skill):
        raise InvalidRequest(f"skill name {skill!r} must be lowercase words joined by hyphens")
    if not description.strip():
        raise InvalidRequest("the description is empty", hint="one sentence: what it does for the customer")
    problem = label_problem(label)
    if problem:
        raise InvalidRequest(f"--label {label!r} cannot be shown to customers: {problem}", hint='e.g. "leaving us"')
    _check_counts("examples", examples, MIN_EXAMPLES, MAX_EXAMPLES, "--examples-file")
    _check_counts("routing rows", routing, MIN_ROUTING_ROWS, MAX_ROUTING_ROWS, "--routing-file")
    seen = {e.lower() for e in examples}
    copies = [r for r in routing if r.lower() in seen]
    if copies:
        raise InvalidRequest(
            f"routing rows must not repeat examples (the test split would measure what routing learned): {copies[0]!r}",
            hint="write other phrasings",
        )
    return files.SkillSpec(agent, skill, description.strip(), label, examples, routing, _tools(tools))


def write_files(plan: dict[Path, str]) -> list[Path]:
    existing = [p for p in plan if p.exists()]
    if existing:
        raise InvalidRequest(f"{existing[0]} already exists; nothing was written", hint="pick another name")
    for path, text in plan.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(plan)


def check_not_labelled_elsewhere(root: Path, spec: files.SkillSpec) -> None:
    """Refuse phrasings the routing set already labels: one message, one label, or the set lies."""
    from orchestrator.routing.text import normalize

    mine = {normalize(t): t for t in [*spec.examples, *spec.routing]}
    for path in sorted((root / "evals" / "routing" / "source").glob("*.txt")):
        if path.stem.startswith("lang-"):
            continue  # other-language rows only teach language detection
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and normalize(line) in mine:
                raise InvalidRequest(
                    f"{mine[normalize(line)]!r} is already labelled in {path.relative_to(root)}",
                    hint="rephrase it, or move that row into your --routing-file if the new skill owns it now",
                )


def skill_plan(root: Path, spec: files.SkillSpec) -> dict[Path, str]:
    """Every file of one skill, by path."""
    plan = {
        root / "skills" / spec.skill / "SKILL.md": files.skill_md(spec),
        root / "agents" / spec.agent / f"{spec.module}.py": files.procedure(spec),
        root / "evals" / "routing" / "source" / f"{spec.skill}.txt": files.routing_source(spec),
        root / "evals" / "scenarios" / spec.agent / f"{spec.skill}.yaml": files.scenario(spec),
        root / "tests" / "agents" / f"test_{spec.agent}_{spec.module}.py": files.skill_test(spec),
    }
    if spec.tools:
        plan[root / "gateway" / "policies" / f"{spec.skill}.cedar"] = files.grant(spec)
    return plan


def refresh_derived(root: Path) -> None:
    """Rebuild the routing set and the files derived from the registry, as the suite expects them."""
    # The routing build reads the skills of the checkout it lives in, so it runs from there.
    done = subprocess.run(
        [sys.executable, str(root / "evals" / "routing" / "build.py")],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise InvalidRequest(f"rebuilding the routing set failed: {done.stderr.strip()[-500:]}", hint="fix the files")
    for path, make in derived_files(root).items():
        path.write_text(make(path.read_text(encoding="utf-8")), encoding="utf-8")


def scaffold_skill(root: Path, spec: files.SkillSpec) -> list[Path]:
    """Add a skill to an agent written by ``new-agent`` (its ``create()`` is regenerated)."""
    init = root / "agents" / spec.agent / "__init__.py"
    if not init.exists():
        raise InvalidRequest(f"no agent {spec.agent!r} at {init.parent}", hint="create it with switchboard new-agent")
    if SCAFFOLD_MARK not in init.read_text(encoding="utf-8"):
        raise InvalidRequest(
            f"agents/{spec.agent}/__init__.py was written by hand, so its create() is yours to extend",
            hint=f'add "{spec.skill}": {spec.module}.graph() there after scaffolding into a new agent, or use one',
        )
    check_not_labelled_elsewhere(root, spec)
    written = write_files(skill_plan(root, spec))
    skills = [s.name for s in load_skills(root / "skills", agent=spec.agent)]
    description = _agent_description(init)
    init.write_text(files.agent_init(spec.agent, description, skills), encoding="utf-8")
    load_skill(root / "skills" / spec.skill / "SKILL.md")
    refresh_derived(root)
    return [*written, init]


def _agent_description(init: Path) -> str:
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        targets = [t.id for t in node.targets if isinstance(t, ast.Name)] if isinstance(node, ast.Assign) else []
        if "DESCRIPTION" in targets and isinstance(node, ast.Assign):
            return str(ast.literal_eval(node.value))
    return ""


def add_skill_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--label", required=True, help='the few plain words a customer is offered, e.g. "leaving us"')
    p.add_argument("--example", action="append", default=[], help="a customer phrasing (repeatable)")
    p.add_argument(
        "--examples-file", help=f"phrasings for the skill's examples, one a line ({MIN_EXAMPLES}-{MAX_EXAMPLES})"
    )
    p.add_argument(
        "--routing-file",
        required=True,
        help=f"other phrasings, labelled routing rows ({MIN_ROUTING_ROWS}-{MAX_ROUTING_ROWS}), none an example",
    )
    p.add_argument(
        "--tool", action="append", default=[], metavar="SYSTEM.NAME", help="a tool the skill calls (repeatable)"
    )
    p.add_argument("--root", default=".", help="source checkout to write into (default: the current folder)")


def spec_from(args: argparse.Namespace, agent: str, skill: str, description: str) -> files.SkillSpec:
    return build_spec(
        agent,
        skill,
        description,
        args.label,
        _lines(args.example, args.examples_file),
        _lines([], args.routing_file),
        args.tool,
    )


def cmd_new_skill(args: argparse.Namespace) -> int:
    spec = spec_from(args, args.agent, args.name, args.description)
    for path in scaffold_skill(Path(args.root), spec):
        print(f"wrote {path}")
    print(f"Next: `switchboard skill test {spec.skill}`, then write the skill's steps in {spec.module}.py.")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "new-skill")
    p.add_argument("name", help="skill name, e.g. retention-offer")
    p.add_argument("--agent", required=True, help="the agent that owns it")
    p.add_argument("--description", required=True, help="what the skill does (any text)")
    add_skill_arguments(p)
    p.set_defaults(func=cmd_new_skill)
