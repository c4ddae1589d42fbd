"""The AgentCard of a specialist, built once at start-up from its SKILL.md files."""

from __future__ import annotations

from collections.abc import Sequence

from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill

from shared.settings import A2A_JSONRPC_PATH
from shared.skills import Skill

CARD_VERSION = "0.1.0"


def build_card(name: str, *, description: str, public_url: str, skills: Sequence[Skill]) -> AgentCard:
    """Card for agent ``name`` served from ``public_url`` (no trailing slash needed)."""
    return AgentCard(
        name=name,
        description=description,
        version=CARD_VERSION,
        supported_interfaces=[
            AgentInterface(
                url=f"{public_url.rstrip('/')}{A2A_JSONRPC_PATH}",
                protocol_binding="JSONRPC",
                protocol_version="1.0",
            )
        ],
        capabilities=AgentCapabilities(streaming=False, push_notifications=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[
            AgentSkill(
                id=skill.name,
                # The human-readable name is the customer's wording: the supervisor offers it as is.
                name=skill.customer_label or skill.name.replace("-", " ").capitalize(),
                description=skill.description,
                tags=list(skill.tags),
                examples=list(skill.examples),
            )
            for skill in skills
        ],
    )
