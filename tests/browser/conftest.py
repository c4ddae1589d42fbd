"""A real headless Chromium (Debian's package, no browser download) against the running stack.

Skipped with a reason when Chromium or Playwright is missing locally; CI installs both.
Screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.channels._stack import shared_stack
from tests.e2e.conftest import RunningStack
from tests.services import service_missing

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

try:
    import playwright.async_api as playwright_api
except ImportError:
    service_missing("playwright is not installed: pip install -e '.[test]' (no browser download)", module=True)
if not Path(CHROMIUM).exists():
    service_missing("Chromium is not installed: apt-get install -y chromium", module=True)


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    async with shared_stack(tmp_path_factory) as stack:
        yield stack


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def browser() -> AsyncIterator[object]:
    async with playwright_api.async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """``await shot(page, "step")`` saves test-artifacts/browser/<test>-<step>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    async def take(page, step: str) -> Path:  # type: ignore[no-untyped-def]
        path = ARTIFACTS / f"{request.node.name}-{step}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path

    return take
