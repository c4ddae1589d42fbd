"""Identity over real HTTP: resolving hints, one-time codes, lock-out, signed auth contexts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mcp_testkit import call_meta, fails, ok

from mcp_servers.dataset import sample_customers
from mcp_servers.identity.backend import ReferenceIdentityBackend
from mcp_servers.identity.limits import WINDOW_SECONDS
from mcp_servers.identity.outbox import read_outbox
from shared.authcontext import AuthContextVerifier
from shared.errors import InvalidRequest


def _code(data_dir: Path, customer_id: str) -> str:
    message = read_outbox(data_dir, customer_id=customer_id, limit=1)[-1]
    return re.search(r"\b(\d{6})\b", message["text"]).group(1)


def _national(msisdn: str) -> str:
    digits = "0" + msisdn[3:]
    return f"{digits[:5]} {digits[5:]}"


@pytest.mark.parametrize(
    "make_hint",
    [
        lambda c: c["email"].upper(),
        lambda c: f"hi, it's {c['email']} here, my phone has no signal",
        lambda c: c["msisdn"],
        lambda c: _national(c["msisdn"]),
        lambda c: "my number is " + c["msisdn"][:3] + " " + c["msisdn"][3:7] + "-" + c["msisdn"][7:] + " thanks",
        lambda c: f"account {c['account_number'].lower()}",
        lambda c: c["customer_id"],
    ],
)
async def test_resolve_customer_from_any_key(connect, data_dir, make_hint):
    customer = sample_customers(data_dir, 3)[2]
    async with connect("identity") as identity:
        found = await ok(identity, "resolve_customer", {"hint": make_hint(customer)})
        assert found["customer_id"] == customer["customer_id"]
        assert found["display_name"] == customer["display_name"]
        assert customer["msisdn"] not in found["destinations"]["sms"]
        assert found["destinations"]["sms"].endswith(customer["msisdn"][-3:])
        assert "***@" in found["destinations"]["email"]


async def test_resolve_customer_refusals(connect):
    async with connect("identity") as identity:
        assert "no customer matches" in await fails(identity, "resolve_customer", {"hint": "nobody@example.com"})
        assert "no email address" in await fails(identity, "resolve_customer", {"hint": "hello, I need help"})
        assert "at most 500" in await fails(identity, "resolve_customer", {"hint": "a" * 501})


async def test_otp_flow_signs_a_verifiable_auth_context(connect, data_dir, identity_keys):
    customer = sample_customers(data_dir, 1)[0]
    cid = customer["customer_id"]
    async with connect("identity") as identity:
        started = await ok(
            identity,
            "start_verification",
            {"identifier": customer["msisdn"], "channel": "any", "conversation_id": "conv-5"},
        )
        assert (
            started["attempts_left"] == 3 and started["sent_to"] == "the email address or mobile number on the account"
        )
        message = read_outbox(data_dir, customer_id=cid)[-1]
        assert (message["channel"], message["to"]) == ("sms", customer["msisdn"])
        code = _code(data_dir, cid)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        args = {"verification_id": started["verification_id"], "conversation_id": "conv-5"}
        miss = await ok(identity, "verify_code", {**args, "code": wrong})
        assert (miss["verified"], miss["attempts_left"], miss["locked"], miss["auth_context"]) == (
            False,
            2,
            False,
            None,
        )
        hit = await ok(identity, "verify_code", {**args, "code": code})
        assert hit["verified"] is True
        assert hit["customer"] == {
            "keys": {k: customer[k] for k in ("customer_id", "email", "msisdn", "account_number")},
            "display_name": customer["display_name"],
        }
        claims = AuthContextVerifier(identity_keys[1].encode()).verify(hit["auth_context"], conversation_id="conv-5")
        assert claims.aud == "gateway"
        assert (claims.sub, claims.method, claims.assurance) == (cid, "otp-sms", "AAL2")
        assert claims.keys.account_number == customer["account_number"]
        assert claims.conversation_id == "conv-5"
        assert claims.exp - claims.iat == 1800
        assert "already verified" in await fails(identity, "verify_code", {**args, "code": code})
        text = await fails(identity, "verify_code", {**args, "conversation_id": "other", "code": code})
        assert "start a new verification" in text


async def test_three_wrong_codes_end_a_verification(connect, data_dir):
    customer = sample_customers(data_dir, 1)[0]
    start = {"identifier": customer["email"], "channel": "email", "conversation_id": "conv-6"}
    async with connect("identity") as identity:
        started = await ok(identity, "start_verification", start)
        code = _code(data_dir, customer["customer_id"])
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        args = {"verification_id": started["verification_id"], "conversation_id": "conv-6"}
        results = [await ok(identity, "verify_code", {**args, "code": wrong}) for _ in range(3)]
        assert [r["attempts_left"] for r in results] == [2, 1, 0]
        assert results[-1]["other_ways"]
        assert "already failed" in await fails(identity, "verify_code", {**args, "code": code})


async def test_malformed_verification_inputs(connect, data_dir):
    async with connect("identity") as identity:
        assert "channel" in await fails(
            identity, "start_verification", {"identifier": "a@b.example", "channel": "pigeon", "conversation_id": "c"}
        )
        assert "no email address" in await fails(
            identity, "start_verification", {"identifier": "hello there", "channel": "sms", "conversation_id": "c"}
        )
        text = await fails(
            identity, "verify_code", {"verification_id": "VER-nope", "code": "123456", "conversation_id": "c"}
        )
        assert "no verification" in text
        assert "at most 16" in await fails(
            identity, "verify_code", {"verification_id": "VER-x", "code": "1" * 17, "conversation_id": "c"}
        )


class _Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_codes_expire_and_locks_end(data_dir, identity_keys):
    clock = _Clock()
    backend = ReferenceIdentityBackend(
        data_dir / "systems" / "identity.db",
        private_pem=identity_keys[0],
        ttl_seconds=60,
        outbox_dir=data_dir,
        clock=clock,
    )
    cid = sample_customers(data_dir, 1)[0]["customer_id"]
    await backend.open()
    try:
        started = await backend.start_verification(cid, "sms", "c")
        clock.now += 601
        with pytest.raises(InvalidRequest, match="expired"):
            await backend.verify_code(started.verification_id, _code(data_dir, cid), "c")
        started = await backend.start_verification(cid, "sms", "c")
        results = [await backend.verify_code(started.verification_id, "000000x", "c") for _ in range(3)]
        started = await backend.start_verification(cid, "sms", "c")
        results += [await backend.verify_code(started.verification_id, "000000x", "c") for _ in range(2)]
        assert results[-1].locked and not any(r.locked for r in results[:-1])
        clock.now += 899
        with pytest.raises(InvalidRequest, match="too many attempts"):
            await backend.start_verification(cid, "sms", "c")
        clock.now += WINDOW_SECONDS  # the lock and the window are over
        started = await backend.start_verification(cid, "sms", "c")
        result = await backend.verify_code(started.verification_id, _code(data_dir, cid), "c")
        assert result.verified and result.auth_context
    finally:
        await backend.close()


def test_read_outbox_filters_and_limits(tmp_path):
    from mcp_servers.identity.outbox import append_message, outbox_path

    assert read_outbox(tmp_path) == []
    for n in range(5):
        append_message(tmp_path, {"customer_id": f"CUST-0000{n % 2}", "text": str(n)})
    with outbox_path(tmp_path).open("a") as out:
        out.write('{"torn": \n')
    assert [m["text"] for m in read_outbox(tmp_path, limit=2)] == ["3", "4"]
    assert [m["text"] for m in read_outbox(tmp_path, customer_id="CUST-00001")] == ["1", "3"]


def test_the_outbox_is_owner_only(tmp_path):
    import os
    import stat

    from mcp_servers.identity.outbox import append_message, outbox_path

    saved = os.umask(0o022)
    try:
        append_message(tmp_path, {"customer_id": "CUST-00001", "text": "code 123456"})
    finally:
        os.umask(saved)
    assert stat.S_IMODE(outbox_path(tmp_path).stat().st_mode) == 0o600


async def test_a_sign_in_link_goes_to_the_email_on_record_once_per_key(connect, data_dir):
    customer = sample_customers(data_dir, 7)[-1]
    args = {"customer_id": customer["customer_id"], "purpose": "password-reset", "idempotency_key": "link-1"}
    async with connect("identity") as identity:
        assert "call context" in await fails(identity, "send_sign_in_link", args)
        sent = await ok(identity, "send_sign_in_link", args, call_meta("identity"))
        assert sent["link_id"].startswith("LNK-") and sent["purpose"] == "password-reset"
        assert customer["email"] != sent["sent_to"] and sent["sent_to"].endswith(customer["email"].split("@")[1])
        assert await ok(identity, "send_sign_in_link", args, call_meta("identity")) == sent
        assert "purpose" in await fails(identity, "send_sign_in_link", {**args, "purpose": "other"}, call_meta())
        assert "no customer" in await fails(
            identity, "send_sign_in_link", {**args, "customer_id": "CUST-99999", "idempotency_key": "k"}, call_meta()
        )
    messages = read_outbox(data_dir, customer_id=customer["customer_id"])
    assert len([m for m in messages if "new password" in m["text"]]) == 1
    assert messages[-1]["channel"] == "email" and messages[-1]["to"] == customer["email"]
