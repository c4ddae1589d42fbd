"""The skill-step check: a call made in a skill's step may use only the tools that step declares.

The claim (``_meta[STEP_META_KEY]``) is the agent runtime's statement of where it is; the agent
itself is the one its token names, so the claim can only narrow what that agent may do: a skill
of another agent, a step the skill does not have, or a tool outside the step is denied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from shared.skill_steps import STEP_META_KEY, StepClaim, StepGrants


def step_refusal(grants: StepGrants, agent: str, tool: str, meta: Mapping[str, Any] | None) -> str | None:
    """Why the call's step does not allow ``tool``; None when it does or the call names no step."""
    raw = (meta or {}).get(STEP_META_KEY)
    if raw is None:
        return None
    try:
        claim = StepClaim.model_validate_json(raw) if isinstance(raw, str) else StepClaim.model_validate(raw)
    except ValidationError:
        return f"_meta[{STEP_META_KEY!r}] must name a skill and a step"
    return grants.refusal(agent, tool, claim)
