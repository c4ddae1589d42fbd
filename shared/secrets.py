"""Service credentials, created once under the data directory and reused across restarts.

- each built-in service's client secret for the token service (``client_secrets``: the
  orchestrator, each specialist, the gateway, each enterprise system, the signal reactions);
  every hop between them carries a short-lived token from the token service, never a secret;
- the identity system's Ed25519 key that signs customer auth contexts;
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

from shared.service_auth.audiences import builtin_grants
from shared.settings import AGENTS, SYSTEMS

StaffRole = Literal["agent", "supervisor", "approver", "compliance", "admin"]
STAFF_ROLES: tuple[str, ...] = ("agent", "supervisor", "approver", "compliance", "admin")
DEFAULT_STAFF: dict[str, StaffRole] = {
    "agent": "agent",
    "supervisor": "supervisor",
    "approver": "approver",
    "compliance": "compliance",
    "admin": "admin",
}
"""Demo mode's shared staff accounts: one per role, named after it (``Settings.demo_staff``)."""


class StaffCredential(BaseModel):
    token: str
    role: StaffRole
    shared: bool = False
    """One of demo mode's role accounts: whoever holds the token, no one person is named."""


class Secrets(BaseModel):
    client_secrets: dict[str, str] = {}
    identity_private_pem: str
    identity_public_pem: str
    operator_token: str
    staff_tokens: dict[str, StaffCredential] = {}
    audit_private_pem: str = ""
    audit_public_pem: str = ""

    @classmethod
    def load_or_create(cls, data_dir: Path, agents: tuple[str, ...] = AGENTS, *, demo_staff: bool = True) -> Secrets:
        """The secrets under ``data_dir``, created or completed; ``demo_staff`` creates the shared role accounts."""
        path = data_dir / "secrets.json"
        if path.exists():
            loaded = cls.model_validate_json(path.read_text())
            if loaded._fill_missing(agents, demo_staff):
                loaded._write(path)
            return loaded
        private, public = _new_key_pair()
        created = cls(
            identity_private_pem=private,
            identity_public_pem=public,
            operator_token=_secrets.token_urlsafe(32),
        )
        created._fill_missing(agents, demo_staff)
        created._write(path)
        return created

    def people(self, *, demo_staff: bool) -> dict[str, StaffCredential]:
        """The staff accounts that may sign in: named people, plus the shared ones in demo mode only."""
        return {name: cred for name, cred in self.staff_tokens.items() if demo_staff or not cred.shared}

    def _fill_missing(self, agents: tuple[str, ...], demo_staff: bool = True) -> bool:
        """Create whatever credential is missing; True when something was added."""
        changed = False
        for client in builtin_grants(agents, SYSTEMS):
            if client not in self.client_secrets:
                self.client_secrets[client] = _secrets.token_urlsafe(32)
                changed = True
        for name, role in DEFAULT_STAFF.items():
            cred = self.staff_tokens.get(name)
            if cred is not None and cred.role == role and not cred.shared:
                # Written before accounts were marked: a role-named default account is a shared one.
                cred.shared = changed = True
            if demo_staff and not any(c.role == role for c in self.staff_tokens.values()):
                self.staff_tokens[name] = StaffCredential(token=_secrets.token_urlsafe(32), role=role, shared=True)
                changed = True
        if not self.audit_private_pem:
            self.audit_private_pem, self.audit_public_pem = _new_key_pair()
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
        if name in DEFAULT_STAFF:
            raise ValueError(f"{name!r} is demo mode's shared {DEFAULT_STAFF[name]} account; name the person instead")
        loaded = cls.load_or_create(data_dir, demo_staff=False)
        loaded.staff_tokens[name] = StaffCredential(token=_secrets.token_urlsafe(32), role=role)
        loaded._write(data_dir / "secrets.json")
        return loaded.staff_tokens[name]

    @classmethod
    def ensure_staff(cls, data_dir: Path, wanted: dict[str, StaffRole]) -> list[str]:
        """Create each named account of ``wanted`` that is missing (a role changed is left to a person);
        returns the names created."""
        existing = cls.load_or_create(data_dir, demo_staff=False).staff_tokens
        created = [name for name in wanted if name not in existing]
        for name in created:
            cls.add_staff(data_dir, name, wanted[name])
        return created

    def _write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.model_dump(), indent=2))
        os.chmod(tmp, 0o600)
        tmp.replace(path)


def parse_staff(text: str) -> dict[str, StaffRole]:
    """``maria:compliance,tom:approver`` as ``{name: role}``; a malformed entry raises ValueError naming it."""
    wanted: dict[str, StaffRole] = {}
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        name, _, role = entry.partition(":")
        name, role = name.strip(), role.strip()
        if not name or role not in STAFF_ROLES:
            raise ValueError(f"staff account {entry!r} is not NAME:ROLE with ROLE one of {', '.join(STAFF_ROLES)}")
        if name in DEFAULT_STAFF:
            raise ValueError(f"{name!r} is demo mode's shared {DEFAULT_STAFF[name]} account; name the person instead")
        wanted[name] = role  # type: ignore[assignment]  # checked against STAFF_ROLES above
    return wanted


def _new_key_pair() -> tuple[str, str]:
    """A signing key pair (private, public PEM). Loaded here: a warm start reads its keys and never
    needs the JOSE library in the process that only prepares the data directory."""
    from shared.authcontext import generate_private_key_pem, public_pem_from_private

    private = generate_private_key_pem()
    return private.decode(), public_pem_from_private(private).decode()


SIGNAL_SECRET_FILE = "signal-secret"


def load_or_create_secret(data_dir: Path) -> str:
    """The embedded default's network-signal signing secret, created once (0600) under the data
    directory. Here, beside the other credentials, so that the parent of ``up --workers`` can
    create it before its children start without loading the signal service."""
    path = Path(data_dir) / SIGNAL_SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = _secrets.token_urlsafe(32)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(secret)
    tmp.chmod(0o600)
    tmp.replace(path)
    return secret
