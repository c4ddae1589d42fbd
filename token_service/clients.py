"""The clients the token service knows: who may get a token, and for which audiences.

Built-in clients (the orchestrator, each specialist, each enterprise system, the gateway,
the signal-reactions engine) are derived from the deployment at start-up; their secrets
are in the data directory's ``secrets.json``, which only the services read. An external
agent is registered by an operator (``switchboard clients register``): its secret is shown
once and only its SHA-256 is kept. A plain hash is enough because every secret is 256 random
bits, not a password: there is nothing to guess, so no slow hash is needed.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from shared.errors import ConfigurationError, InvalidRequest
from shared.service_auth import audiences as aud

CLIENTS_FILE = "token-clients.json"
EXTERNAL_AUDIENCES = ("orchestrator", "agent:*")
"""What an operator may grant an external agent: never the gateway, a system or the audit intake."""


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    secret_sha256: str
    audiences: tuple[str, ...]
    kind: str  # builtin | external
    created: float

    def may_call(self, audience: str) -> bool:
        return any(fnmatch.fnmatchcase(audience, pattern) for pattern in self.audiences)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class ClientRegistry:
    """Clients in ``<data_dir>/token-clients.json`` (0600), re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._clients: dict[str, Client] = {}
        self._mtime = -1.0

    @classmethod
    def open(cls, data_dir: Path) -> ClientRegistry:
        registry = cls(data_dir / CLIENTS_FILE)
        registry.refresh()
        return registry

    def refresh(self) -> None:
        try:
            mtime = self._path.stat().st_mtime
        except FileNotFoundError:
            return
        if mtime != self._mtime:
            raw = json.loads(self._path.read_text())
            self._clients = {c["client_id"]: Client(**{**c, "audiences": tuple(c["audiences"])}) for c in raw}
            self._mtime = mtime

    def _write(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump([asdict(c) for c in self._clients.values()], out, indent=1)
        tmp.replace(self._path)
        self._mtime = self._path.stat().st_mtime

    def clients(self) -> list[Client]:
        self.refresh()
        return sorted(self._clients.values(), key=lambda c: c.client_id)

    def sync_builtin(self, secrets_by_client: Mapping[str, str], grants: Mapping[str, tuple[str, ...]]) -> None:
        """Make the built-in clients exactly ``grants``, with the secrets the services hold."""
        self.refresh()
        changed = False
        for client_id, audiences in grants.items():
            secret = secrets_by_client.get(client_id)
            if secret is None:
                raise ConfigurationError(f"no secret for built-in client {client_id!r}", hint="run switchboard prepare")
            wanted = Client(client_id, _digest(secret), audiences, "builtin", 0.0)
            current = self._clients.get(client_id)
            if current is None or (current.secret_sha256, current.audiences) != (wanted.secret_sha256, audiences):
                self._clients[client_id] = wanted
                changed = True
        for client_id in [c for c, v in self._clients.items() if v.kind == "builtin" and c not in grants]:
            del self._clients[client_id]
            changed = True
        if changed:
            self._write()

    def register(self, name: str, audiences: Iterable[str] = (aud.ORCHESTRATOR,)) -> tuple[str, str]:
        """A new external client: (client id, secret). The secret is not stored and cannot be shown again."""
        if not name or not all(ch.isalnum() or ch in "-_." for ch in name) or len(name) > 64:
            raise InvalidRequest("a client name is 1-64 letters, digits, '-', '_' or '.'")
        granted = tuple(audiences) or (aud.ORCHESTRATOR,)
        for audience in granted:
            if not any(fnmatch.fnmatchcase(audience, allowed) for allowed in EXTERNAL_AUDIENCES):
                raise InvalidRequest(
                    f"an external agent may not be granted {audience!r}",
                    hint="grant 'orchestrator' or specific agents ('agent:billing'); systems and the gateway "
                    "are reached only through Switchboard's own services",
                )
        self.refresh()
        client_id = f"{aud.EXTERNAL_PREFIX}{name}"
        if client_id in self._clients:
            raise InvalidRequest(f"a client {client_id!r} exists", hint="revoke it first to issue new credentials")
        secret = new_secret()
        self._clients[client_id] = Client(client_id, _digest(secret), granted, "external", time.time())
        self._write()
        return client_id, secret

    def revoke(self, client_id: str) -> bool:
        self.refresh()
        client = self._clients.get(client_id)
        if client is None or client.kind != "external":
            return False
        del self._clients[client_id]
        self._write()
        return True

    def authenticate(self, client_id: str, secret: str) -> Client | None:
        self.refresh()
        client = self._clients.get(client_id)
        # Compare a digest either way, so an unknown client costs the same as a wrong secret.
        expected = client.secret_sha256 if client else _digest("\x00")
        ok = hmac.compare_digest(_digest(secret), expected)
        return client if ok and client is not None else None
