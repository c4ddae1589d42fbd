"""Service credentials, created once under the data directory and reused across restarts.

- each agent's bearer token for the governance gateway;
- the gateway's bearer token for the MCP servers (they refuse anyone else);
- the identity system's Ed25519 key that signs customer auth contexts.
"""

from __future__ import annotations

import json
import os
import secrets as _secrets
from pathlib import Path

from pydantic import BaseModel

from shared.authcontext import generate_private_key_pem, public_pem_from_private
from shared.settings import AGENTS


class Secrets(BaseModel):
    agent_tokens: dict[str, str]
    gateway_token: str
    identity_private_pem: str
    identity_public_pem: str
    operator_token: str

    @classmethod
    def load_or_create(cls, data_dir: Path, agents: tuple[str, ...] = AGENTS) -> Secrets:
        path = data_dir / "secrets.json"
        if path.exists():
            loaded = cls.model_validate_json(path.read_text())
            missing = [a for a in agents if a not in loaded.agent_tokens]
            if not missing:
                return loaded
            loaded.agent_tokens.update({a: _secrets.token_urlsafe(32) for a in missing})
            loaded._write(path)
            return loaded
        private = generate_private_key_pem()
        created = cls(
            agent_tokens={a: _secrets.token_urlsafe(32) for a in agents},
            gateway_token=_secrets.token_urlsafe(32),
            identity_private_pem=private.decode(),
            identity_public_pem=public_pem_from_private(private).decode(),
            operator_token=_secrets.token_urlsafe(32),
        )
        created._write(path)
        return created

    def _write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.model_dump(), indent=2))
        os.chmod(tmp, 0o600)
        tmp.replace(path)
