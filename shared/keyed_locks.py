"""One asyncio lock per key (a conversation), held only while someone uses it.

A ``defaultdict(asyncio.Lock)`` keeps a lock for every conversation ever seen. Here an entry
lives while a task holds or waits for its lock and is dropped by the last one to leave, so
memory follows the conversations in flight. Mutual exclusion is unchanged: every task that
enters while the entry exists shares the same lock, and a task arriving after the entry was
dropped finds no holder left to exclude it from.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import TracebackType


@dataclass(slots=True)
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class KeyedLocks:
    """``async with locks[key]:`` serialises the holders of one key; other keys run freely."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def __getitem__(self, key: str) -> _Hold:
        return _Hold(self, key)

    @property
    def in_use(self) -> int:
        """How many keys are held or waited for right now."""
        return len(self._entries)

    def _enter(self, key: str) -> _Entry:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        entry.users += 1
        return entry

    def _leave(self, key: str, entry: _Entry) -> None:
        entry.users -= 1
        if entry.users == 0:
            del self._entries[key]


class _Hold:
    __slots__ = ("_entry", "_key", "_owner")

    def __init__(self, owner: KeyedLocks, key: str) -> None:
        self._owner = owner
        self._key = key
        self._entry: _Entry | None = None

    async def __aenter__(self) -> None:
        # No await between finding the entry and counting ourselves in: the loop cannot drop it.
        entry = self._owner._enter(self._key)
        try:
            await entry.lock.acquire()
        except BaseException:  # cancelled while waiting: we never held it, but we were counted
            self._owner._leave(self._key, entry)
            raise
        self._entry = entry

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        entry, self._entry = self._entry, None
        assert entry is not None, "left a conversation lock that was not entered"
        entry.lock.release()
        self._owner._leave(self._key, entry)
