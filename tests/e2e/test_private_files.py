"""After real use, every file in the data directory is 0600 and every directory 0700."""

from __future__ import annotations

import stat

import pytest

from tests.e2e.conftest import Chat

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_every_file_in_the_data_directory_is_owner_only(chat: Chat) -> None:
    customer = chat.running.customers(1)[0]
    verified = await chat.verify(customer, "what's on my bill?")  # writes a code to the outbox
    assert verified["agent"] in ("identity", "billing"), verified
    data_dir = chat.running.data_dir
    names = {p.name for p in data_dir.rglob("*")}
    assert {"outbox.jsonl", "secrets.json", "audit.db", "signal-secret"} <= names
    assert any(n.endswith("-wal") for n in names)
    wide = {
        str(p.relative_to(data_dir)): oct(stat.S_IMODE(p.lstat().st_mode))
        for p in [data_dir, *data_dir.rglob("*")]
        if stat.S_IMODE(p.lstat().st_mode) != (0o700 if p.is_dir() else 0o600)
    }
    assert wide == {}
