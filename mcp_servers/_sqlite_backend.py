"""The common part of every reference backend: one SQLite connection and idempotent writes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite

from mcp_servers import _idempotency
from shared.errors import ConfigurationError, ServiceUnavailable
from shared.sqlite import connect


def pence(amount: float) -> int:
    return round(amount * 100)


def pounds(amount_pence: int) -> float:
    return round(amount_pence / 100, 2)


class SqliteBackend:
    """Opens ``path`` (seeded beforehand) and serialises writes so idempotency keys cannot race."""

    schema = ""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def open(self) -> None:
        if not self._path.exists():
            raise ConfigurationError(
                f"no database at {self._path}",
                hint="seed the reference dataset first (dataset.ensure_seeded)",
            )
        self._db = await connect(self._path)
        await self._db.executescript(self.schema + _idempotency.DDL)
        await self._db.commit()

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise ServiceUnavailable("the backend is not open", hint="retry once the server has started")
        return self._db

    async def fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> aiosqlite.Row | None:
        async with self.db.execute(sql, params) as cur:
            return await cur.fetchone()

    async def fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[aiosqlite.Row]:
        async with self.db.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def idempotent(
        self, tool: str, key: str, args: dict[str, Any], action: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """Run ``action`` once per key: a repeat returns the first result without acting again."""
        async with self._write_lock:
            prior = await _idempotency.lookup(self.db, tool, key, args)
            if prior is not None:
                return prior
            try:
                result = await action()
                await _idempotency.record(self.db, tool, key, args, result)
                await self.db.commit()
            except BaseException:
                await self.db.rollback()
                raise
            return result
