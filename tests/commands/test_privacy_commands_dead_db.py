"""Subject access, erasure and retention against a PostgreSQL that does not answer: a clear message
and exit code 2, nothing half done; a malformed customer id is refused before anything is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from shared.serving import bind


@pytest.fixture
def dead_database(monkeypatch: pytest.MonkeyPatch) -> str:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    url = f"postgresql://switchboard:secret@127.0.0.1:{port}/switchboard?schema=gone"
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", url)
    monkeypatch.setenv("SWITCHBOARD_RETENTION_TRANSCRIPTS_DAYS", "30")
    return url


@pytest.mark.parametrize(
    "argv",
    [
        ["subject-access", "CUST-00001", "--reason", "DSAR-1"],
        ["erase-customer", "CUST-00001"],
        ["retention"],
    ],
)
def test_a_dead_database_is_a_clear_error(
    dead_database: str, argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "cannot reach PostgreSQL" in err and "secret" not in err  # the password never shows
    assert not list(tmp_path.glob("subject-access-*"))


def test_a_malformed_customer_id_is_refused_before_anything_is_read(
    dead_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["subject-access", "42; DROP TABLE", "--reason", "x", "--data-dir", str(tmp_path)]) == 1
    assert "is not a unified customer id" in capsys.readouterr().err
