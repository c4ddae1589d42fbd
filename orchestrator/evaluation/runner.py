"""Running scenarios: against a stack started here (embedded) or against a deployment's URL.

Every (scenario, trial) plays its own reference customer, so all of them run in parallel
against one stack without seeing each other's changes.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from mcp_servers.identity.outbox import read_outbox
from orchestrator.evaluation import fixtures
from orchestrator.evaluation.criteria import judge
from orchestrator.evaluation.results import ApprovalRecord, TrialResult, TurnRecord
from orchestrator.evaluation.scenario import Scenario
from orchestrator.evaluation.simulator import CodeSource, SimulatedCustomer
from shared.errors import InvalidRequest, ServiceUnavailable

_CODE = re.compile(r"\b(\d{6})\b")
OnResult = Callable[[TrialResult], None]


@dataclass(frozen=True)
class Approver:
    """A staff account with the approver role at the gateway: the simulated human who decides held calls."""

    gateway_url: str
    token: str


@dataclass
class Target:
    """Where the orchestrator listens, and (when on this machine) the deployment's data directory.

    With a data directory the runner also reads the audit log, the enterprise systems' data
    and the identity outbox; without one, criteria that need them are reported "not observed".
    With an ``approver`` it plays the human who decides held tool calls, through the same
    approvals API a human uses.
    """

    orchestrator_url: str
    data_dir: Path | None = None
    code_command: str | None = None
    embedded: bool = False
    approver: Approver | None = None


APPROVAL_WAIT_SECONDS = 20.0
"""How long a decided approval may take to reach the conversation before the trial fails."""


def gateway_supports(requirement: str, target: Target) -> bool:
    """Whether a scenario's requirement can be met against this target."""
    if requirement == "approvals":
        return target.approver is not None
    return False


async def _decide(
    http: httpx.AsyncClient,
    approver: Approver,
    approval_id: str,
    decision: Literal["approve", "reject"],
    state_of: Callable[[], Any],
) -> ApprovalRecord:
    """Decide a held call as a human would, then wait until the conversation has heard of it."""
    body = {"note": "declined by the evaluation's simulated approver"} if decision == "reject" else {}
    response = await http.post(
        f"{approver.gateway_url}/governance/approvals/{approval_id}/{decision}",
        json=body,
        headers={"Authorization": f"Bearer {approver.token}"},
    )
    if response.status_code != 200:
        return ApprovalRecord(
            approval_id=approval_id, decision=decision, status=f"HTTP {response.status_code}: {response.text[:200]}"
        )
    status = str(response.json().get("status", ""))
    # The gateway tells the orchestrator on its own schedule; the customer's view is the evidence.
    try:
        async with asyncio.timeout(APPROVAL_WAIT_SECONDS):
            while True:
                state = await state_of()
                if state.get("waiting_for_approval") != approval_id:
                    break
                await asyncio.sleep(0.05)
    except TimeoutError:
        return ApprovalRecord(
            approval_id=approval_id, decision=decision, status=f"{status}; never reached the customer"
        )
    told = next((e["text"] for e in reversed(state.get("transcript", [])) if e.get("role") == "agent"), "")
    return ApprovalRecord(approval_id=approval_id, decision=decision, status=status, told=told)


