from __future__ import annotations

import pytest

from orchestrator.routing import OfflineBrain, skill_specs_from_skills
from shared.settings import Settings
from shared.skills import load_skills


@pytest.fixture(scope="session")
def brain() -> OfflineBrain:
    # SWITCHBOARD_CACHE_DIR, when set, shares the trained weights with stacks started on the same skills.
    return OfflineBrain.from_skills(skill_specs_from_skills(load_skills()), cache_dir=Settings().cache_dir)
