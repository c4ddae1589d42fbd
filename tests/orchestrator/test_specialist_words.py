"""Specialists own their words: the supervisor passes on a skill's approval and rejection texts,
and a specialist's hand-over reason and priority reach the next agent.

The specialists here are scripted at the A2A boundary (the directory's ``send``); everything
on the supervisor's side (routing, parking, the approval callback, the offer) runs for real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from agents.runtime.card import build_card
from orchestrator.conversations import SqliteConversationStore
from orchestrator.routing import RouteDecision
from orchestrator.specialists import Specialist, SpecialistDirectory, SpecialistReply
from orchestrator.supervisor import Supervisor
from shared.envelope import ContextEnvelope
from shared.errors import ConfigurationError
from shared.handoff import HandoffRequest, HandoffTarget, SpecialistResult
from shared.skill_messages import skill_messages
from shared.skills import Skill, load_skills

DISCOUNT_WORDS = {
    "waiting": "Your loyalty discount is waiting for a colleague's approval; I'll tell you here when it's decided.",
    "approved": "Good news: your loyalty discount is now on your account{reference}. Your next bill shows it.",
    "rejected": "I'm sorry, our team couldn't approve the discount, so your plan and price stay as they are.",
}


def _retention_skill() -> Skill:
    return Skill(
        name="retention-offer",
        description="Keep a customer who wants to cancel with an offer.",
        agent="retention",
        version="1.0",
        tags=(),
        examples=("I want to cancel my contract",),
        body="",
        path=Path("skills/retention-offer/SKILL.md"),
        customer_label="cancelling your contract",
    )


class ScriptedDirectory(SpecialistDirectory):
    """Real AgentCards; each ``send`` answers from the script and records what it was sent."""

    def __init__(self, script: dict[str, Callable[[HandoffRequest], SpecialistReply]]) -> None:
        cards = {
            "retention": build_card(
                "retention",
                description="Retention",
                public_url="http://retention.test",
                skills=[_retention_skill()],
                token_url="http://tokens.test/token",
            ),
            "escalation": build_card(
                "escalation",
                description="Escalation",
                public_url="http://escalation.test",
                skills=load_skills(agent="escalation"),
                token_url="http://tokens.test/token",
            ),
        }
        # No A2A client: ``send`` below answers in its place.
        specialists = {
            name: Specialist(name, f"http://{name}.test", card, None, {s.id: frozenset(s.tags) for s in card.skills})  # type: ignore[arg-type]
            for name, card in cards.items()
        }
        super().__init__(specialists, [httpx.AsyncClient()], 5.0)
        self.script = script
        self.sent: list[tuple[str, HandoffRequest, ContextEnvelope]] = []

    async def send(
        self,
        agent: str,
        text: str,
        envelope: ContextEnvelope,
        handoff: HandoffRequest,
        *,
        task_id: str | None = None,
        or_new_task: bool = True,
    ) -> SpecialistReply:
        self.sent.append((agent, handoff, envelope))
        return self.script[agent](handoff)


@dataclass
class ToRetention:
    """Every message is about cancelling, except an explicit yes/no, which the supervisor handles first."""

    async def route(self, text: str) -> RouteDecision:
        return RouteDecision(agent="retention", skill="retention-offer", confidence=0.9, reason="cancel")


@dataclass
class Line:
    supervisor: Supervisor
    directory: ScriptedDirectory
    store: SqliteConversationStore
    said: list[str] = field(default_factory=list)

    async def last_agent_words(self, conversation_id: str) -> str:
        transcript = await self.store.transcript(conversation_id)
        return [e.text for e in transcript if e.role == "agent"][-1]


def _held(messages: dict[str, str]) -> Callable[[HandoffRequest], SpecialistReply]:
    def reply(handoff: HandoffRequest) -> SpecialistReply:
        result = SpecialistResult(
            status="completed",
            skill=handoff.skill,
            summary="billing.apply_discount awaits approval",
            data={"approval_pending": True, "approval_id": "APR-DISCOUNT1"},
            messages=messages,
        )
        return SpecialistReply("That offer needs a quick approval from our team.", result, "task-1")

    return reply


Script = dict[str, Callable[[HandoffRequest], SpecialistReply]]
MakeLine = Callable[[Script], Awaitable[Line]]


@pytest.fixture
async def line(tmp_path: Path) -> AsyncIterator[MakeLine]:
    made: list[Line] = []

    async def make(script: Script) -> Line:
        store = await SqliteConversationStore.open(tmp_path / f"conversations{len(made)}.db")
        directory = ScriptedDirectory(script)
        made.append(Line(Supervisor(store, directory, ToRetention()), directory, store))
        return made[-1]

    yield make
    for running in made:
        await running.directory.close()
        await running.store.close()


async def test_an_approved_discount_is_told_in_the_specialists_words(line: MakeLine) -> None:
    running: Line = await line({"retention": _held(DISCOUNT_WORDS)})
    state, _ = await running.supervisor.start()
    first = await running.supervisor.turn(state.conversation_id, "I want to cancel")
    assert first.reply == "That offer needs a quick approval from our team."
    waiting = await running.supervisor.turn(state.conversation_id, "any news?")
    assert waiting.reply == DISCOUNT_WORDS["waiting"]

    done = await running.supervisor.resolve_approval(
        "APR-DISCOUNT1", state.conversation_id, "executed", {"discount_id": "DSC-7"}
    )
    assert done
    told = await running.last_agent_words(state.conversation_id)
    assert told == "Good news: your loyalty discount is now on your account (reference DSC-7). Your next bill shows it."
    assert "card" not in told and "refund" not in told


async def test_a_rejection_uses_the_skill_words_and_without_them_nothing_assumes_a_refund(line: MakeLine) -> None:
    running: Line = await line({"retention": _held(DISCOUNT_WORDS)})
    state, _ = await running.supervisor.start()
    await running.supervisor.turn(state.conversation_id, "I want to cancel")
    await running.supervisor.resolve_approval("APR-DISCOUNT1", state.conversation_id, "rejected", {}, "too generous")
    assert await running.last_agent_words(state.conversation_id) == DISCOUNT_WORDS["rejected"]

    silent: Line = await line({"retention": _held({})})
    state, _ = await silent.supervisor.start()
    await silent.supervisor.turn(state.conversation_id, "I want to cancel")
    await silent.supervisor.resolve_approval("APR-DISCOUNT1", state.conversation_id, "executed", {})
    neutral = await silent.last_agent_words(state.conversation_id)
    assert neutral.startswith("Good news: your request has been approved and carried out.")
    for refund_word in ("card", "refund", "working days", "issued"):
        assert refund_word not in neutral


async def test_the_specialists_hand_over_reason_and_priority_reach_the_next_agent(line: MakeLine) -> None:
    reason = "still wants to cancel after a 20% retention offer; contract ends in March"

    def retention(handoff: HandoffRequest) -> SpecialistReply:
        result = SpecialistResult(
            status="completed",
            skill=handoff.skill,
            summary="offer declined",
            handoff_to=HandoffTarget(agent="escalation", skill="human-handoff", reason=reason, priority="high"),
        )
        return SpecialistReply("I can put you through to a colleague who can close the contract. Shall I?", result, "t")

    def escalation(handoff: HandoffRequest) -> SpecialistReply:
        result = SpecialistResult(status="completed", skill=handoff.skill, summary="handed to a human")
        return SpecialistReply("I've asked a member of our team to join this conversation.", result, "t2")

    running: Line = await line({"retention": retention, "escalation": escalation})
    state, _ = await running.supervisor.start()
    await running.supervisor.turn(state.conversation_id, "I want to cancel")
    await running.supervisor.turn(state.conversation_id, "yes please")

    agent, handoff, envelope = running.directory.sent[-1]
    assert agent == "escalation"
    assert handoff.reason == reason and envelope.handoff_reason == reason
    assert handoff.priority == "high"


def test_the_refund_skill_keeps_its_own_words() -> None:
    (refund,) = [s for s in load_skills() if s.name == "refund-charge"]
    words = skill_messages(refund)
    assert "reaches your card within 3 to 5 working days" in words["approved"]
    assert "couldn't approve" in words["rejected"] and "nothing has been refunded" in words["rejected"]


@pytest.mark.parametrize(
    ("line_text", "error"),
    [
        ("- approvd: Done.", r"is not '- <outcome>: <text>'"),
        ("- approved:", r"is not '- <outcome>: <text>'"),
        ("- approved: Done for {customer}.", r"unknown placeholder \{customer\}"),
    ],
)
def test_a_wrong_messages_line_names_the_skill_file(line_text: str, error: str) -> None:
    skill = _retention_skill()
    broken = Skill(**{**skill.__dict__, "body": f"## Messages\n{line_text}\n\n## Examples\n- x\n"})
    with pytest.raises(ConfigurationError, match=r"retention-offer/SKILL\.md: ## Messages.*" + error):
        skill_messages(broken)


def test_a_specialist_offers_a_person_in_its_skills_words_with_reason_and_priority() -> None:
    from agents.runtime.outcomes import hand_over
    from agents.runtime.turn import Turn

    words = {"handover": "A colleague can close your contract with you today. Shall I put you through?"}
    turn = Turn(
        text="I still want to leave",
        envelope=ContextEnvelope(conversation_id="conv-h"),
        handoff=HandoffRequest(skill="retention-offer"),
        gateway=None,  # type: ignore[arg-type]  # offering a person calls no tool
        agent="retention",
        messages=words,
    )
    reply = hand_over(turn, reason="wants to leave after the offer", priority="high")
    assert reply.text == words["handover"]
    target = reply.result.handoff_to
    assert target is not None and (target.agent, target.skill) == ("escalation", "human-handoff")
    assert (target.reason, target.priority) == ("wants to leave after the offer", "high")
    plain = hand_over(Turn("x", ContextEnvelope(conversation_id="c"), HandoffRequest(skill="s"), None), reason="r")  # type: ignore[arg-type]
    assert plain.text.startswith("I can put you through") and plain.result.handoff_to.priority == "normal"  # type: ignore[union-attr]


async def test_a_refused_approval_offers_a_person_with_the_reason(line: MakeLine) -> None:
    def escalation(handoff: HandoffRequest) -> SpecialistReply:
        result = SpecialistResult(status="completed", skill=handoff.skill, summary="handed to a human")
        return SpecialistReply("I've asked a member of our team to join this conversation.", result, "t2")

    running = await line({"retention": _held(DISCOUNT_WORDS), "escalation": escalation})
    state, _ = await running.supervisor.start()
    await running.supervisor.turn(state.conversation_id, "I want to cancel")
    await running.supervisor.resolve_approval("APR-DISCOUNT1", state.conversation_id, "rejected", {})
    await running.supervisor.turn(state.conversation_id, "yes")
    agent, handoff, _ = running.directory.sent[-1]
    assert agent == "escalation"
    assert handoff.reason == "retention: billing.apply_discount awaits approval; the approval was rejected"
