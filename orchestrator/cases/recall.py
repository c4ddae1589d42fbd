"""After a hand-back the AI can say what the person told the customer ("what did Ben tell me?").

The answer comes from the conversation's own record: the human's replies in the transcript and
the note they left when handing back. Nothing is invented: no human lines, no answer here.
"""

from __future__ import annotations

import re

from orchestrator.conversations import ConversationState, TranscriptEntry

_ASKS = re.compile(
    r"\bwhat\s+(?:did|was it|had)\s+(?P<who>[a-z][a-z .'-]{0,40}?)\s+(?:tell|told|say|said|write|wrote|mean)\b",
    re.IGNORECASE,
)
_THE_PERSON = frozenset({"the agent", "your colleague", "the person", "the human", "they", "he", "she", "your agent"})
MAX_LINES = 3


def asks_what_a_person_said(text: str) -> str | None:
    """The person asked about ('ben', 'the agent'), or None when the text is not such a question."""
    found = _ASKS.search(text)
    return found.group("who").strip().lower() if found else None


def what_they_said(state: ConversationState, transcript: list[TranscriptEntry], who: str) -> str | None:
    """The person's latest replies and hand-back note, or None when nobody like that wrote here."""
    people = {e.agent for e in transcript if e.role == "human" and e.agent}
    named = [p for p in people if p.lower() == who or p.lower().split()[0] == who]
    if not named and who not in _THE_PERSON:
        return None
    if not named:
        named = sorted(people)
    lines = [e.text for e in transcript if e.role == "human" and e.agent in named][-MAX_LINES:]
    notes = [e.note for e in state.case_log if e.action == "handed-back" and e.actor in named and e.note]
    if not lines and not notes:
        return None
    name = named[0] if len(named) == 1 else "our team"
    said = " ".join(f"“{line}”" for line in lines)
    answer = f"{name.capitalize()} wrote to you: {said}" if said else ""
    if notes:
        answer += f"{' ' if answer else ''}When handing back, they noted: {notes[-1]}"
    return answer + " Is there anything else I can help you with?"
