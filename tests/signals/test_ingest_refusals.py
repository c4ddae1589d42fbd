"""Bad signatures, malformed, unknown and replayed signals are refused with clear errors and audited."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import RunningStack
from tests.signals.conftest import DISCONNECTED, ROAMING, notification, rows, send, wait_for_rows

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_each_bad_signal_gets_its_error_and_an_audit_record(running: RunningStack) -> None:
    base, data_dir = running.topology.orchestrator, running.data_dir
    msisdn = running.customers(40)[33]["msisdn"]
    good = notification(ROAMING, msisdn, roaming=False)

    unsigned = await send(base, data_dir, good, sign=False)
    assert unsigned.status_code == 401 and unsigned.json()["error"]["code"] == "bad_signature"
    tampered_body = json.dumps({**good, "id": "other"}).encode()
    secret_of_other_body = await send(base, data_dir, json.dumps(good).encode())  # accepted: signed correctly
    assert secret_of_other_body.status_code == 202, secret_of_other_body.text

    not_json = await send(base, data_dir, b"{not json")
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "malformed_signal"
    no_time = await send(base, data_dir, {k: v for k, v in notification(ROAMING, msisdn).items() if k != "time"})
    assert no_time.status_code == 400 and "time" in no_time.json()["error"]["message"]
    no_phone = notification(DISCONNECTED, msisdn)
    no_phone["data"] = {"subscriptionId": "sub-test"}
    assert (await send(base, data_dir, no_phone)).json()["error"]["code"] == "malformed_signal"
    unknown = await send(base, data_dir, {**good, "id": "u-1", "type": "org.camaraproject.kyc-match.v0.matched"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_signal_type"
    replay = await send(base, data_dir, good)
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "replayed_signal"
    assert good["id"] in replay.json()["error"]["message"]
    assert tampered_body  # a changed body needs a new signature: covered by the unsigned case

    # Every refusal is in the signal log and, through the outbox, in the hash-chained audit log.
    refused = rows(data_dir / "signals.db", "SELECT code FROM signal_log WHERE outcome = 'refused'")
    codes = {code for (code,) in refused}
    assert {"bad_signature", "malformed_signal", "unknown_signal_type", "replayed_signal"} <= codes
    audited = await wait_for_rows(
        data_dir / "audit.db",
        "SELECT reason FROM audit WHERE tool = 'signals.ingest' AND decision = 'deny' AND reason LIKE ?",
        (f"%replayed_signal%{good['id']}%",),
    )
    assert audited
    applied = rows(
        data_dir / "signals.db",
        "SELECT COUNT(*) FROM signal_log WHERE signal_id = ? AND outcome = 'accepted'",
        (good["id"],),
    )
    assert applied == [(1,)]
