"""Reference backends on each database: the dataset seeded there, backends opened like replicas."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mcp_servers._backend import ReferenceBackend
from mcp_servers.billing.backend import ReferenceBillingBackend
from mcp_servers.consent.backend import ReferenceConsentBackend
from mcp_servers.crm.backend import ReferenceCrmBackend
from mcp_servers.dataset import ensure_seeded, prepare_dataset, sample_customers
from mcp_servers.identity.backend import ReferenceIdentityBackend
from mcp_servers.network.backend import ReferenceNetworkBackend
from mcp_servers.payments.backend import ReferencePaymentsBackend
from mcp_servers.support.backend import ReferenceSupportBackend
from shared.authcontext import generate_private_key_pem
from shared.database import DatabaseURL

CUSTOMERS = 24
SEED = 7

BACKENDS: dict[str, type[ReferenceBackend]] = {
    "billing": ReferenceBillingBackend,
    "consent": ReferenceConsentBackend,
    "crm": ReferenceCrmBackend,
    "identity": ReferenceIdentityBackend,
    "network": ReferenceNetworkBackend,
    "payments": ReferencePaymentsBackend,
    "support": ReferenceSupportBackend,
}


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("backends-seeded")
    ensure_seeded(root, customers=CUSTOMERS, seed=SEED)
    return root


@pytest.fixture(scope="session")
def identity_pem() -> str:
    return generate_private_key_pem().decode()


async def pending_events(backend: Any) -> list[Any]:
    """The events a backend's outbox holds unpublished."""
    store = await backend.open_outbox()
    try:
        return list(await store.pending())
    finally:
        await store.close()


class Systems:
    """The seeded systems of one database; ``open`` gives a backend as a fresh replica would."""

    def __init__(self, database_url: str, data_dir: Path, identity_pem: str) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.db = DatabaseURL.parse(database_url, default_sqlite=data_dir / "unused.db")
        self.kind = self.db.kind
        self._identity_pem = identity_pem
        self._open: list[ReferenceBackend] = []

    def where(self, system: str) -> Path | DatabaseURL:
        return self.db if self.db.is_postgres else self.data_dir / "systems" / f"{system}.db"

    async def open(self, system: str) -> Any:
        cls = BACKENDS[system]
        if system == "identity":
            backend: ReferenceBackend = ReferenceIdentityBackend(
                self.where(system), private_pem=self._identity_pem, ttl_seconds=600, outbox_dir=self.data_dir
            )
        else:
            backend = cls(self.where(system))
        await backend.open()
        self._open.append(backend)
        return backend

    async def duplicate_charge(self) -> tuple[Any, str, Any]:
        """The payments backend, and an account with a duplicate charge and that charge."""
        customer = self.customers(1, has_duplicate_charge=True)[0]
        payments = await self.open("payments")
        duplicate = (await payments.find_duplicate_charges(customer["account_number"])).duplicates[0]
        return payments, customer["account_number"], duplicate

    def customers(self, n: int = 5, **flags: Any) -> list[dict[str, Any]]:
        url = self.database_url if self.db.is_postgres else None
        return sample_customers(self.data_dir, n, database_url=url, **flags)

    async def close(self) -> None:
        for backend in reversed(self._open):
            await backend.close()


@pytest.fixture
async def systems(
    database_url: str, tmp_path: Path, sqlite_template: Path, identity_pem: str
) -> AsyncIterator[Systems]:
    """Every system seeded on the parametrized database (a private copy or a private schema)."""
    if database_url.startswith("sqlite"):
        shutil.copytree(sqlite_template / "systems", tmp_path / "systems")
    else:
        await prepare_dataset(tmp_path, database_url, customers=CUSTOMERS, seed=SEED)
    opened = Systems(database_url, tmp_path, identity_pem)
    try:
        yield opened
    finally:
        await opened.close()
