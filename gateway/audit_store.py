"""The append-only, hash-chained audit log on SQLite (``audit_store_pg`` is the PostgreSQL twin).

Invariants:
- ``seq`` runs 1, 2, 3 … with no gaps, and each record's ``prev_hash`` is the previous
  record's ``hash``. Every database step runs on one dedicated worker thread, in submission
  order, and an append reads the chain tail and commits within one step, so appends can never
  interleave.
- A record is committed before ``append`` returns: a decision is durable before the
  upstream call it allows is made. Appends made meanwhile share one transaction (group
  commit, ``audit_group``); each is answered only once its own outcome is settled.
- The stored ``body`` is the record's canonical JSON, the exact bytes its ``hash`` covers.
  Every query column (``id``, ``agent``, ``conversation_id`` …) is generated from the body,
  so no column can disagree with what is hashed, and verifying is hashing stored bytes.
- Triggers refuse UPDATE and DELETE, so changing history needs a deliberate schema change,
  and the hash chain then shows where.
- Fail closed without stalling: no database call runs on the event loop. A store that is
  locked or slow makes an append fail within its write budget with ``AuditUnavailable``
  (a 503), and the gateway denies the call; other conversations and health checks keep
  answering meanwhile. Work queued behind a stuck write fails as soon as its budget is spent.

One gateway process writes one audit file; the chain tail is kept in memory. Writes go
through a dedicated ``sqlite3`` connection in WAL mode with ``synchronous=NORMAL``: a commit
is durable against a process crash. Reads (``fetch``: approvals and governance switches,
small indexed queries) run on the same connection and thread, each read to its end: no read
can see a snapshot older than the last commit. A file of the old layout
(a column per field) is moved to bodies when opened (``audit_migrate``).

Personal data: the hashed record holds redacted arguments and the digest of the raw ones.
The raw arguments sit in ``audit_raw``, outside the chain, so erasing a customer's raw
values (``erase_customer``) leaves every hash intact. Signed checkpoints of the chain head
(``checkpoints.py``) are written on the first record, every ``checkpoint_every`` records, when
the last one is old (``CheckpointWriter.due``) and on close.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.audit_links import DELETE_LINKED_RAW
from gateway.audit_migrate import migrate, needs_migration
from gateway.audit_reader import AuditLocation
from gateway.checkpoints import CheckpointWriter
from gateway.retention import Pruned, prune_now
from shared.audit import GENESIS_HASH, AuditRecord, record_body
from shared.database import DatabaseURL
from shared.errors import ConfigurationError, ServiceUnavailable
from shared.migrations import upgrade
from shared.thread_worker import ThreadWorker

if TYPE_CHECKING:
    from gateway.audit_store_pg import PostgresAuditStore

Statement = tuple[str, tuple[Any, ...]]

INSERT_RECORD = "INSERT INTO audit (seq, body, hash) VALUES (?, ?, ?)"
INSERT_RAW = "INSERT INTO audit_raw (record_id, customer_id, arguments) VALUES (?, ?, ?)"


WRITE_BUDGET_SECONDS = 0.2
"""The budget of a store opened directly (tests, benchmarks); ``open_audit_store`` takes the
operator's ``SWITCHBOARD_AUDIT_WRITE_BUDGET_SECONDS`` (``write_budget``)."""
_BUSY_TIMEOUT_MS = 100


class AuditUnavailable(ServiceUnavailable):
    """The audit store could not record in time (locked, slow, failing): the call is denied."""

    code = "audit_unavailable"


class StaleState(Exception):
    """A guarded state change found the state already changed (e.g. an approval decided twice)."""


_NOT_MADE = "the call was not made; retry shortly or hand the customer to a human"


def backed_up() -> AuditUnavailable:
    """A record whose budget ran out before the store's thread reached it: it is never written."""
    return AuditUnavailable("the audit store is backed up: the record could not be written in time", hint=_NOT_MADE)


def unrecordable(exc: sqlite3.OperationalError) -> AuditUnavailable:
    """SQLite refused the write (locked past its busy timeout, disk I/O): the call is denied."""
    failure = AuditUnavailable(f"the audit store could not record ({exc})", hint=_NOT_MADE)
    failure.__cause__ = exc
    return failure


def seal(seq: int, prev_hash: str, fields: dict[str, Any]) -> tuple[AuditRecord, str]:
    """The next record and its body; ``seq``, ``id``, ``time`` and the hashes are set here."""
    record = AuditRecord(
        seq=seq, id=uuid.uuid4().hex, time=datetime.now(UTC).isoformat(), prev_hash=prev_hash, **fields
    )
    body = record_body(record)
    record.hash = hashlib.sha256(body.encode()).hexdigest()
    return record, body


