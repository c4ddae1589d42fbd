"""``change-plan``: show the plans, let the customer pick one by name, confirm, change.

skill_state: ``step`` (choose | confirm), ``current`` (plan id), ``plans`` (id, name, fee),
``plan_id`` (the one awaiting confirmation).
"""

from __future__ import annotations

from typing import Any

from agents.runtime import Reply, Turn
from agents.runtime.outcomes import log_interaction, needs_verification
from agents.runtime.text import best_match, day, money, yes_no


def _plan_list(plans: list[dict[str, Any]], current: str | None) -> str:
    rows = []
    for plan in plans:
        mark = " (your current plan)" if plan["plan_id"] == current else ""
        data = f", {plan['data_gb']} GB" if plan.get("data_gb") is not None else ""
        rows.append(f"- {plan['name']}: {money(plan['monthly_fee'])} a month{data}{mark}")
    return "\n".join(rows)


def _pick(text: str, plans: list[dict[str, Any]]) -> dict[str, Any] | None:
    index = best_match(text, [p["name"] for p in plans])
    if index is None:
        index = best_match(text, [p["plan_id"] for p in plans], cutoff=0.9)
    return plans[index] if index is not None else None


async def change_plan(turn: Turn) -> Reply:
    if (blocked := needs_verification(turn, "msisdn")) is not None:
        return blocked
    state = dict(turn.state)
    if state.get("step") == "confirm":
        return await _confirm(turn, state)
    if state.get("step") != "choose":
        assert turn.keys is not None
        account = await turn.call("billing.get_account", {"msisdn": turn.keys.msisdn})
        listed = await turn.call("billing.list_plans", {})
        state.update(
            current=account.get("plan_id"),
            current_name=account.get("plan_name", ""),
            plans=[
                {k: p.get(k) for k in ("plan_id", "name", "monthly_fee", "data_gb")} for p in listed.get("plans") or []
            ],
        )
    return _choose(turn, state)


def _choose(turn: Turn, state: dict[str, Any]) -> Reply:
    plans: list[dict[str, Any]] = state["plans"]
    chosen = _pick(turn.text, plans)
    if chosen is not None and chosen["plan_id"] == state.get("current"):
        state["step"] = "choose"
        return turn.reply(
            f"You're already on {chosen['name']}. Which plan would you like instead?\n"
            + _plan_list(plans, state.get("current")),
            "input-required",
            summary="customer named their current plan",
            state=state,
        )
    if chosen is None:
        if state.get("step") == "choose" and yes_no(turn.text) is False:
            return turn.reply(
                "No problem, I've left your plan as it is.",
                "completed",
                summary="plan change abandoned",
                data={"changed": False},
            )
        state["step"] = "choose"
        opener = (
            "I didn't catch which plan you mean. "
            if "plans" in turn.state
            else f"You're on {state.get('current_name') or 'your current plan'}. "
        )
        return turn.reply(
            opener
            + "These are the plans you can move to:\n"
            + _plan_list(plans, state.get("current"))
            + "\nWhich one would you like?",
            "input-required",
            summary="asked which plan",
            state=state,
            # Channels can offer the choices as buttons rather than make the customer type a name.
            data={"plans": plans, "current_plan_id": state.get("current")},
        )
    state.update(step="confirm", plan_id=chosen["plan_id"])
    return turn.reply(
        f"Just to confirm: you'd like to move to {chosen['name']} at {money(chosen['monthly_fee'])} a month? (yes/no)",
        "input-required",
        summary=f"confirming change to {chosen['plan_id']}",
        state=state,
    )


async def _confirm(turn: Turn, state: dict[str, Any]) -> Reply:
    plans: list[dict[str, Any]] = state["plans"]
    answer = yes_no(turn.text)
    if answer is None:
        other = _pick(turn.text, plans)
        if other is not None and other["plan_id"] != state.get("plan_id"):
            return _choose(turn, state)
        return turn.reply(
            "Sorry, should I go ahead with the change? Please answer yes or no.",
            "input-required",
            summary="waiting for confirmation",
            state=state,
        )
    if answer is False:
        return turn.reply(
            "OK, I haven't changed anything. Your plan stays as it is.",
            "completed",
            summary="plan change declined",
            data={"changed": False},
        )
    assert turn.keys is not None
    plan = next(p for p in plans if p["plan_id"] == state["plan_id"])
    changed = await turn.call(
        "billing.change_plan",
        {"msisdn": turn.keys.msisdn, "plan_id": plan["plan_id"]},
        step=f"change-plan:{plan['plan_id']}",
    )
    effective = changed.get("effective_from")
    summary = f"plan changed from {changed.get('old_plan_id')} to {changed.get('new_plan_id')}"
    await log_interaction(turn, summary=summary, outcome="resolved")
    return turn.reply(
        f"Done. You're now on {plan['name']}, effective from {day(effective)}.",
        "completed",
        summary=summary,
        data={
            "changed": True,
            "old_plan_id": changed.get("old_plan_id"),
            "new_plan_id": changed.get("new_plan_id"),
            "effective_from": effective,
        },
    )
