"""Reading SWITCHBOARD_DATABASE_URL: every accepted form, and clear refusals for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.storage import open_conversation_store
from shared.database import DatabaseURL
from shared.errors import ConfigurationError, ServiceUnavailable


def test_no_url_means_the_embedded_sqlite_file(tmp_path: Path) -> None:
    db = DatabaseURL.parse(None, default_sqlite=tmp_path / "conversations.db")
    assert (db.kind, db.path) == ("sqlite", tmp_path / "conversations.db")


def test_sqlite_urls_follow_the_sqlalchemy_convention(tmp_path: Path) -> None:
    assert DatabaseURL.parse("sqlite:///data/sb.db", default_sqlite=tmp_path).path == Path("data/sb.db")
    absolute = DatabaseURL.parse(f"sqlite:///{tmp_path}/sb.db", default_sqlite=tmp_path)
    assert absolute.path == tmp_path / "sb.db"
    assert absolute.sqlalchemy_url() == f"sqlite+aiosqlite:///{tmp_path}/sb.db"


def test_postgres_url_with_schema_keeps_the_password_out_of_logs(tmp_path: Path) -> None:
    db = DatabaseURL.parse("postgresql://sb:s3cret@db:5432/switchboard?schema=tenant_a", default_sqlite=tmp_path)
    assert db.is_postgres and db.schema == "tenant_a"
    assert db.dsn == "postgresql://sb:s3cret@db:5432/switchboard"
    assert "s3cret" not in db.redacted() and "tenant_a" in db.redacted()
    assert db.sqlalchemy_url().startswith("postgresql+asyncpg://sb:s3cret@db:5432/")
    assert db.server_settings() == {"search_path": "tenant_a", "application_name": "switchboard/tenant_a"}


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://db/switchboard", "unsupported database URL scheme 'mysql'"),
        ("switchboard.db", "unsupported database URL scheme '(none)'"),
        ("sqlite://", "names no SQLite file"),
        ("sqlite:///:memory:", "names no SQLite file"),
        ("postgresql:///switchboard", "names no host"),
        ("postgresql://db/sb?schema=Robert'); DROP TABLE x;--", "not a plain lower-case identifier"),
    ],
)
def test_bad_urls_are_refused_with_what_to_do(url: str, says: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        DatabaseURL.parse(url, default_sqlite=tmp_path)
    assert says in refused.value.message
    assert refused.value.hint


async def test_an_unreachable_server_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    with pytest.raises(ServiceUnavailable) as refused:
        await open_conversation_store("postgresql://nobody:pw@127.0.0.1:1/none", default_sqlite=tmp_path)
    assert "cannot reach PostgreSQL at postgresql://nobody:***@127.0.0.1:1/none" in refused.value.message
