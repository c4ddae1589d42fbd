from __future__ import annotations

import pytest

from orchestrator.routing import OfflineBrain, skill_specs_from_skills
from shared.skills import load_skills


@pytest.fixture(scope="session")
def brain() -> OfflineBrain:
    return OfflineBrain.from_skills(skill_specs_from_skills(load_skills()))
