"""The token endpoint answers a caller that asks too often with 429 and Retry-After, per address and per client."""

from __future__ import annotations

from pathlib import Path

import httpx

from shared.rate_limit import Limit, RateLimiter
from shared.service_auth import audiences
from shared.service_auth.audiences import TOKEN_PATH
from tests.token_service.test_token_endpoint import AGENTS, ISSUER, SYSTEMS
from token_service import ClientRegistry, KeyRing, TokenIssuer, build_token_app
from token_service.app import PER_ADDRESS, PER_CLIENT

SECRET = {"billing": "b" * 40, "payment": "p" * 40}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_its_rate_and_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(Limit(burst=2, per_second=0.5), clock=clock)
    assert limiter.take("a") is None and limiter.take("a") is None
    assert limiter.take("a") == 2  # one token every 2 s
    assert limiter.take("b") is None  # another key has its own bucket
    clock.now += 2.0
    assert limiter.take("a") is None


def test_forgotten_keys_start_again_full_and_memory_stays_bounded() -> None:
    limiter = RateLimiter(Limit(burst=1, per_second=0.001), clock=Clock(), max_keys=2)
    assert limiter.take("a") is None and limiter.take("a") is not None
    assert limiter.take("b") is None and limiter.take("c") is None  # "a" is evicted
    assert limiter.take("a") is None


def _app(
    tmp_path: Path, clock: Clock, *, per_address: Limit = PER_ADDRESS, per_client: Limit = PER_CLIENT
) -> httpx.ASGITransport:
    registry = ClientRegistry.open(tmp_path)
    grants = audiences.builtin_grants(AGENTS, SYSTEMS)
    registry.sync_builtin({client: SECRET.get(client, "x" * 40) for client in grants}, grants)
    keys = KeyRing.load_or_create(tmp_path, max_token_ttl=300)
    issuer = TokenIssuer(keys, issuer=ISSUER, ttl_seconds=300)
    app = build_token_app(issuer, registry, per_address=per_address, per_client=per_client, clock=clock)
    return httpx.ASGITransport(app=app)


def _form(client: str, secret: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client,
        "client_secret": secret,
        "audience": audiences.GATEWAY,
    }


async def test_one_address_guessing_secrets_is_slowed_down(tmp_path: Path) -> None:
    clock = Clock()
    transport = _app(tmp_path, clock, per_address=Limit(burst=3, per_second=1.0))
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        guesses = [await http.post(TOKEN_PATH, data=_form("billing", f"guess-{i}")) for i in range(3)]
        assert [r.status_code for r in guesses] == [401, 401, 401]
        limited = await http.post(TOKEN_PATH, data=_form("billing", "b" * 40))  # even the right secret waits
        assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
        assert limited.json()["error"] == "temporarily_unavailable"
        assert limited.headers["cache-control"] == "no-store"
        clock.now += 1.0
        assert (await http.post(TOKEN_PATH, data=_form("billing", "b" * 40))).status_code == 200


async def test_a_client_is_limited_in_the_tokens_it_gets_and_others_are_not(tmp_path: Path) -> None:
    clock = Clock()
    transport = _app(tmp_path, clock, per_client=Limit(burst=2, per_second=0.1))
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        issued = [await http.post(TOKEN_PATH, data=_form("billing", "b" * 40)) for _ in range(2)]
        assert [r.status_code for r in issued] == [200, 200]
        limited = await http.post(TOKEN_PATH, data=_form("billing", "b" * 40))
        assert limited.status_code == 429 and limited.headers["retry-after"] == "10"
        assert "billing" in limited.json()["error_description"]
        # Wrong secrets for a client do not use up its allowance: only its holder can.
        assert (await http.post(TOKEN_PATH, data=_form("payment", "wrong" * 8))).status_code == 401
        assert (await http.post(TOKEN_PATH, data=_form("payment", "p" * 40))).status_code == 200
        clock.now += 10.0
        assert (await http.post(TOKEN_PATH, data=_form("billing", "b" * 40))).status_code == 200
