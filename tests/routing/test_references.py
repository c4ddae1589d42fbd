"""A reference the customer quotes back does not move their request, nor make it two requests."""

from __future__ import annotations

import pytest

from orchestrator.routing import OfflineBrain

# References as the network hands them out (random hex after the prefix); each of these once made
# "the reference was ..." read as a second request of its own.
REFERENCES = ["PORT-E0F31994", "PORT-F393719E", "PORT-96FF69CE", "PORT-F138974F", "PORT-21364DFD", "PORT-1A2B3C4D"]


@pytest.mark.asyncio
@pytest.mark.parametrize("reference", REFERENCES)
async def test_a_port_in_status_question_is_one_request_whatever_its_reference(
    brain: OfflineBrain, reference: str
) -> None:
    decision = await brain.route(f"how is my number transfer going? the reference was {reference}")
    assert (decision.agent, decision.skill, decision.parts) == ("support", "number-porting", []), decision
