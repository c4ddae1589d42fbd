"""The files derived from the registry (action-catalog doc, compose.yaml) match their source."""

from __future__ import annotations

from pathlib import Path

from orchestrator import registry
from orchestrator.commands.catalog import WRITE_COMMAND, regenerate_compose, render_catalog, stale_files

ROOT = Path(__file__).resolve().parents[2]


def test_derived_files_are_current() -> None:
    stale = [str(p.relative_to(ROOT)) for p in stale_files(ROOT)]
    assert not stale, f"{', '.join(stale)} out of date with the skills, tools or policies: run `{WRITE_COMMAND}`"


def test_a_new_agent_gets_its_service_and_a_new_grant_its_row() -> None:
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    grown = regenerate_compose(compose, [*registry.agents(), "retention"])
    assert '"serve", "agent", "retention"' in grown and "http://agent-retention:8000" in grown
    assert "      agent-retention:\n        condition: service_started" in grown
    catalog = registry.tools()
    doc = render_catalog(catalog, {"retention": ["billing.get_account"]})
    assert "| retention | billing.get_account |" in doc
    assert all(f"| {entry.tool.name} |" in doc for entry in catalog.values())
