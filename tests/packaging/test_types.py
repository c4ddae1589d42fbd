"""mypy --strict is clean on the whole source tree, the same paths `make check` checks.

The paths are read from the Makefile's ``TYPED``, so the two cannot drift apart, and every
package the wheel ships must be among them. The settings (strict, the modules that ship no
type information) are pyproject's ``[tool.mypy]``.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.packaging.imports import ROOT, first_party

# A cold mypy cache, as on a fresh checkout, is about a minute of CPU.
pytestmark = [pytest.mark.slow_file]


def typed() -> list[str]:
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    found = re.search(r"^TYPED\s*=(.*)$", makefile, re.MULTILINE)
    assert found, "the Makefile no longer sets TYPED"
    return found.group(1).split()


def test_every_shipped_package_is_type_checked() -> None:
    missing = set(first_party()) - set(typed())
    assert not missing, f"add {sorted(missing)} to the Makefile's TYPED"


def test_mypy_strict_is_clean() -> None:
    paths = typed()
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"mypy --strict {' '.join(paths)}:\n{done.stdout}{done.stderr}"