def _code_source(target: Target) -> CodeSource:
    async def from_outbox(customer_id: str) -> str | None:
        assert target.data_dir is not None
        messages = await asyncio.to_thread(read_outbox, target.data_dir, customer_id=customer_id, limit=1)
        match = _CODE.search(messages[-1]["text"]) if messages else None
        return match.group(1) if match else None

    async def from_command(customer_id: str) -> str | None:
        assert target.code_command is not None
        process = await asyncio.create_subprocess_shell(
            target.code_command,
            env={**os.environ, "CUSTOMER_ID": customer_id},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            out, _ = await asyncio.wait_for(process.communicate(), timeout=15)
        except TimeoutError:
            process.kill()
            return None
        match = _CODE.search(out.decode(errors="replace"))
        return match.group(1) if match else None

    async def none(customer_id: str) -> str | None:
        return None

    if target.code_command:
        return from_command
    return from_outbox if target.data_dir else none


async def run_trial(
    http: httpx.AsyncClient,
    target: Target,
    scenario: Scenario,
    customer: dict[str, Any],
    trial: int,
    *,
    other: dict[str, Any] | None = None,
) -> TrialResult:
    """Play one conversation to its end and judge it."""
    result = TrialResult(
        scenario_id=scenario.id,
        agent=scenario.agent,
        skill=scenario.skill,
        trial=trial,
        customer_id=str(customer.get("customer_id", "")),
    )
    # Only an embedded stack's data directory shows the systems' state before and after.
    observed = target.data_dir if target.embedded else None
    before = await asyncio.to_thread(fixtures.snapshot, observed, customer) if observed is not None else None
    started = await http.post("/api/conversations", json={"channel": scenario.conversation.channel})
    if started.status_code != 201:
        raise ServiceUnavailable(
            f"the orchestrator did not start a conversation (HTTP {started.status_code})",
            hint="check the URL points at a running Switchboard orchestrator",
        )
    body = started.json()
    conversation_id, token = body["conversation_id"], body["token"]
    result.conversation_id = conversation_id
    headers = {"Authorization": f"Bearer {token}"}

    async def state_of() -> dict[str, Any]:
        state: dict[str, Any] = (await http.get(f"/api/conversations/{conversation_id}", headers=headers)).json()
        return state

    customer_sim = SimulatedCustomer(scenario, customer, trial=trial, codes=_code_source(target), other=other)
    # One turn past the limit, so "took too many turns" is observed rather than cut off.
    hard_cap = scenario.criteria.max_turns + 1
    message: str | None = await customer_sim.opening()
    while message is not None and len(result.turns) < hard_cap:
        t0 = time.perf_counter()
        response = await http.post(
            f"/api/conversations/{conversation_id}/messages",
            json={"text": message, "channel": scenario.conversation.channel},
            headers=headers,
        )
        latency = (time.perf_counter() - t0) * 1000
        if response.status_code != 200:
            result.turns.append(
                TurnRecord(
                    said=message, reply=response.text[:500], http_status=response.status_code, latency_ms=latency
                )
            )
            break
        outcome = response.json()
        result.turns.append(
            TurnRecord(
                said=message,
                reply=outcome.get("reply", ""),
                agent=outcome.get("agent"),
                skill=outcome.get("skill"),
                status=outcome.get("status", ""),
                verified=bool(outcome.get("verified")),
                handoffs=list(outcome.get("handoffs") or []),
                latency_ms=latency,
            )
        )
        data = outcome.get("data") or {}
        if target.approver is not None and data.get("approval_pending") and data.get("approval_id"):
            result.approvals.append(
                await _decide(http, target.approver, str(data["approval_id"]), scenario.conversation.approver, state_of)
            )
        message = await customer_sim.respond(outcome)
    state = await state_of()
    result.final_status = state.get("status", "")
    result.verified = bool(state.get("verified"))
    usage = state.get("llm_usage") or {}
    result.model_replies_withheld = int(sum(u.get("replies_withheld", 0) for u in usage.values()))
    audit = changes = None
    if target.data_dir is not None and (target.data_dir / "audit.db").exists():
        from gateway import read_audit

        audit = await asyncio.to_thread(
            read_audit, target.data_dir / "audit.db", conversation_id=conversation_id, limit=10_000
        )
    if before is not None and observed is not None:
        after = await asyncio.to_thread(fixtures.snapshot, observed, customer, conversation_id)
        changes = fixtures.diff(before, after)
    judge(scenario, result, audit, changes, customer_sim.values)
    return result


def _skip_reason(scenario: Scenario, target: Target) -> str | None:
    missing = [r for r in scenario.requires if not gateway_supports(r, target)]
    if missing:
        return f"needs {', '.join(missing)}: give the evaluation an approver (--gateway-url and --approver-token)"
    if not target.embedded and scenario.customer.overrides:
        return "sets up enterprise data (overrides); run it embedded"
    if target.data_dir is None and not scenario.customer.keys:
        return "no customer keys: give --data-dir of the deployment or 'customer.keys' in the scenario"
    return None


async def run_scenarios(
    target: Target,
    scenarios: list[Scenario],
    *,
    trials: int = 1,
    concurrency: int = 8,
    on_result: OnResult | None = None,
    prepared: tuple[dict[tuple[str, int], dict[str, Any]], dict[str, Any]] | None = None,
) -> list[TrialResult]:
    """Run every trial of every scenario, ``concurrency`` conversations at a time."""
    if trials < 1:
        raise InvalidRequest("trials must be at least 1", hint="pass --trials 1 or more")
    skips = {s.id: _skip_reason(s, target) for s in scenarios}
    runnable = [s for s in scenarios if skips[s.id] is None]
    if prepared is not None:
        customers, other = prepared
    elif target.data_dir is not None:
        customers, other = fixtures.allocate_customers(target.data_dir, runnable, trials)
    else:
        customers = {(s.id, t): dict(s.customer.keys or {}) for s in runnable for t in range(trials)}
        other = {}
    gate = asyncio.Semaphore(max(1, concurrency))
    results: list[TrialResult] = []

    async def one(http: httpx.AsyncClient, scenario: Scenario, trial: int) -> None:
        reason = skips[scenario.id]
        if reason is None and (scenario.id, trial) not in customers:
            reason = "no customer was set up for it"
        if reason is not None:
            result = TrialResult(
                scenario_id=scenario.id, agent=scenario.agent, skill=scenario.skill, trial=trial, skipped=reason
            )
        else:
            async with gate:
                try:
                    result = await run_trial(
                        http, target, scenario, customers[(scenario.id, trial)], trial, other=other
                    )
                except (httpx.HTTPError, ServiceUnavailable) as exc:
                    result = TrialResult(
                        scenario_id=scenario.id, agent=scenario.agent, skill=scenario.skill, trial=trial
                    )
                    result.failures.append(f"could not talk to the orchestrator: {exc}")
        results.append(result)
        if on_result is not None:
            on_result(result)

    async with httpx.AsyncClient(base_url=target.orchestrator_url, timeout=60) as http, asyncio.TaskGroup() as group:
        for trial in range(trials):
            for scenario in scenarios:
                group.create_task(one(http, scenario, trial))
    return sorted(results, key=lambda r: (r.scenario_id, r.trial))


async def run_embedded(
    scenarios: list[Scenario],
    *,
    trials: int = 1,
    concurrency: int = 8,
    data_dir: Path | None = None,
    customers: int = 240,
    on_result: OnResult | None = None,
) -> list[TrialResult]:
    """Seed a fresh data directory, set up every scenario's data, start the stack, run, stop."""
    from mcp_servers.dataset import ensure_seeded
    from orchestrator.launcher import Stack
    from shared.secrets import Secrets
    from shared.settings import Settings

    with tempfile.TemporaryDirectory(prefix="switchboard-eval-") as scratch:
        root = Path(data_dir) if data_dir is not None else Path(scratch)
        if root.exists() and any((root / "systems").glob("*.db")) and (root / "conversations.db").exists():
            raise InvalidRequest(
                f"{root} already holds a deployment's data; an evaluation changes it",
                hint="pass an empty --data-dir, or none for a temporary one",
            )
        await asyncio.to_thread(ensure_seeded, root, customers=customers)
        # The approver's account exists before the stack starts, so scenarios needing one are runnable.
        secrets = await asyncio.to_thread(Secrets.load_or_create, root)
        target = Target(orchestrator_url="", data_dir=root, embedded=True, approver=Approver("", ""))
        runnable = [s for s in scenarios if _skip_reason(s, target) is None]
        customers_by_trial, other = await asyncio.to_thread(fixtures.allocate_customers, root, runnable, trials)
        for scenario in runnable:
            for trial in range(trials):
                customer = customers_by_trial[(scenario.id, trial)]
                await asyncio.to_thread(fixtures.apply_overrides, root, customer, scenario.customer.overrides)
        stack = Stack(Settings(data_dir=root, customers=customers, host="127.0.0.1"), ephemeral_ports=True)
        topology = await stack.start()
        try:
            target.orchestrator_url = topology.orchestrator
            target.approver = Approver(topology.gateway, secrets.staff_token("approver")[1])
            return await run_scenarios(
                target,
                scenarios,
                trials=trials,
                concurrency=concurrency,
                on_result=on_result,
                prepared=(customers_by_trial, other),
            )
        finally:
            await stack.stop()
