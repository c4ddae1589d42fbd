"""Choosing the brain at start-up: the LLM router when a model is configured, else the offline one.

``SWITCHBOARD_ROUTER_MODEL`` (or ``SWITCHBOARD_MODEL``) names a litellm model; ``scripted`` names
the built-in double, which answers what the offline brain decides through the whole LLM path
(prompt, schema, validation, fallback, usage) so brains can be compared with no model at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from orchestrator.routing.brain import Brain
from orchestrator.routing.calibration import TARGET_WRONG
from orchestrator.routing.llm import UNCLEAR, LLMBrain
from orchestrator.routing.offline import DEFAULT_MAX_CHARS, OfflineBrain
from orchestrator.routing.specs import SkillSpec
from shared.llm import SCRIPTED_MODEL, LLMSettings, ModelClient, ModelReply, ModelRequest, ScriptedModel
from shared.llm.scripted import SCRIPTED_USAGE

_FENCED = re.compile(r"<customer_message>\n(.*)\n</customer_message>", re.DOTALL)


def build_brain(
    specs: Sequence[SkillSpec],
    settings: object | None = None,
    *,
    model: ModelClient | None = None,
    cache_dir: Path | None = None,
) -> Brain:
    """The routing brain for ``specs``.

    ``settings`` may be ``LLMSettings`` or any settings object (its ``max_message_chars`` and
    ``route_wrong_budget`` are honoured); model settings not given are read from ``SWITCHBOARD_*``.
    ``model`` overrides the configured one (tests pass a scripted double). ``cache_dir`` keeps the
    offline brain's trained weights between starts. Raises ConfigurationError for unusable specs or
    a budget with no fitted operating point.
    """
    llm = settings if isinstance(settings, LLMSettings) else LLMSettings()
    max_chars = int(getattr(settings, "max_message_chars", DEFAULT_MAX_CHARS))
    budget = float(getattr(settings, "route_wrong_budget", TARGET_WRONG))
    offline = OfflineBrain.from_skills(specs, max_chars=max_chars, cache_dir=cache_dir, wrong_budget=budget)
    name = llm.model_for("router")
    if model is None and name is None:
        return offline
    if model is None and name == SCRIPTED_MODEL:
        model = scripted_router(offline)
    if model is None:
        from shared.llm.litellm_client import client_from_settings

        model = client_from_settings("router", llm)
    assert model is not None
    return LLMBrain(specs, model, offline, min_confidence=llm.router_min_confidence)


def scripted_router(offline: OfflineBrain) -> ScriptedModel:
    """A router double that answers, in the schema, what ``offline`` decides about the fenced message."""

    def answer(request: ModelRequest) -> ModelReply:
        match = _FENCED.search(str(request.messages[-1].get("content") or ""))
        decision = offline.decide(match.group(1) if match else "")
        route = f"{decision.agent}/{decision.skill}" if decision.agent and decision.confidence > 0 else UNCLEAR
        body = {"route": route, "confidence": decision.confidence, "reason": "scripted: as the offline brain"}
        return ModelReply(text=json.dumps(body), usage=SCRIPTED_USAGE, model=SCRIPTED_MODEL)

    return ScriptedModel(then=answer, model=SCRIPTED_MODEL)
