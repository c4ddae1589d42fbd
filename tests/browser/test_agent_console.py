"""The human-agent console in headless Chromium, beside a customer's web chat.

An approval granted in the console unblocks a parked refund in the chat; an escalation is
taken over and the human's reply appears in the chat, live; hostile text stays text on both sides.
"""

from __future__ import annotations

import pytest

from tests.browser.test_web_chat import open_chat, send
from tests.consoles.agent_helpers import held_refund_customer
from tests.e2e.conftest import RunningStack
from tests.governance.e2e_helpers import refunds_for

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TIMEOUT_MS = 20_000
HOSTILE = '<img src=x onerror="window.__pwned = 1"><b>bold?</b>'


async def open_console(browser, running: RunningStack, role: str = "agent", path: str = "/console/agent"):  # type: ignore[no-untyped-def]
    """Sign in as a person does (keyboard only) and land on a console (the human-agent one by default)."""
    assert running.stack.secrets is not None
    name, token = running.stack.secrets.staff_token(role)  # type: ignore[arg-type]
    context = await browser.new_context(viewport={"width": 1360, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    await page.goto(running.topology.orchestrator + path)
    assert page.url.endswith(f"/console/sign-in?next={path}"), page.url
    # The name field takes focus on arrival; typing before it has would lose keystrokes.
    await page.wait_for_function("() => document.activeElement && document.activeElement.id === 'name'")
    await page.keyboard.type(name)
    await page.keyboard.press("Tab")
    await page.keyboard.type(token)
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**{path}", timeout=TIMEOUT_MS)
    await page.wait_for_selector("body[data-ready='true']", timeout=TIMEOUT_MS)
    assert name in await page.locator(".who").inner_text()
    page.problems = problems  # type: ignore[attr-defined]
    return context, page


async def say_only(page, text: str) -> None:  # type: ignore[no-untyped-def]
    """Send a chat message without waiting for an AI reply (a human has the conversation)."""
    before = await page.locator("#log .msg.customer:not(.sending)").count()
    await page.fill("#message", text)
    await page.press("#message", "Enter")
    await page.wait_for_function(
        "n => document.querySelectorAll('#log .msg.customer:not(.sending)').length > n", arg=before, timeout=TIMEOUT_MS
    )


async def conversation_id_of(chat_page) -> str:  # type: ignore[no-untyped-def]
    return await chat_page.evaluate("JSON.parse(sessionStorage.getItem('switchboard.chat')).id")


async def test_an_approval_in_the_console_unblocks_the_refund_in_the_chat(browser, running: RunningStack, shot) -> None:  # type: ignore[no-untyped-def]
    customer = held_refund_customer(running.data_dir, 3)
    chat_context, chat = await open_chat(browser, running)
    console_context, console = await open_console(browser, running)
    try:
        await send(chat, "I was charged twice this month, please refund the duplicate")
        await send(chat, f"it's {customer['email']}")
        proposal = await send(chat, running.latest_code(customer["customer_id"]))
        assert "?" in proposal, proposal
        held = await send(chat, "yes please")
        assert "approval" in held.lower(), held
        assert "Waiting for approval" in await chat.locator("#activity").inner_text()
        await shot(chat, "chat-waiting")

        card = console.locator("#approvals li.approval", has_text=customer["account_number"])
        await card.wait_for(timeout=TIMEOUT_MS)
        text = await card.inner_text()
        assert "payments.issue_refund" in text and "Held because:" in text
        assert "approval.refund-above-40" in text and "amount" in text
        await shot(console, "approval-shown")

        await card.locator("button.approve").focus()
        await console.keyboard.press("Enter")
        issued = chat.locator("#log .msg.agent .bubble", has_text="approved and issued")
        await issued.wait_for(timeout=TIMEOUT_MS)
        await console.locator("#approvals li.approval", has_text=customer["account_number"]).wait_for(
            state="detached", timeout=TIMEOUT_MS
        )
        # Focus stays in the approvals list (the next held action, or its heading), not lost to the page.
        await console.wait_for_function(
            "() => document.activeElement.id === 'approvals-title'"
            " || document.activeElement.matches('#approvals button.approve')",
            timeout=TIMEOUT_MS,
        )
        assert len(refunds_for(running.data_dir, customer["account_number"])) == 1
        await shot(chat, "chat-refunded")
        await shot(console, "approval-done")
        assert not chat.errors and not console.problems  # type: ignore[attr-defined]
    finally:
        await console_context.close()
        await chat_context.close()


async def test_a_human_takes_over_and_their_reply_appears_in_the_chat(browser, running: RunningStack, shot) -> None:  # type: ignore[no-untyped-def]
    chat_context, chat = await open_chat(browser, running)
    console_context, console = await open_console(browser, running)
    try:
        queued = await send(chat, "This is unacceptable, I want to make a complaint. Get me a person.")
        assert "member of our team" in queued, queued
        conversation_id = await conversation_id_of(chat)

        # The case is in the queue; open it with the keyboard.
        link = console.locator(f"#queue button[data-conversation='{conversation_id}']")
        await link.wait_for(timeout=TIMEOUT_MS)
        assert "High priority" in await link.inner_text()
        await link.focus()
        await console.keyboard.press("Enter")
        await console.wait_for_function("() => document.activeElement.id === 'case-title'", timeout=TIMEOUT_MS)
        transcript = console.locator("#transcript")
        await transcript.locator("li.customer", has_text="make a complaint").wait_for(timeout=TIMEOUT_MS)
        first = await transcript.locator("li").first.inner_text()
        assert first.startswith("AI disclosure given:") and "automated assistant" in first, first
        assert "complaint" in (await console.locator("#next-step").inner_text()).lower()
        assert "Not verified" in await console.locator("#identity").inner_text()
        assert await console.locator("#timeline li.handoff").count() >= 1
        summary = await console.locator("#case-summary").inner_text()  # the structured hand-off summary
        assert "make a complaint" in summary and "angry" in summary, summary
        assert "not verified in this conversation" in summary, summary
        await shot(console, "case-open")

        await console.locator("#take-over").focus()
        await console.keyboard.press("Enter")
        await console.wait_for_function("() => document.activeElement.id === 'reply'", timeout=TIMEOUT_MS)
        joined = chat.locator("#log .notice.human")
        await joined.wait_for(timeout=TIMEOUT_MS)
        assert "joined" in await joined.inner_text()

        # The customer's words reach the human live; hostile text stays text in the console.
        await say_only(chat, HOSTILE)
        shown = transcript.locator("li.customer .text", has_text="bold?")
        await shown.wait_for(timeout=TIMEOUT_MS)
        assert await shown.inner_text() == HOSTILE
        assert await console.locator("#transcript img, #transcript b").count() == 0
        assert await console.evaluate("window.__pwned") is None

        reply = "Hi, I'm Sam from the team. I've read everything <b>so far</b>."
        await console.keyboard.type(reply)
        await console.keyboard.press("Control+Enter")
        bubble = chat.locator("#log .msg.human .bubble")
        await bubble.wait_for(timeout=TIMEOUT_MS)
        assert await bubble.inner_text() == reply
        assert await chat.locator("#log b, #log img").count() == 0
        assert (await chat.locator("#log .msg.human .who").inner_text()).startswith("Team member")
        await shot(chat, "chat-human-reply")
        await shot(console, "case-taken")

        await console.locator("#hand-back").click()
        back = chat.locator("#log .notice", has_text="back with our virtual assistant")
        await back.wait_for(timeout=TIMEOUT_MS)
        await console.locator("#case-status", has_text="Back with the AI").wait_for(timeout=TIMEOUT_MS)
        answer = await send(chat, "what plans do you have?")
        assert answer and "team" not in answer.lower()[:20]
        await shot(chat, "chat-handed-back")
        assert not chat.errors and not console.problems  # type: ignore[attr-defined]
    finally:
        await console_context.close()
        await chat_context.close()


async def test_a_compliance_session_cannot_use_the_agent_console(browser, running: RunningStack, shot) -> None:  # type: ignore[no-untyped-def]
    assert running.stack.secrets is not None
    name, token = running.stack.secrets.staff_token("compliance")
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(running.topology.orchestrator + "/console/sign-in?next=/console/agent")
        await page.fill("#name", name)
        await page.fill("#token", token)
        await page.press("#token", "Enter")
        await page.wait_for_url("**/console/agent", timeout=TIMEOUT_MS)
        assert "may not do this" in await page.locator("[role=alert]").inner_text()
        assert await page.locator("#queue").count() == 0
        await shot(page, "refused")
    finally:
        await context.close()
