"""What ``new-agent`` writes: files that load whatever the description says, clean under ruff and
mypy --strict, a grant for exactly the named tools, and clear refusals of what the suite would reject."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from orchestrator import registry
from orchestrator.commands import _skill_files as files
from orchestrator.commands.new_agent import scaffold
from orchestrator.commands.new_skill import build_spec, scaffold_skill
from shared.errors import InvalidRequest
from shared.skills import load_skill, load_skills
from tests.scaffold.tree import EXAMPLES, copy_tree, run

EXAMPLE_LINES = (EXAMPLES / "examples.txt").read_text(encoding="utf-8").splitlines()
ROUTING_LINES = (EXAMPLES / "routing.txt").read_text(encoding="utf-8").splitlines()
TOOLS = ["billing.get_account", "crm.get_profile", "support.open_ticket"]
NASTY = 'Keeps customers: "early termination" fees \u2014 and \'offers\'.\n\\back\\slash """ ' + "\u65e5" + " x" * 70


def spec(
    description: str = NASTY, *, agent: str = "retention", skill: str = "retention-offer", **changes: object
) -> files.SkillSpec:
    args: dict[str, object] = {
        "label": "leaving us",
        "examples": list(EXAMPLE_LINES),
        "routing": list(ROUTING_LINES),
        "tools": list(TOOLS),
    }
    args.update(changes)
    return build_spec(agent, skill, description, **args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_tree(tmp_path_factory.mktemp("tree"))
    scaffold(root, spec(), " ".join(NASTY.split()))
    return root


def test_any_description_gives_files_that_load(tree: Path) -> None:
    skill = load_skill(tree / "skills" / "retention-offer" / "SKILL.md")
    assert skill.description == NASTY.strip() and skill.agent == "retention"
    assert list(skill.examples) == EXAMPLE_LINES and skill.customer_label == "leaving us"
    init = ast.parse((tree / "agents" / "retention" / "__init__.py").read_text(encoding="utf-8"))
    description = next(n.value for n in init.body if isinstance(n, ast.Assign))
    assert ast.literal_eval(description) == " ".join(NASTY.split())


@pytest.mark.parametrize(
    "description", ["a: b", "'quoted' and \"double\"", "two\nlines", "\u00fcml\u00e4ut \U0001f600", "- a list?"]
)
def test_yaml_front_matter_survives_every_description(tmp_path: Path, description: str) -> None:
    path = tmp_path / "retention-offer" / "SKILL.md"
    path.parent.mkdir()
    path.write_text(files.skill_md(spec(description)), encoding="utf-8")
    assert load_skill(path).description == description.strip()


def test_the_grant_is_exactly_the_named_tools(tree: Path) -> None:
    agents = registry.agents(tree / "skills")
    granted = registry.grants(agents, tree / "gateway" / "policies")["retention"]
    assert sorted(granted) == sorted(TOOLS)


def test_the_routing_rows_and_derived_files_follow(tree: Path) -> None:
    source = (tree / "evals" / "routing" / "source" / "retention-offer.txt").read_text(encoding="utf-8")
    assert source.splitlines() == ROUTING_LINES
    assert '"skill": "retention-offer"' in (tree / "evals" / "routing" / "train.jsonl").read_text(encoding="utf-8")
    assert "| retention | " in (tree / "docs" / "action-catalog.md").read_text(encoding="utf-8")
    assert "agent-retention:" in (tree / "compose.yaml").read_text(encoding="utf-8")


def test_generated_python_is_clean_under_ruff_and_mypy_strict(tree: Path) -> None:
    written = ["agents/retention", "tests/agents/test_retention_retention_offer.py"]
    for command in (["ruff", "check", *written], ["ruff", "format", "--check", *written]):
        done = run(tree, *command, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    # The checkout's own mypy cache: the copy's unchanged modules have the same sources and times.
    cache = Path(__file__).resolve().parents[2] / ".mypy_cache"
    done = run(tree, "mypy", "--strict", "--cache-dir", str(cache), *written, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_second_skill_joins_the_agent(tree: Path) -> None:
    second = spec(
        "Tells the customer when their contract ends.",
        skill="contract-renewal",
        examples=[f"contract question number {i}" for i in range(30)],
        routing=[f"when is my contract over, case {i}" for i in range(35)],
        tools=["billing.get_account"],
    )
    scaffold_skill(tree, second)
    names = sorted(s.name for s in load_skills(tree / "skills", agent="retention"))
    assert names == ["contract-renewal", "retention-offer"]
    init = (tree / "agents" / "retention" / "__init__.py").read_text(encoding="utf-8")
    assert '"contract-renewal": contract_renewal.graph()' in init
    assert '"retention-offer": retention_offer.graph()' in init


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"agent": "Retention!"}, "lowercase"),
        ({"skill": "Retention Offer"}, "hyphens"),
        ({"examples": EXAMPLE_LINES[:5]}, "give 30 to 45 examples"),
        ({"routing": ROUTING_LINES[:5]}, "routing rows"),
        ({"routing": [EXAMPLE_LINES[0], *ROUTING_LINES]}, "must not repeat examples"),
        ({"tools": ["billing.cancel_everything"]}, "no tool billing.cancel_everything"),
        ({"tools": ["payments.record_payment"]}, "internal"),
        ({"label": "talk to an agent"}, "cannot be shown to customers"),
        ({"description": "  "}, "empty"),
    ],
)
def test_what_the_suite_would_reject_is_refused_up_front(changes: dict[str, object], message: str) -> None:
    description = str(changes.pop("description", NASTY))
    agent = str(changes.pop("agent", "retention"))
    skill = str(changes.pop("skill", "retention-offer"))
    with pytest.raises(InvalidRequest, match=message):
        spec(description, agent=agent, skill=skill, **changes)


def test_nothing_is_overwritten_and_labelled_rows_are_not_claimed(tree: Path) -> None:
    with pytest.raises(InvalidRequest, match="already exists"):
        scaffold(tree, spec(), "again")
    taken = spec(skill="retention-again", agent="retentiontwo", routing=["when does my contract end", *ROUTING_LINES])
    with pytest.raises(InvalidRequest, match=r"already labelled in evals/routing/source/contract-end\.txt"):
        scaffold(tree, taken, "d")


def test_the_cli_reads_phrasings_from_files(tree: Path) -> None:
    done = run(tree, "switchboard", "new-agent", "retention", "--skill", "x", "--description", "d", "--label", "l")
    assert done.returncode == 2 and "--routing-file" in done.stderr
