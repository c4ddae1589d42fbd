"""Shared role accounts exist only in demo mode, are marked as shared, and never sign in outside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.secrets import DEFAULT_STAFF, Secrets


def test_demo_mode_creates_shared_role_accounts_marked_as_shared(tmp_path: Path) -> None:
    secrets = Secrets.load_or_create(tmp_path, demo_staff=True)
    assert {name for name, cred in secrets.staff_tokens.items() if cred.shared} == set(DEFAULT_STAFF)
    assert set(secrets.people(demo_staff=True)) == set(DEFAULT_STAFF)


def test_outside_demo_mode_only_named_people_sign_in(tmp_path: Path) -> None:
    assert Secrets.load_or_create(tmp_path, demo_staff=False).staff_tokens == {}
    Secrets.add_staff(tmp_path, "dana.ruiz", "approver")
    secrets = Secrets.load_or_create(tmp_path, demo_staff=False)
    assert list(secrets.people(demo_staff=False)) == ["dana.ruiz"]
    assert not secrets.staff_tokens["dana.ruiz"].shared
    with pytest.raises(ValueError, match="shared approver account"):
        Secrets.add_staff(tmp_path, "approver", "approver")


def test_demo_accounts_from_an_older_file_are_marked_and_left_out_of_a_real_deployment(tmp_path: Path) -> None:
    Secrets.load_or_create(tmp_path, demo_staff=True)
    path = tmp_path / "secrets.json"
    older = json.loads(path.read_text())
    for cred in older["staff_tokens"].values():
        del cred["shared"]
    path.write_text(json.dumps(older))
    secrets = Secrets.load_or_create(tmp_path, demo_staff=False)
    assert all(cred.shared for cred in secrets.staff_tokens.values())
    assert secrets.people(demo_staff=False) == {}
