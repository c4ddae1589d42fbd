"""The compliance console in headless Chromium: sign in, find a refund's trace, chain intact, explain, export."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser.test_web_chat import open_chat, send
from tests.e2e.conftest import RunningStack
from tests.governance.e2e_helpers import small_refund_customers

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TIMEOUT_MS = 20_000
REFUND = "payments.issue_refund"


async def refund_in_the_web_chat(browser, running: RunningStack, customer: dict) -> None:  # type: ignore[no-untyped-def]
    context, page = await open_chat(browser, running)
    try:
        await send(page, "I was charged twice this month, please refund the duplicate")
        await send(page, f"it's {customer['email']}")
        reply = await send(page, running.latest_code(customer["customer_id"]))
        if "?" in reply:
            reply = await send(page, "yes please")
        assert "refund" in reply.lower(), reply
    finally:
        await context.close()


async def sign_in_as_admin(page, running: RunningStack) -> None:  # type: ignore[no-untyped-def]
    """Sign in on the sign-in page as an administrator and land on the compliance console."""
    assert running.stack.secrets is not None
    name, token = running.stack.secrets.staff_token("admin")
    await page.goto(running.topology.orchestrator + "/console/sign-in")
    await page.fill("#name", name)
    await page.fill("#token", token)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/console/compliance", timeout=TIMEOUT_MS)


async def test_compliance_sees_the_refund_trace_chain_explain_and_export(browser, running: RunningStack, shot) -> None:  # type: ignore[no-untyped-def]
    customer = small_refund_customers(running.data_dir)[17]
    await refund_in_the_web_chat(browser, running, customer)

    assert running.stack.secrets is not None
    name, token = running.stack.secrets.staff_token("compliance")
    context = await browser.new_context(accept_downloads=True)
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    try:
        # Signed out, the console sends the person to sign in, then back.
        await page.goto(running.topology.orchestrator + "/console/compliance")
        assert page.url.endswith("/console/sign-in?next=/console/compliance")
        await shot(page, "sign-in")
        await page.keyboard.type(name)  # the name field has focus on arrival
        await page.keyboard.press("Tab")
        await page.keyboard.type(token)
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/console/compliance", timeout=TIMEOUT_MS)
        assert name in await page.locator(".who").inner_text()

        chain = page.locator("#chain-state")
        await chain.wait_for(timeout=TIMEOUT_MS)
        assert "Chain intact" in await chain.inner_text()
        assert "records verified" in await page.locator("#chain").inner_text()

        # Filter to this customer, with the keyboard, as an officer answering a complaint would.
        await page.fill("#f-customer", customer["customer_id"])
        await page.press("#f-customer", "Enter")
        row = page.locator("#trace-rows tr", has=page.locator("td.mono", has_text=REFUND))
        # The unfiltered list (other tests' refunds) shows until the filtered one replaces it.
        await expect(page.locator("#traces-status")).to_contain_text(customer["customer_id"], timeout=TIMEOUT_MS)
        await expect(row).to_have_count(1, timeout=TIMEOUT_MS)
        cells = await row.locator("td").all_inner_texts()
        assert "payment" in cells[1] and customer["customer_id"] in cells[3]
        assert cells[5].strip() == "allow" and cells[8].strip() == "ok"
        assert "grant.payment" in cells[6], cells
        status = await page.locator("#traces-status").inner_text()
        assert f"customer {customer['customer_id']}" in status
        await shot(page, "traces")

        # Explain the decision; focus moves to the explanation.
        await row.locator("button.explain").focus()
        await page.keyboard.press("Enter")
        await page.locator("#explain dl.facts").first.wait_for(timeout=TIMEOUT_MS)
        explanation = await page.locator("#explain").inner_text()
        assert REFUND in explanation and "grant.payment" in explanation and "Inputs (redacted)" in explanation
        assert await page.evaluate("document.activeElement.id") == "explain-title"
        await shot(page, "explain")
        await page.keyboard.press("Escape")
        assert await page.locator("#explain-panel").is_hidden()

        # The CSV export is exactly the current filter.
        async with page.expect_download(timeout=TIMEOUT_MS) as info:
            await page.click("#export-csv")
        download = await info.value
        assert download.suggested_filename.startswith("switchboard-audit-")
        assert download.suggested_filename.endswith(".csv")
        saved = await download.path()
        text = await asyncio.to_thread(Path(saved).read_text, encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows and {r["customer_id"] for r in rows} <= {customer["customer_id"], ""}
        # Calls made before the customer was known name no one; the verification links them to this customer.
        assert all(r["tool"].startswith("identity.") for r in rows if not r["customer_id"]), rows
        exported = [r for r in rows if r["tool"] == REFUND]
        assert (
            len(exported) == 1 and exported[0]["decision"] == "allow" and "grant.payment" in exported[0]["policy_ids"]
        )

        # Policy modes are listed for a compliance officer.
        await page.locator("#policy-rows tr[data-policy='guard.refund-hard-limit']").wait_for(timeout=TIMEOUT_MS)
        assert not problems, problems
    finally:
        await context.close()


async def test_hostile_filter_text_is_shown_as_text(browser, running: RunningStack, shot) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context()
    page = await context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    try:
        await sign_in_as_admin(page, running)
        hostile = '<img src=x onerror="alert(1)">'
        await page.fill("#f-agent", hostile)
        await page.press("#f-agent", "Enter")
        await page.wait_for_function(
            "text => document.getElementById('traces-status').textContent.includes(text)", arg=hostile
        )
        assert await page.locator("#traces-status img").count() == 0
        assert await page.locator("#trace-rows td.empty").count() == 1
        assert not dialogs
        await shot(page, "hostile-filter")
    finally:
        await context.close()


async def test_a_slow_first_page_does_not_replace_the_filtered_one(browser, running: RunningStack) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context()
    page = await context.new_page()
    release = asyncio.Event()

    async def hold_the_unfiltered_page(route) -> None:  # type: ignore[no-untyped-def]
        if "agent=" not in route.request.url:
            await release.wait()
        await route.continue_()

    await page.route("**/traces?*", hold_the_unfiltered_page)
    try:
        await sign_in_as_admin(page, running)
        # The first page (no filter) is still on its way when the officer filters by an agent.
        await page.fill("#f-agent", "nobody-by-this-name")
        await page.press("#f-agent", "Enter")
        status = page.locator("#traces-status")
        await expect(status).to_contain_text("agent nobody-by-this-name", timeout=TIMEOUT_MS)
        async with page.expect_event(
            "requestfinished", lambda request: "/traces?" in request.url and "agent=" not in request.url
        ):
            release.set()
        # A task queued after the late answer's own has run, so the page has handled it.
        await page.evaluate("() => new Promise((done) => setTimeout(done))")
        await expect(status).to_contain_text("agent nobody-by-this-name")
        assert await page.locator("#trace-rows td.empty").count() == 1
    finally:
        release.set()
        await context.close()


async def test_a_late_first_list_does_not_hide_the_change_just_asked_for(browser, running: RunningStack) -> None:  # type: ignore[no-untyped-def]
    context = await browser.new_context()
    page = await context.new_page()
    release = asyncio.Event()
    lists: list[str] = []

    async def hold_the_first_list(route) -> None:  # type: ignore[no-untyped-def]
        lists.append(route.request.url)
        # The first answer is fetched at once (the list as it was) and handed over late.
        answered = await route.fetch()
        if len(lists) == 1:
            await release.wait()
        await route.fulfill(response=answered)

    answers = iter(["30", "trying the console"])

    async def answer(dialog) -> None:  # type: ignore[no-untyped-def]
        await (dialog.accept() if dialog.type == "confirm" else dialog.accept(next(answers)))

    page.on("dialog", answer)
    await page.route("**/api/console/compliance/changes", hold_the_first_list)
    policy = "guard.refund-hard-limit"
    try:
        await sign_in_as_admin(page, running)
        # The page's first list of changes (none yet) is still on its way when the officer asks
        # to weaken a protective policy, which waits for a second person.
        await page.get_by_role("button", name=f"Switch to log-only: {policy}").click()
        asked = page.locator("#change-rows tr", has_text=policy)
        await expect(asked).to_have_count(1, timeout=TIMEOUT_MS)
        await expect(page.locator("#policies-status")).to_contain_text("second", timeout=TIMEOUT_MS)
        async with page.expect_event("requestfinished", lambda request: request.url == lists[0]):
            release.set()
        # A task queued after the late answer's own has run, so the page has handled it.
        await page.evaluate("() => new Promise((done) => setTimeout(done))")
        await expect(asked).to_have_count(1)
        await expect(asked).to_contain_text("pending")
        # Left as found: the request is turned down, and the notice says so.
        await asked.get_by_role("button", name="Reject").click()
        await expect(page.locator("#changes-status")).to_contain_text("rejected", timeout=TIMEOUT_MS)
        await expect(asked).to_have_count(0)
    finally:
        release.set()
        await context.close()


async def test_an_agent_is_refused_the_compliance_console(browser, running: RunningStack) -> None:  # type: ignore[no-untyped-def]
    assert running.stack.secrets is not None
    name, token = running.stack.secrets.staff_token("agent")
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(running.topology.orchestrator + "/console/sign-in?next=/console/compliance")
        await page.fill("#name", name)
        await page.fill("#token", token)
        await page.click("button[type=submit]")
        await page.wait_for_load_state()
        assert page.url.endswith("/console/compliance")
        assert "may not" in await page.locator("[role=alert]").inner_text()
    finally:
        await context.close()
