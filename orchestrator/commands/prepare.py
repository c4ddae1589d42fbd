"""``switchboard prepare``: bring a data directory or database to this release, once before ``serve``.

Safe to run again and on a deployment that already holds data: every store is upgraded in
place to this release's revision (``shared.migrations``), the reference dataset is loaded only
where none is, and credentials are created only when missing. It prints what it did.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from orchestrator.commands import add_command
from orchestrator.commands._common import add_common, settings_from
from shared.errors import ConfigurationError
from shared.settings import Settings

if TYPE_CHECKING:
    from shared.secrets import StaffRole


async def prepare(settings: Settings) -> list[str]:
    """Upgrade, seed and create what is missing; returns one line per thing done or checked."""
    from mcp_servers.dataset import prepare_dataset
    from orchestrator.launcher import _agent_names
    from orchestrator.signals import load_or_create_secret
    from shared.database import DatabaseURL
    from shared.migrations import migrate
    from shared.private import make_private
    from shared.secrets import Secrets
    from token_service import KeyRing

    wanted = _wanted_staff(settings)  # a typo stops here, before anything is written
    make_private(settings.data_dir)
    data_dir = settings.data_dir
    lines = []
    upgrades = await prepare_dataset(
        data_dir, settings.database_url, customers=settings.customers, seed=settings.dataset_seed
    )
    # Where each store lives, exactly as the service that opens it decides.
    conversations = DatabaseURL.parse(settings.database_url, default_sqlite=data_dir / "conversations.db")
    stores = {
        "gateway": DatabaseURL.parse(settings.database_url, default_sqlite=data_dir / "audit.db"),
        "conversations": conversations,
        "signals": DatabaseURL.parse(settings.database_url, default_sqlite=data_dir / "signals.db"),
        "channels": conversations
        if conversations.is_postgres
        else DatabaseURL("sqlite", path=data_dir / "channels.db"),
    }
    if conversations.is_postgres:
        stores["console_sessions"] = conversations  # in memory with SQLite
    for store, db in stores.items():
        upgrades.append(await migrate(db, store))
    lines += [u.describe() for u in upgrades]
    Secrets.load_or_create(data_dir, tuple(_agent_names()), demo_staff=settings.demo_staff)
    lines += _staff(settings, wanted)
    KeyRing.load_or_create(data_dir, max_token_ttl=settings.token_ttl_seconds)
    if not settings.signal_secret:
        load_or_create_secret(data_dir)
    local, shared = ("credentials", "reference data and conversations")
    if not conversations.is_postgres:
        local, shared = ("reference data, credentials", "conversations")
    lines.append(f"prepared {data_dir.resolve()} ({local}); {shared} in {conversations.redacted()}")
    return lines


def _wanted_staff(settings: Settings) -> dict[str, StaffRole]:
    from shared.secrets import parse_staff

    try:
        return parse_staff(settings.staff)
    except ValueError as exc:
        raise ConfigurationError(f"SWITCHBOARD_STAFF: {exc}", hint="e.g. maria:compliance,tom:compliance") from None


def _staff(settings: Settings, wanted: dict[str, StaffRole]) -> list[str]:
    """Named staff accounts from ``SWITCHBOARD_STAFF``; without any, only a deployment that asks for
    demo mode starts (its shared role accounts name no person in the audit log)."""
    from shared.secrets import Secrets

    created = Secrets.ensure_staff(settings.data_dir, wanted)
    people = {n: c for n, c in Secrets.load_or_create(settings.data_dir, demo_staff=False).staff_tokens.items()}
    named = sorted(n for n, c in people.items() if not c.shared)
    lines = [f"staff accounts created: {', '.join(created)} (tokens: switchboard staff)"] if created else []
    if settings.demo_staff:
        shared = sorted(n for n, c in people.items() if c.shared)
        lines.append(
            f"DEMO MODE: shared staff accounts ({', '.join(shared)}) can sign in and their decisions name no person."
            " Not for real customers: set SWITCHBOARD_STAFF=NAME:ROLE,... and SWITCHBOARD_DEMO_STAFF=false."
        )
    elif not named:
        raise ConfigurationError(
            "no named staff account: nobody could sign in to the consoles or approve anything",
            hint="set SWITCHBOARD_STAFF=NAME:ROLE,... (e.g. maria:compliance,tom:compliance,ann:approver), "
            "or SWITCHBOARD_DEMO_STAFF=true for a demonstration with shared accounts",
        )
    deciders = [n for n in named if people[n].role in ("compliance", "admin")]
    if not settings.demo_staff and len(deciders) < 2:
        lines.append(
            f"warning: {len(deciders)} named compliance/admin account(s): weakening a control needs a second person"
        )
    return lines


def cmd_prepare(args: argparse.Namespace) -> int:
    for line in asyncio.run(prepare(settings_from(args))):
        print(line)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "prepare")
    add_common(p)
    p.set_defaults(func=cmd_prepare)
