"""``switchboard prepare`` creates the named staff accounts of SWITCHBOARD_STAFF, and without any it
starts only in a demo mode that says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.commands.prepare import prepare
from shared.errors import ConfigurationError
from shared.secrets import Secrets
from shared.settings import Settings


def _settings(data_dir: Path, **values: object) -> Settings:
    return Settings(data_dir=data_dir, customers=3, **values)  # type: ignore[arg-type]


async def test_named_staff_are_created_once_and_no_shared_account_exists(tmp_path: Path) -> None:
    settings = _settings(tmp_path, staff="maria:compliance, tom:compliance,ann:approver", demo_staff=False)
    lines = await prepare(settings)
    assert any("staff accounts created: maria, tom, ann" in line for line in lines), lines
    assert not any("DEMO MODE" in line for line in lines)
    accounts = Secrets.load_or_create(tmp_path, demo_staff=False).staff_tokens
    assert {n: (c.role, c.shared) for n, c in accounts.items()} == {
        "maria": ("compliance", False),
        "tom": ("compliance", False),
        "ann": ("approver", False),
    }
    tokens = {n: c.token for n, c in accounts.items()}
    again = await prepare(settings)
    assert not any("staff accounts created" in line for line in again)
    assert {n: c.token for n, c in Secrets.load_or_create(tmp_path, demo_staff=False).staff_tokens.items()} == tokens


async def test_without_named_staff_only_an_explicit_demo_starts_and_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no named staff account"):
        await prepare(_settings(tmp_path / "real", demo_staff=False))
    lines = await prepare(_settings(tmp_path / "demo", demo_staff=True))
    assert any(line.startswith("DEMO MODE: shared staff accounts") for line in lines), lines
    assert all(c.shared for c in Secrets.load_or_create(tmp_path / "demo").staff_tokens.values())


@pytest.mark.parametrize("staff", ["maria", "maria:boss", "compliance:compliance", ":agent"])
async def test_a_malformed_staff_setting_is_refused_with_what_to_write(tmp_path: Path, staff: str) -> None:
    with pytest.raises(ConfigurationError, match="SWITCHBOARD_STAFF") as caught:
        await prepare(_settings(tmp_path, staff=staff, demo_staff=False))
    assert caught.value.hint and "maria:compliance" in caught.value.hint


async def test_one_compliance_person_is_warned_that_four_eyes_need_two(tmp_path: Path) -> None:
    lines = await prepare(_settings(tmp_path, staff="maria:compliance", demo_staff=False))
    assert any("needs a second person" in line for line in lines), lines
