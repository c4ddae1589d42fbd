"""The customer web chat in headless Chromium: a refund, hostile input, reload, phone size, keyboard only."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import expect

from tests.channels.twilio_calls import Call, spoken
from tests.e2e.conftest import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TIMEOUT_MS = 20_000


async def open_chat(browser, running: RunningStack, **context_options):  # type: ignore[no-untyped-def]
    context = await browser.new_context(**context_options)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(running.topology.orchestrator + "/chat")
    await page.wait_for_selector("#log .msg.agent")  # the greeting
    page.errors = errors  # type: ignore[attr-defined]
    return context, page


async def send(page, text: str) -> str:  # type: ignore[no-untyped-def]
    """Type and send like a customer; returns the newest reply once the turn has been shown."""
    before = await page.locator("#log .msg.agent, #log .msg.system").count()
    await page.fill("#message", text)
    await page.press("#message", "Enter")
    await page.wait_for_function(
        "n => document.querySelectorAll('#log .msg.agent, #log .msg.system').length > n"
        " && !document.querySelector('#log .msg.sending')",
        arg=before,
        timeout=TIMEOUT_MS,
    )
    return await page.locator("#log .msg.agent .bubble, #log .msg.system .bubble").last.inner_text()


async def test_a_customer_gets_a_refund_in_the_web_chat(browser, running: RunningStack, shot) -> None:  # type: ignore[no-untyped-def]
    customer = running.customers(12, has_duplicate_charge=True)[10]
    context, page = await open_chat(browser, running)
    try:
        asked = await send(page, "I was charged twice this month, please refund the duplicate")
        assert "email" in asked.lower(), asked
        sent = await send(page, f"it's {customer['email']}")
        assert "code" in sent.lower(), sent
        reply = await send(page, running.latest_code(customer["customer_id"]))
        if "?" in reply:  # the payment agent proposes the refund and asks to go ahead
            reply = await send(page, "yes please")
        assert "refund" in reply.lower(), reply
        # The chat opened by saying an automated assistant answers, and shows it once, first.
        bubbles = await page.locator("#log .msg .bubble").all_inner_texts()
        assert "automated assistant" in bubbles[0] and "ask for a person" in bubbles[0], bubbles[0]
        assert sum("automated assistant" in b for b in bubbles) == 1, bubbles
        await shot(page, "refunded")
        labels = await page.locator("#log .msg .who").all_inner_texts()
        assert any(label.startswith("Payments") for label in labels), labels
        assert not page.errors  # type: ignore[attr-defined]
    finally:
        await context.close()


async def test_hostile_input_is_shown_as_text(browser, running: RunningStack, shot) -> None:  # type: ignore[no-untyped-def]
    hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>bold?</b>'
    context, page = await open_chat(browser, running)
    try:
        await send(page, hostile)
        bubble = page.locator("#log .msg.customer .bubble").last
        assert await bubble.inner_text() == hostile
        assert await page.evaluate("window.__pwned") is None
        assert await page.locator("#log img, #log script, #log b").count() == 0
        await shot(page, "hostile-as-text")
    finally:
        await context.close()


async def test_a_reload_resumes_the_conversation_with_nothing_in_the_url(browser, running: RunningStack, shot) -> None:  # type: ignore[no-untyped-def]
    context, page = await open_chat(browser, running)
    try:
        await send(page, "what does my bill say?")
        before = await page.locator("#log .msg .bubble").all_inner_texts()
        await page.reload()
        await page.wait_for_function(
            "n => document.querySelectorAll('#log .msg .bubble').length >= n", arg=len(before), timeout=TIMEOUT_MS
        )
        assert await page.locator("#log .msg .bubble").all_inner_texts() == before
        assert page.url == running.topology.orchestrator + "/chat"
        stored = await page.evaluate("sessionStorage.getItem('switchboard.chat')")
        assert stored and "conv-" in stored
        reply = await send(page, "nobody-here@nowhere.example")  # the same conversation goes on
        # The identity step answers: the same words as for a known address, so nothing is revealed.
        assert "if those details match an account" in reply.lower(), reply
        await shot(page, "resumed")
    finally:
        await context.close()


async def test_usable_on_a_phone_sized_screen(browser, running: RunningStack, shot) -> None:  # type: ignore[no-untyped-def]
    context, page = await open_chat(
        browser, running, viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
    )
    try:
        reply = await send(page, "I'd like to change my plan")
        assert reply
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
        for selector in ("#message", "#send", "#phone"):
            box = await page.locator(selector).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375 and box["height"] >= 40, (selector, box)
        await shot(page, "phone")
    finally:
        await context.close()


async def test_send_stays_reachable_while_an_answer_is_coming(browser, running: RunningStack) -> None:  # type: ignore[no-untyped-def]
    context, page = await open_chat(browser, running)
    release, held = asyncio.Event(), asyncio.Event()
    turns: list[str] = []

    async def hold_the_first_turn(route) -> None:  # type: ignore[no-untyped-def]
        turns.append(route.request.url)
        if len(turns) == 1:
            held.set()
            await release.wait()
        await route.continue_()

    await page.route("**/turns", hold_the_first_turn)
    try:
        await page.keyboard.type("hello, what plans do you have?")
        await page.keyboard.press("Enter")
        # The first turn is on its way (the conversation is started first) and held there.
        await asyncio.wait_for(held.wait(), TIMEOUT_MS / 1000)
        # The first answer is still coming: the customer types on, tabs to Send and presses it.
        await page.keyboard.type("and roaming?")
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.id") == "send"
        assert await page.get_attribute("#send", "aria-disabled") == "true"
        await page.keyboard.press("Space")
        await expect(page.locator("#activity")).to_contain_text("as soon as the answer arrives")
        assert len(turns) == 1
        release.set()
        # The second message goes once the first answer is in, without another key.
        await page.wait_for_function(
            "() => document.querySelectorAll('#log .msg.customer:not(.sending)').length === 2", timeout=TIMEOUT_MS
        )
        assert len(turns) == 2
        assert await page.input_value("#message") == ""
    finally:
        release.set()
        await context.close()


async def test_keyboard_alone_sends_and_continues_by_phone(browser, running: RunningStack, shot) -> None:  # type: ignore[no-untyped-def]
    context, page = await open_chat(browser, running)
    try:
        assert await page.evaluate("document.activeElement.id") == "message"
        await page.keyboard.type("hello, what plans do you have?")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#log .msg.customer:not(.sending)", timeout=TIMEOUT_MS)
        await page.wait_for_function("() => document.activeElement.id === 'message'", timeout=TIMEOUT_MS)
        await page.keyboard.type("and roaming?")
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.id") == "send"
        await page.keyboard.press("Space")
        await page.wait_for_function(
            "() => document.querySelectorAll('#log .msg.customer:not(.sending)').length === 2", timeout=TIMEOUT_MS
        )
        # The customer may move on before the answer arrives: a key pressed on another control
        # stays there when the answer lands.
        # Continue by phone, still by keyboard: the code appears in a live region and focus moves to it.
        await page.focus("#phone")
        await page.keyboard.press("Enter")
        # Wait for the panel to settle either way, so a refused code request fails with its reason
        # (an empty panel is one the click has not reached yet, not a settled one).
        await page.wait_for_function(
            "() => { const t = document.getElementById('phone-text').textContent.trim();"
            " return t !== '' && !t.startsWith('Getting a code'); }",
            timeout=TIMEOUT_MS,
        )
        panel_text = await page.locator("#phone-text").inner_text()
        assert await page.locator("#phone-text .code").count() == 1, panel_text
        code_text = await page.locator("#phone-text .code").inner_text()
        assert await page.evaluate("document.activeElement.id") == "phone-close"
        await shot(page, "phone-code")
        code = re.sub(r"\D", "", code_text)
        async with httpx.AsyncClient(base_url=running.topology.orchestrator, timeout=30) as http:
            call = Call(http, "CA" + "9b" * 16, caller="+15550100140")
            await call.ring()
            assert "web chat" in spoken(await call.keys(code))
            await call.say("what's my data allowance")
        # The phone turn shows up in the open chat, live, marked as by phone.
        await page.wait_for_selector("#log .msg .tag", timeout=TIMEOUT_MS)
        assert "by phone" in await page.locator("#log .msg .tag").first.inner_text()
        await shot(page, "continued-by-phone")
    finally:
        await context.close()