def raw_row(record: AuditRecord, raw_arguments: dict[str, Any]) -> tuple[Any, ...]:
    text = json.dumps(raw_arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (record.id, record.customer_id, text)


class AuditStore:
    """Appends audit records; open with ``await AuditStore.open(path)``."""

    dialect = "sqlite"

    def __init__(
        self,
        writer: sqlite3.Connection,
        last_seq: int,
        last_hash: str,
        checkpoints: CheckpointWriter | None = None,
        checkpoint_every: int = 256,
        worker: ThreadWorker | None = None,
    ) -> None:
        self._writer = writer
        self._path = Path(writer.execute("PRAGMA database_list").fetchone()[2])
        self._last_seq = last_seq
        self._last_hash = last_hash
        self._lock = asyncio.Lock()
        self._checkpoints = checkpoints
        self._every = max(checkpoint_every, 1)
        # One thread owns the connection: steps run one at a time, in order, off the event loop.
        self._worker = worker or ThreadWorker("audit-sqlite")
        self.budget = WRITE_BUDGET_SECONDS
        """Seconds an append may take, queueing included, before it fails with ``AuditUnavailable``."""
        from gateway.audit_group import GroupCommit  # it builds on this module's names

        self._group = GroupCommit(self)

    @classmethod
    async def open(
        cls, path: Path, *, checkpoints: CheckpointWriter | None = None, checkpoint_every: int = 256
    ) -> AuditStore:
        worker = ThreadWorker("audit-sqlite")

        def opening() -> tuple[sqlite3.Connection, int, str]:
            writer = _writer(path)
            try:
                _ensure_schema(writer, path)
                return (writer, *_tail(writer))
            except BaseException:
                writer.close()
                raise

        try:
            writer, last_seq, last_hash = await worker.run(opening)
        except BaseException:
            worker.close(wait=False)
            raise
        return cls(writer, last_seq, last_hash, checkpoints, checkpoint_every, worker)

    async def _step[T](self, work: Callable[[], T], *, budget: float | None = None) -> T:
        """Run one database step on the store's thread; with a budget, give up once it is spent."""
        deadline = time.monotonic() + budget if budget is not None else None

        def bounded() -> T:
            if deadline is not None and time.monotonic() > deadline:
                raise backed_up()
            try:
                return work()
            except sqlite3.OperationalError as exc:
                raise unrecordable(exc) from exc

        return await self._worker.run(bounded)

    @property
    def worker(self) -> ThreadWorker:
        """The thread every database step of this store runs on, in submission order."""
        return self._worker

    @property
    def connection(self) -> sqlite3.Connection:
        """The write connection: use it only on ``worker``'s thread."""
        return self._writer

    @property
    def head(self) -> tuple[int, str]:
        """The chain's last committed (seq, hash): the next record links to it."""
        return self._last_seq, self._last_hash

    def reread_head(self) -> None:
        """Take the head from the file (another writer appended to it); on the store's thread."""
        self._last_seq, self._last_hash = _tail(self._writer)

    @property
    def location(self) -> AuditLocation:
        """Where readers (``audit_check.verify_audit``, traces, explain) find this log."""
        return self._path

    @property
    def lock(self) -> asyncio.Lock:
        """Held by multi-step work that must not interleave with other governance writes."""
        return self._lock

    async def close(self) -> None:
        try:
            await self._step(self._checkpoint_and_close)
        finally:
            self._worker.close()

    def _checkpoint_and_close(self) -> None:
        try:
            self.checkpoint()
        finally:
            self._writer.close()

    def checkpoint(self) -> None:
        """Sign the current head now (also done when ``CheckpointWriter.due`` and on close)."""
        if self._checkpoints is not None and self._last_seq:
            self._checkpoints.write(self._last_seq, self._last_hash)

    async def append(
        self, *, raw_arguments: dict[str, Any] | None = None, also: tuple[Statement, ...] = (), **fields: Any
    ) -> AuditRecord:
        """Chain, hash and commit one record; ``seq``, ``id``, ``time`` and hashes are set here.

        ``also`` are statements committed in the same transaction (a state change and the
        record that explains it land together or not at all). Raises AuditUnavailable when the
        store cannot record within ``WRITE_BUDGET_SECONDS``.
        """
        return await self._group.append(fields, raw_arguments, also, self.budget)

    def append_now(
        self, *, raw_arguments: dict[str, Any] | None = None, also: tuple[Statement, ...] = (), **fields: Any
    ) -> AuditRecord:
        """``append``'s one step, on the store's thread (never call it from the event loop)."""
        while True:
            record, body = seal(self._last_seq + 1, self._last_hash, fields)
            statements: list[Statement] = [(INSERT_RECORD, (record.seq, body, record.hash))]
            if raw_arguments:
                statements.append((INSERT_RAW, raw_row(record, raw_arguments)))
            try:
                self._commit(statements, also)
                break
            except sqlite3.IntegrityError as exc:
                # Another writer on this file took the seq (a second process, against the rule
                # of one writer per file): continue the chain from its record rather than fork.
                if "audit.seq" not in str(exc):
                    raise
                self.reread_head()
        self.committed(record)
        return record

    def committed(self, record: AuditRecord) -> None:
        """Book a committed record as the chain's head (and sign the head when due); on the store's thread."""
        self._last_seq = record.seq
        self._last_hash = record.hash
        if self._checkpoints is not None:
            self._checkpoints.note(record.seq, record.hash)
            if self._checkpoints.due(record.seq, self._every):
                self.checkpoint()

    def _commit(self, statements: list[Statement], guarded: tuple[Statement, ...] = ()) -> int:
        """One transaction; a ``guarded`` statement that changes no row aborts it with StaleState."""
        db = self._writer
        db.execute("BEGIN IMMEDIATE")
        try:
            changed = 0
            for sql, params in statements:
                changed += db.execute(sql, params).rowcount
            for sql, params in guarded:
                if db.execute(sql, params).rowcount == 0:
                    raise StaleState(f"the state changed meanwhile; nothing was recorded ({sql.split()[0]})")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return changed

    def watch(self, on_change: Callable[[], Awaitable[None]]) -> None:
        """Nothing to watch: one gateway process is the only writer of a SQLite log."""

    async def fetch(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Rows of one read (``?`` placeholders), read to the end on the store's thread."""
        return await self._step(lambda: self._writer.execute(sql, params).fetchall())

    async def run(self, statements: tuple[Statement, ...]) -> None:
        """Commit state changes that need no audit record of their own (their record exists)."""
        await self._step(lambda: self._commit(list(statements)))

    async def erase_customer(self, customer_id: str, identifiers: tuple[str, ...] = ()) -> int:
        """Erase one customer's raw argument values; the chain (redacted + digests) is untouched.

        ``identifiers`` (their email, phone, account number) also reach the raw values of calls
        made before the customer was known (verification by email): rows that contain one go too.
        """
        statements: list[Statement] = [
            ("DELETE FROM audit_raw WHERE customer_id = ?", (customer_id,)),
            (DELETE_LINKED_RAW["sqlite"], (customer_id,)),
        ]
        statements += [("DELETE FROM audit_raw WHERE instr(arguments, ?) > 0", (v,)) for v in identifiers if v]
        return await self._step(lambda: self._commit(statements))

    async def prune(self, raw_before: str | None, records_before: str | None) -> Pruned:
        """Retention: raw values and records older than the cutoffs go (``retention``: a signed segment first)."""

        def pruning() -> Pruned:
            return prune_now(self._writer, self._checkpoints, self._last_seq, raw_before, records_before)

        return await self._step(pruning)

    async def forget_erased(self) -> None:
        """Leave no copy of erased values in the write-ahead log: checkpoint it into the database
        (whose freed space ``secure_delete`` zeroes) and truncate it."""
        await self._step(lambda: self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall())

    async def raw_arguments(self, record_id: str) -> dict[str, Any] | None:
        def read() -> Any:
            return self._writer.execute("SELECT arguments FROM audit_raw WHERE record_id = ?", (record_id,)).fetchone()

        row = await self._step(read)
        return json.loads(row[0]) if row else None


async def open_audit_store(
    database_url: str | None,
    *,
    default_sqlite: Path,
    checkpoints: CheckpointWriter | None = None,
    checkpoint_every: int = 256,
    write_budget_seconds: float | None = None,
) -> AuditStore | PostgresAuditStore:
    """The store a database URL names: PostgreSQL for ``postgresql://…``, else the SQLite file (URL or default).

    Its appends and reads get ``write_budget_seconds`` each (default: ``write_budget()``).
    """
    db = DatabaseURL.parse(database_url, default_sqlite=default_sqlite)
    store: AuditStore | PostgresAuditStore
    if db.is_postgres:
        from gateway.audit_store_pg import PostgresAuditStore

        store = await PostgresAuditStore.open(db, checkpoints=checkpoints, checkpoint_every=checkpoint_every)
    else:
        assert db.path is not None
        store = await AuditStore.open(db.path, checkpoints=checkpoints, checkpoint_every=checkpoint_every)
    store.budget = write_budget() if write_budget_seconds is None else write_budget_seconds
    return store


def write_budget() -> float:
    """``SWITCHBOARD_AUDIT_WRITE_BUDGET_SECONDS``: how long a governed call may wait for its audit record."""
    from shared.settings import Settings

    return Settings().audit_write_budget_seconds


def _tail(db: sqlite3.Connection) -> tuple[int, str]:
    row = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def _ensure_schema(db: sqlite3.Connection, path: Path) -> None:
    if needs_migration(db):
        try:
            migrate(db)
        except sqlite3.Error as exc:
            raise ConfigurationError(
                f"the audit log at {path} has the old layout and could not be moved to the new one: {exc}",
                hint="it is unchanged; check it with the previous release's `switchboard audit verify`, "
                "or move it aside to start a new log",
            ) from exc
    upgrade(DatabaseURL("sqlite", path=path), "gateway")


def _writer(path: Path) -> sqlite3.Connection:
    """The dedicated write connection: autocommit mode, transactions are explicit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    pragmas = (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}",
        "PRAGMA secure_delete=ON",  # erased values are overwritten, not left in free pages
    )
    for pragma in pragmas:
        db.execute(pragma)
    return db
