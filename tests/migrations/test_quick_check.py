"""Opening a store that is already at its head revision costs no Alembic: a second start reads the
version table with the bare driver and compares it with the head the revision files declare."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.database import DatabaseURL
from shared.migrations import STORES, declared_head, head, sqlite_store, upgrade
from tests.storage.pg import private_schema

CHECK = """
import json, sys
from shared.database import DatabaseURL
from shared.migrations import upgrade
done = upgrade(DatabaseURL.parse(sys.argv[1], default_sqlite="unused.db"), sys.argv[2])
print(json.dumps([done.before, done.after, list(done.applied), "alembic" in sys.modules, "sqlalchemy" in sys.modules]))
"""


def _fresh_upgrade(url: str, store: str) -> list[Any]:
    """``upgrade`` in a new interpreter: what it did, and whether it loaded Alembic and SQLAlchemy."""
    out = subprocess.run([sys.executable, "-c", CHECK, url, store], check=True, capture_output=True, text=True)
    done: list[Any] = json.loads(out.stdout)
    return done


@pytest.mark.parametrize("store", sorted(STORES))
def test_the_declared_head_is_alembics(store: str) -> None:
    assert declared_head(store) == head(store)


def test_a_current_sqlite_store_opens_without_alembic_and_a_behind_one_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "gateway.db"
    first = upgrade(sqlite_store(path), "gateway")
    assert first.applied and first.after == head("gateway")
    before, after, applied, alembic, sqlalchemy = _fresh_upgrade(f"sqlite:///{path}", "gateway")
    assert (before, after, applied) == (head("gateway"), head("gateway"), [])
    assert not alembic and not sqlalchemy

    # One revision behind: the quick check says "not sure" and Alembic brings it forward.
    behind = tmp_path / "behind.db"
    upgrade(sqlite_store(behind), "gateway", revision="0001")
    before, after, applied, alembic, _ = _fresh_upgrade(f"sqlite:///{behind}", "gateway")
    assert (before, after, applied[-1], alembic) == ("0001", head("gateway"), head("gateway"), True)


async def test_a_current_postgresql_store_opens_without_alembic() -> None:
    async with private_schema("quick") as url:
        db = DatabaseURL.parse(url, default_sqlite=Path("unused.db"))
        first = upgrade(db, "signals")
        assert first.applied
        before, after, applied, alembic, sqlalchemy = _fresh_upgrade(url, "signals")
        assert (before, after, applied) == (head("signals"), head("signals"), [])
        assert not alembic and not sqlalchemy
        # Another store in the same schema has no version yet: not current, so Alembic creates it.
        assert _fresh_upgrade(url, "channels")[2] == [head("channels")]
