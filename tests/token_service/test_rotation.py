"""Key rotation without downtime: a new key signs, old tokens stay valid until they expire, verifiers follow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.errors import Unauthenticated
from shared.service_auth import StaticJwks, TokenVerifier
from token_service import KeyRing, TokenIssuer
from token_service.keys import KEYS_FILE

ISSUER = "http://tokens.internal"
TTL = 300


class CountingJwks(StaticJwks):
    def __init__(self, ring: KeyRing) -> None:
        super().__init__(ring.jwks)
        self.fetches = 0

    async def fetch(self) -> dict[str, Any]:
        self.fetches += 1
        return await super().fetch()


def mint(ring: KeyRing, audience: str = "gateway", at: float | None = None) -> str:
    issuer = TokenIssuer(ring, issuer=ISSUER, ttl_seconds=TTL)
    if at is not None:
        issuer.clock = lambda: at
    return issuer.mint("billing", audience)


async def test_rotation_keeps_old_tokens_valid_and_verifiers_pick_up_the_new_key(tmp_path: Path) -> None:
    ring = KeyRing.load_or_create(tmp_path, max_token_ttl=TTL)
    jwks = CountingJwks(ring)
    verifier = TokenVerifier(jwks, issuer=ISSUER, refresh_interval=0.0)
    before = mint(ring)
    await verifier.verify(before, "gateway")
    old_kid = ring.active_kid

    new_key = ring.rotate()
    assert ring.active_kid == new_key.kid != old_kid
    after = mint(ring)
    fetched = jwks.fetches
    assert (await verifier.verify(after, "gateway")).sub == "billing"  # an unknown kid: the set is read again
    assert jwks.fetches == fetched + 1
    assert (await verifier.verify(before, "gateway")).sub == "billing"  # the old key is still published
    assert {k["kid"] for k in ring.jwks()["keys"]} == {old_kid, new_key.kid}


def test_a_retired_key_leaves_the_set_once_its_tokens_have_expired(tmp_path: Path) -> None:
    ring = KeyRing.load_or_create(tmp_path, max_token_ttl=TTL, now=1_000_000)
    first = ring.active_kid
    ring.rotate(now=1_000_100)
    assert first in ring.kids  # tokens it signed a moment ago may live 300 s more
    ring.rotate(now=1_000_100 + TTL + 60)
    assert first not in ring.kids and len(ring.kids) == 2


async def test_an_unknown_key_is_refused_and_refetching_is_rate_limited(tmp_path: Path) -> None:
    ring = KeyRing.load_or_create(tmp_path / "ours", max_token_ttl=TTL)
    stranger = KeyRing.load_or_create(tmp_path / "theirs", max_token_ttl=TTL)
    jwks = CountingJwks(ring)
    verifier = TokenVerifier(jwks, issuer=ISSUER, refresh_interval=60.0)
    await verifier.load()
    for _ in range(5):
        with pytest.raises(Unauthenticated, match="key the token service does not publish"):
            await verifier.verify(mint(stranger), "gateway")
    assert jwks.fetches == 1  # made-up key ids cannot make the verifier hammer the token service


@pytest.mark.parametrize(
    ("token_of", "message"),
    [
        (lambda ring: mint(ring, "agent:billing"), "another service"),
        (lambda ring: mint(ring, at=1_000_000), "expired"),
        (lambda ring: "not.a.token", "signature is not valid"),
        (lambda ring: "opaque-static-secret", "not a signed token"),
    ],
)
async def test_what_a_verifier_refuses(tmp_path: Path, token_of: Any, message: str) -> None:
    ring = KeyRing.load_or_create(tmp_path, max_token_ttl=TTL)
    verifier = TokenVerifier(StaticJwks(ring.jwks), issuer=ISSUER)
    with pytest.raises(Unauthenticated, match=message):
        await verifier.verify(token_of(ring), "gateway")


async def test_a_token_from_another_issuer_is_refused(tmp_path: Path) -> None:
    ring = KeyRing.load_or_create(tmp_path, max_token_ttl=TTL)
    verifier = TokenVerifier(StaticJwks(ring.jwks), issuer="http://elsewhere")
    with pytest.raises(Unauthenticated, match="not issued by this deployment"):
        await verifier.verify(mint(ring), "gateway")


def test_the_rotate_command_writes_a_private_key_file(tmp_path: Path) -> None:
    env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(tmp_path)}
    cli = [sys.executable, "-m", "orchestrator.cli"]
    first = subprocess.run([*cli, "tokens", "keys"], env=env, capture_output=True, text=True, timeout=60, check=True)
    rotated = subprocess.run(
        [*cli, "tokens", "rotate"], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    old_kid = first.stdout.split()[0]
    assert "signing with" in rotated.stdout and old_kid in rotated.stdout
    assert oct(os.stat(tmp_path / KEYS_FILE).st_mode & 0o777) == "0o600"
    assert len(KeyRing.load_or_create(tmp_path, max_token_ttl=TTL).kids) == 2
