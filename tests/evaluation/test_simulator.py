"""The simulated customer: deterministic per trial, answers identity questions, follows rules."""

from __future__ import annotations

from orchestrator.evaluation.scenario import Scenario
from orchestrator.evaluation.simulator import SimulatedCustomer

CUSTOMER = {"customer_id": "CUST-1", "email": "ann@example.com", "msisdn": "+447700900001", "display_name": "Ann"}
OTHER = {"customer_id": "CUST-2", "email": "bob@example.com"}


def _scenario(**conversation: object) -> Scenario:
    return Scenario.model_validate(
        {"id": "s", "title": "t", "agent": "billing", "skill": "explain-bill", "conversation": conversation}
    )


async def _code(customer_id: str) -> str | None:
    return "123456" if customer_id == "CUST-1" else None


async def test_identity_questions_are_answered_with_keys_then_the_code() -> None:
    sim = SimulatedCustomer(_scenario(turns=["explain my bill"]), CUSTOMER, trial=0, codes=_code)
    assert await sim.opening() == "explain my bill"
    ask = {"agent": "identity", "status": "input-required", "reply": "tell me your email", "verified": False}
    assert await sim.respond(ask) == "it's ann@example.com"
    code = {**ask, "reply": "I've sent a 6-digit code"}
    assert await sim.respond(code) == "123456"
    assert await sim.respond({"agent": "billing", "status": "completed", "reply": "done"}) is None


async def test_rules_answer_before_the_script_and_only_as_often_as_allowed() -> None:
    scenario = _scenario(
        turns=["change my plan", "bye"],
        rules=[{"when": "confirm", "agent": "billing", "say": "yes, {first_name} here"}],
    )
    sim = SimulatedCustomer(scenario, CUSTOMER, trial=0, codes=_code)
    await sim.opening()
    confirm = {"agent": "billing", "status": "input-required", "reply": "Shall I confirm?"}
    assert await sim.respond(confirm) == "yes, Ann here"
    assert await sim.respond(confirm) == "bye"
    assert await sim.respond({"agent": "support", "reply": "confirm"}) is None


async def test_placeholders_for_the_other_customer_and_codes() -> None:
    scenario = _scenario(turns=["her email is {other_email}", "{code}", "{unknown} stays"], verify=False)
    sim = SimulatedCustomer(scenario, CUSTOMER, trial=0, codes=_code, other=OTHER)
    assert await sim.opening() == "her email is bob@example.com"
    assert await sim.respond({"reply": "?"}) == "123456"
    assert await sim.respond({"reply": "?"}) == "{unknown} stays"


async def test_variants_and_typos_are_deterministic_per_trial_and_vary_across_trials() -> None:
    scenario = _scenario(
        turns=[["please explain the charges on my bill", "could you explain my latest invoice"]], typos=0.3
    )

    async def opening(trial: int) -> str:
        return await SimulatedCustomer(scenario, CUSTOMER, trial=trial, codes=_code).opening()

    assert await opening(1) == await opening(1)
    seen = {await opening(t) for t in range(12)}
    assert len(seen) > 2
    originals = {"please explain the charges on my bill", "could you explain my latest invoice"}
    assert seen - originals, "typos never happened"
