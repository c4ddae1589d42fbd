"""The token service over HTTP (in-process): client credentials, audiences, JWKS, metadata, registration."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shared.errors import Unauthenticated
from shared.service_auth import ClientCredentials, RemoteJwks, TokenVerifier, audiences
from shared.service_auth.audiences import JWKS_PATH, METADATA_PATH, TOKEN_PATH, builtin_grants
from shared.service_auth.verifier import unverified_subject
from token_service import ClientRegistry, KeyRing, TokenIssuer, build_token_app
from token_service.clients import CLIENTS_FILE

ISSUER = "http://tokens.internal"
AGENTS = ("billing", "payment")
SYSTEMS = ("payments",)


@dataclass
class Service:
    registry: ClientRegistry
    keys: KeyRing
    transport: httpx.ASGITransport
    secrets: dict[str, str]

    def client(self, client_id: str, secret: str | None = None) -> ClientCredentials:
        return ClientCredentials(ISSUER, client_id, secret or self.secrets[client_id], transport=self.transport)

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(RemoteJwks(ISSUER + JWKS_PATH, transport=self.transport), issuer=ISSUER)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    grants = builtin_grants(AGENTS, SYSTEMS)
    secrets = {client: f"secret-of-{client}-" + "x" * 32 for client in grants}
    registry = ClientRegistry.open(tmp_path)
    registry.sync_builtin(secrets, grants)
    keys = KeyRing.load_or_create(tmp_path, max_token_ttl=300)
    app = build_token_app(TokenIssuer(keys, issuer=ISSUER, ttl_seconds=300), registry)
    yield Service(registry, keys, httpx.ASGITransport(app=app), secrets)


async def post_token(service: Service, **form: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=service.transport, base_url=ISSUER) as http:
        return await http.post(TOKEN_PATH, data=form)


async def test_a_client_gets_a_token_only_for_the_services_it_calls(service: Service) -> None:
    orchestrator = service.client("orchestrator")
    token = await orchestrator.token(audiences.agent("billing"))
    claims = await service.verifier().verify(token, audiences.agent("billing"))
    assert (claims.sub, claims.iss) == ("orchestrator", ISSUER)
    assert claims.exp > 0
    with pytest.raises(Unauthenticated, match="may not call 'gateway'"):
        await orchestrator.token(audiences.GATEWAY)  # the orchestrator never calls the gateway's MCP endpoint
    with pytest.raises(Unauthenticated, match="may not call 'mcp:payments'"):
        await service.client("billing").token(audiences.system("payments"))  # agents never reach a system
    gateway_token = await service.client("gateway").token(audiences.system("payments"))
    assert unverified_subject(gateway_token) == "gateway"


async def test_tokens_are_cached_until_most_of_their_lifetime_has_passed(service: Service) -> None:
    now = [1_000_000.0]
    secret = service.secrets["billing"]
    client = ClientCredentials(ISSUER, "billing", secret, transport=service.transport, clock=lambda: now[0])
    first = await client.token(audiences.GATEWAY)
    assert await client.token(audiences.GATEWAY) == first  # no second request
    now[0] += 300 * 0.8 + 1  # past the refresh point, before expiry
    assert await client.token(audiences.GATEWAY) != first


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "client_credentials", "audience": "gateway"}, 401, "invalid_client"),
        (
            {"grant_type": "client_credentials", "audience": "gateway", "client_id": "billing", "client_secret": "no"},
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "client_credentials", "audience": "gateway", "client_id": "nobody", "client_secret": "x"},
            401,
            "invalid_client",
        ),
        ({"grant_type": "password", "audience": "gateway", "client_id": "billing"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "client_id": "billing"}, 400, "invalid_request"),
    ],
)
async def test_bad_token_requests_get_oauth_errors(service: Service, form: dict, status: int, error: str) -> None:
    if form.get("client_id") == "billing" and "client_secret" not in form:
        form = {**form, "client_secret": service.secrets["billing"]}
    response = await post_token(service, **form)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


async def test_jwks_and_metadata_are_published(service: Service) -> None:
    async with httpx.AsyncClient(transport=service.transport, base_url=ISSUER) as http:
        jwks = (await http.get(JWKS_PATH)).json()
        metadata = (await http.get(METADATA_PATH)).json()
    [key] = jwks["keys"]
    assert key["kid"] == service.keys.active_kid and "d" not in key  # public half only
    assert metadata["token_endpoint"] == ISSUER + TOKEN_PATH
    assert metadata["jwks_uri"] == ISSUER + JWKS_PATH
    assert metadata["grant_types_supported"] == ["client_credentials"]


async def test_an_external_agent_is_registered_once_and_only_its_hash_is_kept(service: Service, tmp_path: Path) -> None:
    client_id, secret = service.registry.register("partner-bot")
    assert client_id == "external:partner-bot"
    stored = (tmp_path / CLIENTS_FILE).read_text()
    assert secret not in stored
    assert oct(os.stat(tmp_path / CLIENTS_FILE).st_mode & 0o777) == "0o600"
    [entry] = [c for c in json.loads(stored) if c["client_id"] == client_id]
    assert entry["audiences"] == ["orchestrator"]
    partner = service.client(client_id, secret)
    token = await partner.token(audiences.ORCHESTRATOR)
    assert (await service.verifier().verify(token, audiences.ORCHESTRATOR)).sub == client_id
    with pytest.raises(Unauthenticated):
        await partner.token(audiences.GATEWAY)
    assert service.registry.revoke(client_id)
    with pytest.raises(Unauthenticated, match="unknown client"):
        await service.client(client_id, secret).token(audiences.agent("billing"))


@pytest.mark.parametrize("audience", ["gateway", "mcp:payments", "audit", "*"])
def test_an_external_agent_is_never_granted_the_gateway_a_system_or_the_audit(service: Service, audience: str) -> None:
    from shared.errors import InvalidRequest

    with pytest.raises(InvalidRequest):
        service.registry.register("sneaky", [audience])
