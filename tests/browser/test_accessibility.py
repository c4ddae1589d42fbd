"""axe-core on every page a person uses, in the states they see it, plus the keyboard flows.

No serious or critical WCAG 2.1 A/AA violation on: the web chat mid-conversation (with the
phone panel open too), the sign-in page, the human-agent console with a case open, and the
compliance console with an explanation open.
"""

from __future__ import annotations

import pytest

from tests.browser.axe import describe, violations
from tests.browser.test_agent_console import conversation_id_of, open_console
from tests.browser.test_web_chat import open_chat, send
from tests.e2e.conftest import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TIMEOUT_MS = 20_000


async def assert_accessible(page, where: str) -> None:  # type: ignore[no-untyped-def]
    found = await violations(page)
    assert not found, f"{where}:\n{describe(found)}"


async def test_the_web_chat_mid_conversation(browser, running: RunningStack) -> None:  # type: ignore[no-untyped-def]
    context, page = await open_chat(browser, running)
    try:
        await send(page, "what plans do you have?")
        await assert_accessible(page, "web chat")
        await page.click("#phone")
        await page.locator("#phone-text .code").wait_for(timeout=TIMEOUT_MS)
        await assert_accessible(page, "web chat with the phone panel open")
    finally:
        await context.close()


async def test_the_log_scrolls_by_keyboard_and_escape_closes_the_phone_panel(browser, running: RunningStack) -> None:  # type: ignore[no-untyped-def]
    context, page = await open_chat(browser, running)
    try:
        # The message log is a focusable region, so a keyboard user can scroll back through it.
        assert await page.get_attribute("#log-region", "tabindex") == "0"
        await page.focus("#log-region")
        assert await page.evaluate("document.activeElement.id") == "log-region"

        await page.focus("#phone")
        await page.keyboard.press("Enter")
        await page.locator("#phone-text .code").wait_for(timeout=TIMEOUT_MS)
        await page.keyboard.press("Escape")
        assert await page.locator("#phone-panel").is_hidden()
        # Focus returns to what opened the panel.
        assert await page.evaluate("document.activeElement.id") == "phone"
    finally:
        await context.close()


async def test_a_new_conversation_asks_before_discarding_the_chat(browser, running: RunningStack) -> None:  # type: ignore[no-untyped-def]
    context, page = await open_chat(browser, running)
    try:
        await send(page, "what plans do you have?")
        first = await conversation_id_of(page)
        await page.click("#restart")
        confirm = page.locator("#restart-confirm")
        await confirm.wait_for(timeout=TIMEOUT_MS)
        assert await page.evaluate("document.activeElement.id") == "restart-keep"
        await page.keyboard.press("Enter")  # keep this conversation
        assert await confirm.is_hidden()
        assert await conversation_id_of(page) == first
        assert await page.locator("#log .msg.customer").count() == 1

        await page.click("#restart")
        await page.click("#restart-yes")
        await page.wait_for_function(
            "id => JSON.parse(sessionStorage.getItem('switchboard.chat') || '{}').id !== id", arg=first
        )
        assert await page.locator("#log .msg.customer").count() == 0
    finally:
        await context.close()


async def test_sign_in_page(browser, running: RunningStack) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(running.topology.orchestrator + "/console/sign-in")
        await assert_accessible(page, "sign-in")
    finally:
        await context.close()


async def test_the_agent_console_with_a_case_open(browser, running: RunningStack) -> None:  # type: ignore[no-untyped-def]
    chat_context, chat = await open_chat(browser, running)
    console_context, console = await open_console(browser, running)
    try:
        await send(chat, "I want to make a complaint, let me talk to a person please")
        conversation_id = await conversation_id_of(chat)
        link = console.locator(f"#queue button[data-conversation='{conversation_id}']")
        await link.wait_for(timeout=TIMEOUT_MS)
        await assert_accessible(console, "agent console, queue")
        await link.click()
        await console.locator("#transcript li.customer").first.wait_for(timeout=TIMEOUT_MS)
        assert await console.get_attribute("#transcript-region", "tabindex") == "0"
        await assert_accessible(console, "agent console, case open")
    finally:
        await console_context.close()
        await chat_context.close()


async def test_the_compliance_console_with_an_explanation_open(browser, running: RunningStack) -> None:  # type: ignore[no-untyped-def]
    chat_context, chat = await open_chat(browser, running)
    await send(chat, "what plans do you have?")
    await chat_context.close()
    context, page = await open_console(browser, running, role="compliance", path="/console/compliance")
    try:
        await page.locator("#chain-state").wait_for(timeout=TIMEOUT_MS)
        await page.locator("#trace-rows tr button.explain").first.wait_for(timeout=TIMEOUT_MS)
        await assert_accessible(page, "compliance console")
        await page.locator("#trace-rows tr button.explain").first.click()
        await page.locator("#explain dl.facts").first.wait_for(timeout=TIMEOUT_MS)
        await assert_accessible(page, "compliance console, explanation open")
    finally:
        await context.close()
