"""Which goal a customer turn pursues: a person asked for, an offer taken or declined, a follow-up to the
active question or a change of topic, a new request; and what is said when no specialist takes it."""

from __future__ import annotations

import logging

from orchestrator import clarification, wording
from orchestrator.conversations import Clarification, Goal
from orchestrator.routing import RouteDecision
from orchestrator.turn_record import Turn
from shared.answer_shape import fits
from shared.yes_no import read, short_answer, vouching_answer

__all__ = ["Skill", "agent_confidence", "answer_without_goal", "answers_the_question", "choose"]

log = logging.getLogger("switchboard.supervisor")

Skill = tuple[str, str]
"""An (agent, skill) pair."""


def answers_the_question(text: str, asking: str | None = None) -> bool:
    """Whether ``text`` answers the active specialist's question, however sure the router is that
    its words belong elsewhere: a yes or no with a few words after it ("yes, cancel it"), one that
    only vouches for itself ("yes, it's my own number"), or the detail the specialist asked for (an
    address with a postcode, though its town sounds like an outage). A yes that goes on into a
    request of its own ("ok, now change my plan please") may still change the topic."""
    return short_answer(text) is not None or vouching_answer(text) is not None or fits(asking, text)


def choose(
    turn: Turn, text: str, decision: RouteDecision, *, human: Skill | None, threshold: float, switch_threshold: float
) -> tuple[Goal | None, str]:
    """The goal this turn pursues and why; no goal with a reason is an answer to say (a declined offer)."""
    state = turn.state
    routed = (
        Goal(agent=decision.agent, skill=decision.skill, text=text, confidence=decision.confidence)
        if decision.agent and decision.skill
        else None
    )
    if routed and human and (routed.agent, routed.skill) == human and decision.confidence >= threshold:
        turn.leave_active()
        state.offer = None
        return routed, "the customer asked for a human"
    if state.offer is not None:
        offer, state.offer = state.offer, None
        reading = read(text)
        # "please email me my bill" opens like a yes but asks for something else: a long reply
        # the router confidently places elsewhere is that request, not an answer to the offer.
        elsewhere = routed is not None and decision.confidence >= threshold
        opening = reading.short() if elsewhere else reading.opening
        if opening is True:
            offer.text = text
            return offer, offer.reason or "the customer accepted the offered handoff"
        if opening is False:
            return None, "No problem. Is there anything else I can help you with?"
    if state.active is not None:
        switching = (
            not answers_the_question(text, state.active.asking)
            and routed is not None
            and routed.agent != state.active.agent
            and agent_confidence(decision) >= switch_threshold
        )
        if routed is None or not switching:  # switching implies routed; said again for the checker
            return state.active, "follow-up to the active goal"
        log.info("topic change %s -> %s/%s", state.active.agent, routed.agent, routed.skill)
        state.summaries.append(f"{state.active.agent}: {state.active.skill} set aside, the customer asked for more")
        turn.leave_active()
        return routed, f"topic changed: {decision.reason}"
    if routed is None or decision.confidence < threshold:
        return None, ""
    return routed, decision.reason


def answer_without_goal(
    turn: Turn, text: str, decision: RouteDecision, *, labels: wording.Labels, human: Skill | None, threshold: float
) -> None:
    """No specialist takes this turn: small talk, something we do not do, a language we do not serve."""
    state = turn.state
    if decision.intent == "small-talk" and decision.confidence >= threshold:
        turn.say(None, None, wording.small_talk(text, labels), "completed")
    elif decision.intent in ("out-of-scope", "other-language") and decision.confidence >= threshold:
        if human:
            state.offer = Goal(agent=human[0], skill=human[1])
        reply = (
            wording.out_of_scope(human is not None)
            if decision.intent == "out-of-scope"
            else wording.other_language(decision.language)
        )
        turn.say(None, None, reply, "completed")
    else:
        options = clarification.offered(decision, labels)
        if len(options) >= 2 and decision.intent == "skill":
            state.clarifying = Clarification(options=options, said=text)
        turn.say(None, None, wording.clarifying_question(decision, labels), "clarify")


def agent_confidence(decision: RouteDecision) -> float:
    """How sure the brain is that the message belongs to the routed agent, whichever of its skills.

    A message can be clearly another agent's while split between two of its skills ("refund me
    8 pounds": refund or payment history); that still leaves a pending question of another agent.
    """
    best = next((a.score for a in decision.alternatives if a.skill == decision.skill), 0.0)
    if best <= 0:
        return decision.confidence
    same_agent = sum(a.score for a in decision.alternatives if a.agent == decision.agent)
    return min(1.0, decision.confidence * same_agent / best)
