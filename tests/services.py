"""A service a test needs (PostgreSQL, NATS, Chromium) is missing: skip on a laptop, fail in CI.

``.ci/run`` sets ``CI=true`` and starts every service the tests use, so there a missing one is a
broken run, not a test to leave out.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def service_missing(problem: str, *, module: bool = False) -> NoReturn:
    if in_ci():
        pytest.fail(f"{problem} (CI=true: .ci/run must provide it)", pytrace=False)
    pytest.skip(problem, allow_module_level=module)
