"""Service credentials, created once under the data directory and reused across restarts.

- each agent's bearer token for the governance gateway;
- the gateway's bearer token for the MCP servers (they refuse anyone else);
- the identity system's Ed25519 key that signs customer auth contexts;
- the service token the gateway presents to the orchestrator's internal callbacks;
- staff (operator) tokens, each with a role, for the governance API (approvals, kill switch …);
- the Ed25519 key that signs audit checkpoints.

A secrets file written by an older version gains the missing credentials on first load.
"""

from __future__ import annotations

import json
import os
import secrets as _secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from shared.authcontext import generate_private_key_pem, public_pem_from_private
from shared.settings import AGENTS

StaffRole = Literal["agent", "supervisor", "approver", "compliance", "admin"]
STAFF_ROLES: tuple[str, ...] = ("agent", "supervisor", "approver", "compliance", "admin")
DEFAULT_STAFF: dict[str, StaffRole] = {
    "agent": "agent",
    "supervisor": "supervisor",
    "approver": "approver",
    "compliance": "compliance",
    "admin": "admin",
}
"""Staff accounts created on first start: one per role, named after it."""


class StaffCredential(BaseModel):
    token: str
    role: StaffRole


class Secrets(BaseModel):
    agent_tokens: dict[str, str]
    gateway_token: str
    identity_private_pem: str
    identity_public_pem: str
    operator_token: str
    service_token: str = ""
    staff_tokens: dict[str, StaffCredential] = {}
    audit_private_pem: str = ""
    audit_public_pem: str = ""

    @classmethod
    def load_or_create(cls, data_dir: Path, agents: tuple[str, ...] = AGENTS) -> Secrets:
        path = data_dir / "secrets.json"
        if path.exists():
            loaded = cls.model_validate_json(path.read_text())
            if loaded._fill_missing(agents):
                loaded._write(path)
            return loaded
        private = generate_private_key_pem()
        created = cls(
            agent_tokens={},
            gateway_token=_secrets.token_urlsafe(32),
            identity_private_pem=private.decode(),
            identity_public_pem=public_pem_from_private(private).decode(),
            operator_token=_secrets.token_urlsafe(32),
        )
        created._fill_missing(agents)
        created._write(path)
        return created

    def _fill_missing(self, agents: tuple[str, ...]) -> bool:
        """Create whatever credential is missing; True when something was added."""
        changed = False
        for agent in agents:
            if agent not in self.agent_tokens:
                self.agent_tokens[agent] = _secrets.token_urlsafe(32)
                changed = True
        if not self.service_token:
            self.service_token = _secrets.token_urlsafe(32)
            changed = True
        for name, role in DEFAULT_STAFF.items():
            if not any(cred.role == role for cred in self.staff_tokens.values()):
                self.staff_tokens[name] = StaffCredential(token=_secrets.token_urlsafe(32), role=role)
                changed = True
        if not self.audit_private_pem:
            private = generate_private_key_pem()
            self.audit_private_pem = private.decode()
            self.audit_public_pem = public_pem_from_private(private).decode()
            changed = True
        return changed

    def staff_token(self, role: StaffRole) -> tuple[str, str]:
        """(name, token) of the first staff account with ``role``."""
        for name, cred in self.staff_tokens.items():
            if cred.role == role:
                return name, cred.token
        raise KeyError(f"no staff account with role {role!r}")

    @classmethod
    def add_staff(cls, data_dir: Path, name: str, role: StaffRole) -> StaffCredential:
        """Create the staff account ``name`` with ``role`` (a new token) and save; a running
        orchestrator picks it up when it next starts."""
        if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum() or len(name) > 64:
            raise ValueError("a staff name is up to 64 letters, digits, '.', '-' or '_'")
        loaded = cls.load_or_create(data_dir)
        loaded.staff_tokens[name] = StaffCredential(token=_secrets.token_urlsafe(32), role=role)
        loaded._write(data_dir / "secrets.json")
        return loaded.staff_tokens[name]

    def _write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.model_dump(), indent=2))
        os.chmod(tmp, 0o600)
        tmp.replace(path)
