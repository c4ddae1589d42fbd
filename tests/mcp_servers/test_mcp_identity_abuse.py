"""One-time codes against an attacker: no resend loop, no enumeration, no cheap lock-out of the victim."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from mcp_servers.dataset import sample_customers
from mcp_servers.identity.backend import ReferenceIdentityBackend
from mcp_servers.identity.limits import MAX_FAILURES, MAX_SENDS
from mcp_servers.identity.outbox import read_outbox
from shared.errors import InvalidRequest


class _Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def identity(data_dir: Path, identity_keys: tuple[str, str]) -> AsyncIterator[ReferenceIdentityBackend]:
    backend = ReferenceIdentityBackend(
        data_dir / "systems" / "identity.db",
        private_pem=identity_keys[0],
        ttl_seconds=60,
        outbox_dir=data_dir,
        clock=_Clock(),
    )
    await backend.open()
    try:
        yield backend
    finally:
        await backend.close()


def _code(data_dir: Path, customer_id: str) -> str:
    message = read_outbox(data_dir, customer_id=customer_id, limit=1)[-1]
    match = re.search(r"\b(\d{6})\b", message["text"])
    assert match
    return match.group(1)


async def test_resending_does_not_reset_the_guess_count_and_resends_are_capped(identity, data_dir) -> None:
    customer = sample_customers(data_dir, 1)[0]
    guesses = []
    sent = 0
    for _ in range(MAX_SENDS):  # guess, ask for a new code, guess again: the loop of the report
        try:
            started = await identity.start_verification(customer["email"], "any", "conv-attacker")
        except InvalidRequest:
            break
        sent += 1
        for _ in range(3):
            result = await identity.verify_code(started.verification_id, "000000x", "conv-attacker")
            guesses.append(result)
            if result.locked or result.attempts_left == 0:
                break
    assert len(guesses) == MAX_FAILURES and guesses[-1].locked and guesses[-1].other_ways
    assert sent == 2  # three wrong codes, one resend, two more: locked
    real = _code(data_dir, customer["customer_id"])
    with pytest.raises(InvalidRequest, match="already failed"):  # even the real code is no use now
        await identity.verify_code(started.verification_id, real, "conv-attacker")
    with pytest.raises(InvalidRequest, match="too many attempts"):
        await identity.start_verification(customer["email"], "any", "conv-attacker")
    assert len(read_outbox(data_dir, customer_id=customer["customer_id"])) == sent  # no more texts to the customer


async def test_resends_alone_are_capped(identity, data_dir) -> None:
    customer = sample_customers(data_dir, 1)[0]
    for _ in range(MAX_SENDS):
        await identity.start_verification(customer["msisdn"], "any", "conv-1")
    with pytest.raises(InvalidRequest, match="too many attempts"):
        await identity.start_verification(customer["msisdn"], "any", "conv-2")  # another conversation too
    assert len(read_outbox(data_dir, customer_id=customer["customer_id"])) == MAX_SENDS


def _shape(value: Any) -> Any:
    """An answer with its random parts (ids, times) blanked: what the caller could compare."""
    data = value.model_dump()
    for key in ("verification_id", "expires_at", "locked_until"):
        if data.get(key):
            data[key] = "*"
    return data


@pytest.mark.parametrize(
    ("kind", "unknown"),
    [
        ("email", "nobody-here@example.com"),
        ("msisdn", "+447700900999"),
        ("account_number", "ACC-9999998"),
        ("customer_id", "CUST-99998"),
    ],
)
async def test_answers_are_the_same_for_known_and_unknown_identifiers(identity, data_dir, kind, unknown) -> None:
    customer = sample_customers(data_dir, 1)[0]
    runs = []
    for identifier, conversation in ((customer[kind], "conv-known"), (unknown, "conv-unknown")):
        answers: list[Any] = [await identity.start_verification(identifier, "any", conversation)]
        for _ in range(3):
            answers.append(await identity.verify_code(answers[0].verification_id, "000000x", conversation))
        answers.append(await identity.start_verification(identifier, "any", conversation))
        for _ in range(2):
            answers.append(await identity.verify_code(answers[4].verification_id, "000000x", conversation))
        try:
            await identity.start_verification(identifier, "any", conversation)
        except InvalidRequest as exc:
            answers.append(exc.message)
        runs.append([_shape(a) if not isinstance(a, str) else a for a in answers])
    assert runs[0] == runs[1]
    shown = repr(runs[0])
    for secret in (customer["email"], customer["msisdn"], customer["msisdn"][-3:], customer["email"].split("@")[1]):
        assert secret not in shown  # no part of a contact detail before verification


async def test_an_attackers_wrong_codes_leave_the_customer_another_way_in(identity, data_dir) -> None:
    victim = sample_customers(data_dir, 1)[0]
    started = await identity.start_verification(victim["email"], "email", "conv-attacker")
    for _ in range(3):
        await identity.verify_code(started.verification_id, "000000x", "conv-attacker")
    started = await identity.start_verification(victim["email"], "email", "conv-attacker")
    locked = await identity.verify_code(started.verification_id, "000000x", "conv-attacker")
    locked = await identity.verify_code(started.verification_id, "000000x", "conv-attacker")
    assert locked.locked
    # The email way is paused for everyone; the customer's mobile number still works, at once.
    with pytest.raises(InvalidRequest, match="too many attempts"):
        await identity.start_verification(victim["email"], "email", "conv-victim")
    mine = await identity.start_verification(victim["msisdn"], "any", "conv-victim")
    result = await identity.verify_code(mine.verification_id, _code(data_dir, victim["customer_id"]), "conv-victim")
    assert result.verified and result.customer is not None
    assert result.customer.customer_id == victim["customer_id"]


async def test_codes_are_stored_only_as_keyed_hashes(identity, data_dir) -> None:
    customer = sample_customers(data_dir, 1)[0]
    started = await identity.start_verification(customer["email"], "any", "conv-1")
    code = _code(data_dir, customer["customer_id"])
    with closing(sqlite3.connect(data_dir / "systems" / "identity.db")) as db:
        rows = (
            db.execute("SELECT * FROM otp_challenges").fetchall() + db.execute("SELECT * FROM verify_limits").fetchall()
        )
    stored = repr(rows).replace(started.verification_id, "")
    assert code not in stored and "otp_challenges" not in stored
    assert rows[0][4] and len(rows[0][4]) == 64  # an HMAC-SHA256, keyed: not brute-forceable from the file alone
