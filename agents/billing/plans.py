"""``change-plan``: show the plans, let the customer pick one by name, confirm, change.

    verify -> load -> choose (waits for a plan name) -> confirm (waits for yes/no) -> change

``change`` reads the account and the plan again before it acts: the fee and name the customer is
told at the end are the billing system's at that moment, not the list shown turns ago.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime import Reply, Turn
from agents.runtime.graph import SkillContext, SkillState, ask, finish, turn_of
from agents.runtime.outcomes import log_interaction
from agents.runtime.references import Resolved, Shown, resolve
from agents.runtime.steps import VERIFY_NODE, in_step, verified_first
from agents.runtime.text import best_match, day, money
from shared.yes_no import yes_no


def _plan_list(plans: list[dict[str, Any]], current: str | None) -> str:
    rows = []
    for plan in plans:
        mark = " (your current plan)" if plan["plan_id"] == current else ""
        data = f", {plan['data_gb']} GB" if plan.get("data_gb") is not None else ""
        rows.append(f"- {plan['name']}: {money(plan['monthly_fee'])} a month{data}{mark}")
    return "\n".join(rows)


def _shown(plans: list[dict[str, Any]]) -> list[Shown]:
    """The plans as the customer saw them listed, for "the 30GB one", "the second", "the cheaper one"."""
    return [
        Shown(
            label=f"{p['name']} ({money(p['monthly_fee'])} a month)",
            amount=Decimal(str(p["monthly_fee"])) if p.get("monthly_fee") is not None else None,
            size_gb=p.get("data_gb"),
        )
        for p in plans
    ]


def _pick(text: str, plans: list[dict[str, Any]], current: str | None = None) -> dict[str, Any] | Resolved | None:
    """The plan the text names (by name, or by place, size, price or comparison in the list shown);
    an unresolved reference to the list when it points at several; None when it names none."""
    index = best_match(text, [p["name"] for p in plans])
    if index is None:
        index = best_match(text, [p["plan_id"] for p in plans], cutoff=0.9)
    if index is not None:
        return plans[index]
    mine = next((i for i, p in enumerate(plans) if p["plan_id"] == current), None)
    referred = resolve(text, _shown(plans), datetime.now(UTC).date(), mine)
    if referred.index is not None:
        return plans[referred.index]
    return referred if referred.clue else None


class PlanState(SkillState, total=False):
    current: str | None
    current_name: str
    plans: list[dict[str, Any]]
    plan_id: str
    asked: Literal["current", "unclear", "which"]
    question: str
    among: list[str]
    """The plan ids the clarifying question named: "the first" then means the first of those."""
    reconfirm: bool


async def load(state: PlanState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "choose")
    assert turn.keys is not None
    account = await turn.call("billing.get_account", {"msisdn": turn.keys.msisdn})
    listed = await turn.call("billing.list_plans", {})
    plans = [{k: p.get(k) for k in ("plan_id", "name", "monthly_fee", "data_gb")} for p in listed.get("plans") or []]
    return Command(
        goto="choose",
        update=PlanState(current=account.get("plan_id"), current_name=account.get("plan_name", ""), plans=plans),
    )


def _choice_prompt(turn: Turn, state: PlanState, note: str | None) -> Reply:
    plans, current = state["plans"], state.get("current")
    if note == "current":
        name = next((p["name"] for p in plans if p["plan_id"] == current), "that plan")
        return turn.reply(
            f"You're already on {name}. Which plan would you like instead?\n" + _plan_list(plans, current),
            "input-required",
            summary="customer named their current plan",
        )
    if note == "which":  # the reply pointed at several plans in the list: ask between those only
        return turn.reply(
            state.get("question") or "Which plan would you like?",
            "input-required",
            summary="asked which of the plans they meant",
            data={"plans": plans, "current_plan_id": current},
        )
    opener = (
        "I didn't catch which plan you mean. "
        if note == "unclear"
        else f"You're on {state.get('current_name') or 'your current plan'}. "
    )
    return turn.reply(
        opener + "These are the plans you can move to:\n" + _plan_list(plans, current) + "\nWhich one would you like?",
        "input-required",
        summary="asked which plan",
        # Channels can offer the choices as buttons rather than make the customer type a name.
        data={"plans": plans, "current_plan_id": current},
    )


async def choose(state: PlanState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "choose")
    plans, current = state["plans"], state.get("current")
    note: str | None = state.get("asked")
    if note is None:  # the request itself may already name the plan ("move me to the 30GB one")
        named = _pick(turn.text, plans)
        if isinstance(named, dict) and named["plan_id"] != current:
            return Command(goto="confirm", update={"plan_id": named["plan_id"], "reconfirm": False})
        note = "current" if isinstance(named, dict) else None
    answer = ask(_choice_prompt(turn, state, note))
    among = [p for p in plans if p["plan_id"] in state.get("among", [])] if note == "which" else plans
    chosen = _pick(answer, among or plans, current)
    if chosen is None and among is not plans:
        outright = _pick(answer, plans)  # a plan named outright, outside the ones just asked about
        chosen = outright if isinstance(outright, dict) else None
    if isinstance(chosen, Resolved):
        pool = among or plans
        question = chosen.question(_shown(pool), "plan")
        ids = [pool[i]["plan_id"] for i in chosen.candidates] or [p["plan_id"] for p in pool]
        return Command(goto="choose", update={"asked": "which", "question": question, "among": ids})
    if chosen is None and yes_no(answer) is False:
        return finish(
            turn.reply(
                "No problem, I've left your plan as it is.",
                "completed",
                summary="plan change abandoned",
                data={"changed": False},
            )
        )
    if chosen is not None and chosen["plan_id"] != current:
        return Command(goto="confirm", update={"plan_id": chosen["plan_id"], "reconfirm": False})
    return Command(goto="choose", update={"asked": "current" if chosen is not None else "unclear"})


def _confirm_prompt(turn: Turn, state: PlanState) -> Reply:
    if state.get("reconfirm"):
        return turn.reply(
            "Sorry, should I go ahead with the change? Please answer yes or no.",
            "input-required",
            summary="waiting for confirmation",
        )
    plan = next(p for p in state["plans"] if p["plan_id"] == state["plan_id"])
    return turn.reply(
        f"Just to confirm: you'd like to move to {plan['name']} at {money(plan['monthly_fee'])} a month? (yes/no)",
        "input-required",
        summary=f"confirming change to {plan['name']}",
    )


async def confirm(state: PlanState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "choose")
    said = ask(_confirm_prompt(turn, state))
    answer = yes_no(said)
    if answer is None:
        other = _pick(said, state["plans"])
        if isinstance(other, dict) and other["plan_id"] not in (state["plan_id"], state.get("current")):
            return Command(goto="confirm", update={"plan_id": other["plan_id"], "reconfirm": False})
        return Command(goto="confirm", update={"reconfirm": True})
    if answer is False:
        return finish(
            turn.reply(
                "OK, I haven't changed anything. Your plan stays as it is.",
                "completed",
                summary="plan change declined",
                data={"changed": False},
            )
        )
    return Command(goto="change")


async def change(state: PlanState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "change")
    assert turn.keys is not None
    # Read the plan and the account again now: the offer or the customer's plan may have changed.
    listed = await turn.call("billing.list_plans", {})
    plan = next((p for p in listed.get("plans") or [] if p.get("plan_id") == state["plan_id"]), None)
    if plan is None:
        return finish(
            turn.reply(
                "I'm sorry, that plan isn't available any more, so I haven't changed anything. "
                "Would you like to pick another one?",
                "completed",
                summary=f"the chosen plan ({state['plan_id']}) is no longer offered",
                data={"changed": False},
            )
        )
    account = await turn.call("billing.get_account", {"msisdn": turn.keys.msisdn})
    if account.get("plan_id") == plan["plan_id"]:
        return finish(
            turn.reply(
                f"You're already on {plan['name']}, so there's nothing to change.",
                "completed",
                summary=f"already on {plan['name']}",
                data={"changed": False},
            )
        )
    changed = await turn.call(
        "billing.change_plan",
        {"msisdn": turn.keys.msisdn, "plan_id": plan["plan_id"]},
        step=f"change-plan:{plan['plan_id']}",
    )
    effective = changed.get("effective_from")
    # Names, not ids: this line is what the human taking the case reads.
    names = {p.get("plan_id"): p.get("name") for p in listed.get("plans") or []}
    old_name = names.get(changed.get("old_plan_id")) or state.get("current_name") or "the previous plan"
    summary = f"plan changed from {old_name} to {plan['name']}, effective {day(effective)}"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return finish(
        turn.reply(
            f"Done. You're now on {plan['name']}, effective from {day(effective)}.",
            "completed",
            summary=summary,
            data={
                "changed": True,
                "old_plan_id": changed.get("old_plan_id"),
                "new_plan_id": changed.get("new_plan_id"),
                "old_plan_name": old_name,
                "new_plan_name": plan["name"],
                "effective_from": effective,
            },
        )
    )


def graph() -> StateGraph[PlanState, SkillContext, Any, Any]:
    g = StateGraph(PlanState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("msisdn", then="load"))
    g.add_node("load", load)
    g.add_node("choose", choose)
    g.add_node("confirm", confirm)
    g.add_node("change", change)
    g.set_entry_point(VERIFY_NODE)
    return g
