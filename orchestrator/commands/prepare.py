"""``switchboard prepare``: bring a data directory or database to this release, once before ``serve``.

Safe to run again and on a deployment that already holds data: every store is upgraded in
place to this release's revision (``shared.migrations``), the reference dataset is loaded only
where none is, and credentials are created only when missing. It prints what it did.
"""

from __future__ import annotations

import argparse
import asyncio

from orchestrator.commands._common import add_common, settings_from
from shared.settings import Settings


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
    Secrets.load_or_create(data_dir, tuple(_agent_names()))
    KeyRing.load_or_create(data_dir, max_token_ttl=settings.token_ttl_seconds)
    if not settings.signal_secret:
        load_or_create_secret(data_dir)
    local, shared = ("credentials", "reference data and conversations")
    if not conversations.is_postgres:
        local, shared = ("reference data, credentials", "conversations")
    lines.append(f"prepared {data_dir.resolve()} ({local}); {shared} in {conversations.redacted()}")
    return lines


def cmd_prepare(args: argparse.Namespace) -> int:
    for line in asyncio.run(prepare(settings_from(args))):
        print(line)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "prepare",
        help="create or upgrade tables, seed reference data and create credentials; safe to run again",
    )
    add_common(p)
    p.set_defaults(func=cmd_prepare)
