"""The HTTP witness: every signed checkpoint also goes to a service outside the data directory, and
a rolled-back log that still verifies locally is caught against it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import httpx2

from gateway import verify_audit
from gateway.checkpoints import CHECKPOINTS_FILE
from gateway.witness_http import HttpWitness, witness_app
from shared.authcontext import generate_private_key_pem, public_pem_from_private
from tests.governance.conftest import Servers, start_env, tcp_socket, url_of
from tests.governance.test_calls import REFUND

PRIVATE = generate_private_key_pem().decode()
PUBLIC = public_pem_from_private(PRIVATE.encode()).decode()
TOKEN = "witness-secret"


async def test_a_rolled_back_log_is_caught_by_the_http_witness(tmp_path: Path, identity_key: bytes) -> None:
    servers, sock = Servers(), tcp_socket()
    await servers.start(witness_app(tmp_path / "witness-host", TOKEN), sock)
    url = url_of(sock, "/")
    try:
        data = tmp_path / "data"
        data.mkdir()
        options = {"checkpoint_private_pem": PRIVATE, "audit_witness_url": url, "audit_witness_token": TOKEN}
        async with start_env(data, identity_key, checkpoint_every=2, **options) as env, env.agent("payment") as agent:
            for i in range(5):
                meta = {"switchboard/envelope": env.envelope()}
                await agent.call_tool("payments.issue_refund", {**REFUND, "idempotency_key": f"k-{i}"}, meta=meta)
        witness = HttpWitness(url, TOKEN)
        kept = await asyncio.to_thread(witness.lines)
        assert len(kept) >= 3, kept
        db, local = data / "audit.db", data / CHECKPOINTS_FILE
        intact = await asyncio.to_thread(verify_audit, db, checkpoints=local, public_pem=PUBLIC, remote=witness)
        assert intact.intact and "at the witness" in intact.reason, intact

        # Roll back: keep the first checkpoint line and the records it covers, drop the rest.
        first = local.read_text().splitlines()[0]
        covered = int(json.loads(first)["seq"])
        local.write_text(first + "\n")
        with closing(sqlite3.connect(db, isolation_level=None)) as conn:
            conn.execute("DROP TRIGGER audit_no_delete")
            conn.execute("DELETE FROM audit WHERE seq > ?", (covered,))
        alone = await asyncio.to_thread(verify_audit, db, checkpoints=local, public_pem=PUBLIC)
        assert alone.intact  # the rollback is invisible without a witness ...
        caught = await asyncio.to_thread(verify_audit, db, checkpoints=local, public_pem=PUBLIC, remote=witness)
        assert not caught.intact and caught.first_broken_seq == covered + 1  # ... and caught with one
        assert "cut off the end" in caught.reason and "the witness knows record" in caught.reason

        async with httpx2.AsyncClient(base_url=url) as http:
            assert (await http.post("/", content=first)).status_code == 401  # only the gateway adds lines
            junk = await http.post("/", content=b"{}", headers={"Authorization": f"Bearer {TOKEN}"})
            assert junk.status_code == 400
    finally:
        await servers.stop_all()
        sock.close()
