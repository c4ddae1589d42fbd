"""The AgentCard of a specialist, built once at start-up from its SKILL.md files."""

from __future__ import annotations

from collections.abc import Sequence

from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentExtension,
    AgentInterface,
    AgentSkill,
)

from shared.handoff import ENVELOPE_EXTENSION, HANDOFF_EXTENSION
from shared.service_auth.a2a import security
from shared.service_auth.audiences import agent as audience_of
from shared.settings import A2A_JSONRPC_PATH, A2A_REST_PATH
from shared.skills import Skill

CARD_VERSION = "0.2.0"
INPUT_MODES = ["text/plain"]
OUTPUT_MODES = ["text/plain", "application/json"]
CARD_CACHE_CONTROL = "public, max-age=300"
"""Cards change only when an agent is redeployed; the ETag makes revalidation one 304."""

EXTENSIONS = [
    AgentExtension(
        uri=ENVELOPE_EXTENSION,
        description="Context envelope (conversation, customer, signed auth context, consent, trace) as JSON "
        "in message metadata 'switchboard/envelope'.",
        required=True,
    ),
    AgentExtension(
        uri=HANDOFF_EXTENSION,
        description="Handoff (skill id, reason) as JSON in message metadata 'switchboard/handoff'; "
        "the reply's data part and metadata 'switchboard/result' carry the SpecialistResult.",
        required=True,
    ),
]


def build_card(name: str, *, description: str, public_url: str, skills: Sequence[Skill], token_url: str) -> AgentCard:
    """Card for agent ``name`` served from ``public_url`` (no trailing slash needed).

    ``token_url`` is the token endpoint where callers get the bearer token the card requires.
    """
    base = public_url.rstrip("/")
    return AgentCard(
        **security(token_url, audience_of(name)),
        name=name,
        description=description,
        version=CARD_VERSION,
        supported_interfaces=[
            AgentInterface(url=f"{base}{A2A_JSONRPC_PATH}", protocol_binding="JSONRPC", protocol_version="1.0"),
            AgentInterface(url=f"{base}{A2A_REST_PATH}", protocol_binding="HTTP+JSON", protocol_version="1.0"),
        ],
        capabilities=AgentCapabilities(streaming=True, push_notifications=False, extensions=EXTENSIONS),
        default_input_modes=INPUT_MODES,
        default_output_modes=OUTPUT_MODES,
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
