"""``up --reload``: policy and skill changes are applied, refused with the reason, or warned about.

Driven through ``Reloader.changed`` (what the file watch calls), so nothing waits on a clock.
Policies are reloaded by a real gateway over its staff API; the services a skill change
restarts are the in-memory ``Services`` below, which records what the stack would restart.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gateway.policy import DEFAULT_POLICY_DIR
from orchestrator.reload import Reloader, gateway_policy_reload
from shared.authcontext import generate_private_key_pem
from shared.errors import ConfigurationError
from shared.skills import SKILLS_DIR
from tests.governance.conftest import STAFF_TOKENS, start_env


@dataclass
class RecordedServices:
    """Which services a reload checked and restarted; ``refuse`` makes one fail its check."""

    names: set[str] = field(default_factory=lambda: {"orchestrator", "agent:payment", "agent:billing"})
    refuse: str | None = None
    restarted: list[str] = field(default_factory=list)

    def running(self) -> set[str]:
        return set(self.names)

    def check(self, name: str) -> None:
        if name == self.refuse:
            raise ConfigurationError(f"specialist {name!r} declares skills it does not implement: retention-offer")

    async def restart(self, name: str) -> None:
        self.restarted.append(name)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    skills, policies = tmp_path / "skills", tmp_path / "policies"
    shutil.copytree(SKILLS_DIR, skills, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    shutil.copytree(DEFAULT_POLICY_DIR, policies, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return skills, policies


async def _never(*_: object) -> str:
    raise AssertionError("no policy reload expected")


def _write_skill(skills: Path, name: str, agent: str, examples: list[str]) -> Path:
    folder = skills / name
    folder.mkdir()
    lines = "\n".join(f"- {e}" for e in examples)
    path = folder / "SKILL.md"
    path.write_text(
        f'---\nname: {name}\ndescription: A skill.\nmetadata:\n  agent: {agent}\n  version: "1.0"\n---\n\n'
        f"# {name}\n\n## Procedure\n1. Call `billing.get_account`.\n\n## Examples\n{lines}\n\n## Test scenarios\n- x\n",
        encoding="utf-8",
    )
    return path


async def test_a_policy_change_is_applied_and_an_invalid_one_keeps_the_old_set(
    folders: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    skills, policies = folders
    async with start_env(tmp_path, generate_private_key_pem(), policy_dir=policies) as env:
        reloader = Reloader(
            skills_dir=skills,
            policy_dir=policies,
            services=RecordedServices(),
            reload_policies=gateway_policy_reload(env.url, STAFF_TOKENS["carol"]["token"]),
        )
        before = set((await env.staff("carol", "GET", "/policies")).json()["policies"])
        new = policies / "voice.cedar"
        new.write_text(
            '@id("guard.no-refunds-by-voice")\n'
            'forbid (principal, action == Action::"call", resource == Tool::"payments.issue_refund")\n'
            'when { context.channel == "voice" };\n',
            encoding="utf-8",
        )
        (report,) = await reloader.changed([new])
        assert report.ok and report.message == f"{len(before) + 1} policies in force"
        assert set((await env.staff("carol", "GET", "/policies")).json()["policies"]) == {
            *before,
            "guard.no-refunds-by-voice",
        }

        new.write_text('@id("guard.broken")\nforbid (principal, action, resource) when { context.chanel };\n')
        with caplog.at_level(logging.WARNING, logger="switchboard.reload"):
            (report,) = await reloader.changed([new])
        assert not report.ok
        assert f"the {len(before) + 1} policies in force stay" in report.message
        assert "voice.cedar:1: policy 'guard.broken'" in report.message
        assert any("policies not reloaded" in r.message and "guard.broken" in r.message for r in caplog.records)
        assert "guard.no-refunds-by-voice" in (await env.staff("carol", "GET", "/policies")).json()["policies"]


async def test_a_skill_change_restarts_its_agent_and_the_orchestrator(folders: tuple[Path, Path]) -> None:
    skills, policies = folders
    services = RecordedServices()
    reloader = Reloader(skills_dir=skills, policy_dir=policies, services=services, reload_policies=_never)
    refund = skills / "refund-charge" / "SKILL.md"
    refund.write_text(refund.read_text(encoding="utf-8").replace("- I want a refund\n", ""), encoding="utf-8")

    (report,) = await reloader.changed([refund])
    assert report.ok and report.warnings == ()
    assert services.restarted == ["agent:payment", "orchestrator"]
    assert (await reloader.skills()).message == "no skill changed"


async def test_a_skill_that_does_not_load_or_start_keeps_the_running_skills(
    folders: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    skills, policies = folders
    services = RecordedServices(refuse="agent:billing")
    reloader = Reloader(skills_dir=skills, policy_dir=policies, services=services, reload_policies=_never)
    broken = skills / "change-plan" / "SKILL.md"
    original = broken.read_text(encoding="utf-8")
    broken.write_text(original.replace("name: change-plan", "name: Change Plan"), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="switchboard.reload"):
        (report,) = await reloader.changed([broken])
    assert not report.ok and "must be lowercase-hyphenated" in report.message
    assert "skills not reloaded, the running skills stay" in caplog.text

    broken.write_text(original.replace("## Examples", "## Messages\n- approved: Your new plan is on.\n\n## Examples"))
    (report,) = await reloader.changed([broken])
    assert not report.ok and "declares skills it does not implement" in report.message
    assert services.restarted == []


async def test_a_new_skill_that_repeats_another_skills_examples_is_warned_about(
    folders: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    skills, policies = folders
    services = RecordedServices()
    reloader = Reloader(skills_dir=skills, policy_dir=policies, services=services, reload_policies=_never)
    copied = _write_skill(
        skills,
        "retention-offer",
        "billing",
        ["is there a loyalty reward", "I want a refund", "I was charged twice this month", "any perks for staying"],
    )
    with caplog.at_level(logging.WARNING, logger="switchboard.reload"):
        (report,) = await reloader.changed([copied])
    assert report.ok
    (warning,) = report.warnings
    assert warning.startswith("skill retention-offer has 2 example(s) (near-)identical to refund-charge's")
    assert "'I want a refund' ~ 'I want a refund'" in warning
    assert warning in caplog.text
    assert services.restarted == ["agent:billing", "orchestrator"]

    distinct = _write_skill(
        skills,
        "leave-us",
        "billing",
        ["tell me about family bundles", "how much is an extra sim", "do you do family deals", "bundle for my kids"],
    )
    (report,) = await reloader.changed([distinct])
    assert report.ok and report.warnings == ()
