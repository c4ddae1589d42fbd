"""Run axe-core (the npm package in this folder, injected by Playwright) on a live page.

``npm ci`` in ``tests/browser`` installs it; ``.ci/run`` does that. Without it the accessibility
tests fail with the command to run, never skip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"axe-core is not installed: run `npm ci` in {AXE_JS.parents[2]}", pytrace=False)
    return AXE_JS.read_text(encoding="utf-8")


async def violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical WCAG 2.1 A/AA violations axe finds on the page as it is now."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the devtools protocol: the pages' CSP forbids inline scripts, rightly.
        await page.evaluate(axe_source())
    result = await page.evaluate(
        """async () => {
            const r = await window.axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
            });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5),
            }));
        }"""
    )
    return [v for v in result if v["impact"] in BLOCKING]


def describe(found: list[dict[str, Any]]) -> str:
    return "\n".join(f"{v['impact']}: {v['id']} ({v['help']}) at {', '.join(v['nodes'])}" for v in found)
