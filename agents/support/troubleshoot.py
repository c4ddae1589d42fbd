"""``troubleshoot-service``: entitlements, line status, history, knowledge; a ticket only after a yes.

    verify -> describe (waits until the customer says what is wrong) -> diagnose
           -> wait (the findings and a ticket offer) -> confirm (yes/no) -> open_ticket

The diagnosis makes only reads, in the SKILL.md step ``diagnose``; the ticket is a write, made in
the step ``open-ticket`` on the turn the customer said yes, so the gateway refuses a ticket claimed
in the diagnosis, whoever asks for it.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.runtime import Turn
from agents.runtime.graph import SkillContext, SkillState, ask, finish, turn_of
from agents.runtime.outcomes import log_interaction
from agents.runtime.steps import VERIFY_NODE, WAIT_NODE, Prompt, in_step, say_then_wait, verified_first, wait
from agents.runtime.text import day
from agents.support.problems import (
    GENERAL,
    categorize,
    channel_phrase,
    find_recent_ticket,
    find_repeat,
    included_features,
    is_total_loss,
    latest_ticket,
)
from shared.yes_no import yes_no

_STEPS = 4


class TroubleshootState(SkillState, total=False):
    problem: str
    ticket: dict[str, Any]
    prompt: Prompt


def _problem(turn: Turn) -> str:
    return turn.text if len(turn.text.split()) >= 3 else f"{turn.handoff.reason} {turn.text}".strip()


async def describe(state: TroubleshootState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = turn_of(runtime)
    problem = _problem(turn)
    if categorize(problem) == GENERAL and len(problem.split()) < 3:
        ask(
            turn.reply(
                "I'm sorry you're having trouble. Can you tell me what's going wrong, for example no signal, "
                "slow data or calls failing?",
                "input-required",
                summary="asked what the problem is",
            )
        )
        return Command(goto="describe")
    return Command(goto="diagnose", update={"problem": problem})


async def diagnose(state: TroubleshootState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "diagnose")
    problem = state["problem"]
    category = categorize(problem)
    assert turn.keys is not None
    msisdn, email = turn.keys.msisdn, turn.keys.email
    knowledge = ("support.search_knowledge", {"query": problem, "limit": 3})
    # The reads this step needs, in one round trip; the articles too when the problem names its kind.
    reads: list[tuple[str, dict[str, Any]]] = [
        ("billing.get_entitlements", {"msisdn": msisdn}),
        ("network.get_line_status", {"msisdn": msisdn}),
        ("crm.list_interactions", {"email": email, "limit": 10}),
        ("support.list_tickets", {"email": email, "status": "any"}),
    ]
    if category != GENERAL:
        reads.append(knowledge)
    entitlements, line, history, listed, *found = await turn.read_many(reads)
    tickets = listed.get("tickets") or []
    earlier = find_recent_ticket(tickets, category)
    described = problem
    if category == GENERAL and earlier is None and (latest := latest_ticket(tickets)) is not None:
        # "Still not working, same problem": the latest ticket says which problem it is.
        earlier, category = latest, str(latest.get("category") or GENERAL)
        described = f"{latest.get('summary', '')} {problem}".strip()
        if category != GENERAL:
            found = [await turn.call("support.search_knowledge", {"query": described, "limit": 3})]
    repeat = find_repeat(history.get("interactions") or [], category, turn.skill)
    # Words like "same" or "still" alone would pick an unrelated article.
    articles: list[dict[str, Any]] = (found[0].get("articles") or []) if found and category != GENERAL else []
    is_repeat = repeat is not None or earlier is not None
    repeat_of = (earlier or {}).get("ticket_id") or (repeat or {}).get("interaction_id")
    ticket: dict[str, Any] = {
        "email": email,
        "category": category,
        "summary": described[:200],
        "priority": "high" if is_repeat or is_total_loss(problem) else "normal",
    }
    if repeat_of:
        ticket["repeat_of"] = repeat_of
    outage = line.get("area_outage")
    findings = _compose(problem, entitlements, line, repeat, earlier, articles)
    summary = f"{category} problem diagnosed" + (" (repeat)" if is_repeat else "")
    await log_interaction(turn, summary=summary, outcome="diagnosed")
    return say_then_wait(
        "\n".join([*findings, _offer(ticket, outage=isinstance(outage, dict) and bool(outage), repeat=is_repeat)]),
        summary=f"{summary}, ticket offered",
        then="confirm",
        data={
            "ticket_offered": True,
            "priority": ticket["priority"],
            "category": category,
            "repeat_of": repeat_of,
            "repeat": is_repeat,
            "repeat_conversation_id": repeat.get("conversation_id") if repeat else None,
            "outage_id": outage.get("id") if isinstance(outage, dict) else None,
            "plan_id": entitlements.get("plan_id"),
            "article_id": articles[0].get("article_id") if articles else None,
        },
        update={"ticket": ticket},
    )


def _offer(ticket: dict[str, Any], *, outage: bool, repeat: bool) -> str:
    if repeat:
        return (
            f"As this keeps happening, shall I open a {ticket['priority']} priority ticket so our network team "
            "looks into it? (yes/no)"
        )
    if outage:
        return "Our engineers are already on the outage. Would you like a ticket for your line as well? (yes/no)"
    return "If that doesn't fix it, shall I open a ticket so our team can follow up? (yes/no)"


async def confirm(state: TroubleshootState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "diagnose")
    answer = yes_no(turn.text)
    if answer is None:
        return say_then_wait(
            "Shall I open a ticket so our team can follow up? Please answer yes or no.",
            summary="waiting for a yes or no to the ticket",
            then="confirm",
        )
    if answer is False:
        return finish(
            turn.reply(
                "OK, I haven't opened a ticket. If the problem comes back, just tell me and I'll open one.",
                "completed",
                summary="ticket declined by the customer",
                data={"ticket_id": None, "ticket_offered": True},
            )
        )
    return Command(goto="open_ticket")


async def open_ticket(state: TroubleshootState, runtime: Runtime[SkillContext]) -> Command[Any]:
    turn = in_step(turn_of(runtime), "open-ticket")
    args = state["ticket"]
    opened = await turn.call("support.open_ticket", args, step=f"ticket:{args['category']}")
    priority = opened.get("priority") or args["priority"]
    summary = f"{args['category']} problem, ticket {opened.get('ticket_id')}" + (
        " (repeat)" if args.get("repeat_of") else ""
    )
    await log_interaction(turn, summary=summary, outcome="ticket-opened")
    return finish(
        turn.reply(
            f"I've opened ticket {opened.get('ticket_id')} ({priority} priority), so our team can follow up. "
            "We'll be in touch by email with what they find.",
            "completed",
            summary=summary,
            data={
                "ticket_id": opened.get("ticket_id"),
                "priority": priority,
                "category": args["category"],
                "repeat_of": args.get("repeat_of"),
            },
        )
    )


def graph() -> StateGraph[TroubleshootState, SkillContext, Any, Any]:
    g = StateGraph(TroubleshootState, context_schema=SkillContext)
    g.add_node(VERIFY_NODE, verified_first("msisdn", "email", then="describe"))
    g.add_node("describe", describe)
    g.add_node("diagnose", diagnose)
    g.add_node(WAIT_NODE, wait)
    g.add_node("confirm", confirm)
    g.add_node("open_ticket", open_ticket)
    g.set_entry_point(VERIFY_NODE)
    return g


def _compose(
    problem: str,
    entitlements: dict[str, Any],
    line: dict[str, Any],
    repeat: dict[str, Any] | None,
    earlier: dict[str, Any] | None,
    articles: list[dict[str, Any]],
) -> list[str]:
    parts = []
    if repeat:
        how = channel_phrase(repeat.get("channel"))
        parts.append(
            f"I can see you contacted us about this on {day(repeat.get('started_at'))}"
            f"{' ' + how if how else ''}, "
            "so I'm treating this as a repeat problem."
        )
    elif earlier:
        parts.append(
            f"I can see your ticket {earlier.get('ticket_id')} about this from {day(earlier.get('opened_at'))}, "
            "so I'm treating this as a repeat problem."
        )
    features = included_features(problem, entitlements.get("features") or [])
    if features:
        plan = entitlements.get("plan_name") or "your plan"
        parts.append(f"Your {plan} plan includes {', '.join(features)}, so that should be working for you.")
    outage = line.get("area_outage")
    if isinstance(outage, dict) and outage:
        area = line.get("area") or "your area"
        parts.append(f"There is a known outage in {area}: {outage.get('description', 'our engineers are on it')}.")
    if line.get("sim_status") and str(line["sim_status"]).lower() not in ("active", "ok"):
        parts.append(f"Your SIM shows as {line['sim_status']}, which can cause this.")
    steps = [str(s) for s in (articles[0].get("steps") or [])][:_STEPS] if articles else []
    if steps:
        parts.append("Please try these steps:\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1)))
    return parts
