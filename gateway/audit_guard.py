"""The gateway signs only a chain it can vouch for: verified before start, or accepted by an operator.

A gateway that started on a chain someone rewrote while it was stopped would sign the rewrite
with its next checkpoint and launder it. So before it signs anything the gateway verifies the
whole chain against the signed checkpoints and the witness, and refuses to start on one that
does not verify. ``switchboard audit accept`` is the explicit way on: it appends an audit
record saying who accepted which break and why, and signs an acceptance of the chain as it
now is, locally and at the witness.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from gateway.audit_check import verify_audit
from gateway.audit_reader import AuditLocation, open_reader
from gateway.audit_store import open_audit_store
from gateway.checkpoints import CheckpointWriter, Witness, find_acceptance
from shared.audit import ChainReport, digest
from shared.authcontext import public_pem_from_private
from shared.database import DatabaseURL
from shared.errors import ConfigurationError, NotFound, ServiceUnavailable

log = logging.getLogger(__name__)

OPERATOR = "operator"
ACCEPT_TOOL = "audit.accept"


def _exists(location: AuditLocation) -> bool:
    return not isinstance(location, Path) or location.exists()


def accepted_reason(
    location: AuditLocation,
    report: ChainReport,
    checkpoints: Path,
    public_pem: str,
    witness: Path | None,
    remote: Witness | None = None,
) -> str | None:
    reader = open_reader(location)
    try:

        def hashes(first: int, last: int) -> dict[int, str]:
            rows = reader.rows("SELECT seq, hash FROM audit WHERE seq >= ? AND seq <= ?", (first, last))
            return {int(r[0]): str(r[1]) for r in rows}

        return find_acceptance(checkpoints, public_pem, report.first_broken_seq or 0, hashes, witness, remote)
    finally:
        reader.close()


async def verify_before_start(
    location: AuditLocation,
    *,
    checkpoints: Path,
    private_pem: str,
    witness: Path | None,
    remote: Witness | None = None,
) -> ChainReport | None:
    """Verify the log in a worker thread; raise ConfigurationError when it is broken and not accepted.

    A ``remote`` witness that does not answer is logged and left out: the gateway does not
    depend on it to start (``audit verify`` reports it).
    """
    if not _exists(location):
        return None
    public = public_pem_from_private(private_pem.encode()).decode()
    if remote is not None:
        try:
            await asyncio.to_thread(remote.lines)
        except ServiceUnavailable as exc:
            log.warning("%s; verifying against the local checkpoints and the witness directory only", exc.message)
            remote = None
    try:
        report = await asyncio.to_thread(
            verify_audit, location, checkpoints=checkpoints, public_pem=public, witness=witness, remote=remote
        )
    except NotFound:
        return None  # a database without a log yet: the first start creates it
    if report.intact:
        return report
    reason = await asyncio.to_thread(accepted_reason, location, report, checkpoints, public, witness, remote)
    if reason is not None:
        log.warning(
            "the audit log is broken at record %s (%s); starting because an operator accepted it: %s",
            report.first_broken_seq,
            report.reason,
            reason,
        )
        return report
    raise ConfigurationError(
        f"the audit log does not verify, so the gateway will not sign it: broken at record "
        f"{report.first_broken_seq}: {report.reason}",
        hint="investigate first (`switchboard audit verify`); to go on with this chain, "
        'run `switchboard audit accept --reason "..."`, which is itself recorded in the log',
    )


async def accept_chain(
    database_url: str | None,
    *,
    default_sqlite: Path,
    checkpoints: Path,
    private_pem: str,
    witness: Path | None,
    reason: str,
) -> ChainReport:
    """Record an operator's acceptance of a chain that does not verify; returns the report accepted."""
    db = DatabaseURL.parse(database_url, default_sqlite=default_sqlite)
    location: AuditLocation = db if db.is_postgres else default_sqlite
    public = public_pem_from_private(private_pem.encode()).decode()
    report = await asyncio.to_thread(
        verify_audit, location, checkpoints=checkpoints, public_pem=public, witness=witness
    )
    if report.intact:
        return report
    store = await open_audit_store(database_url if db.is_postgres else None, default_sqlite=default_sqlite)
    try:
        record = await store.append(
            kind="decision",
            agent=OPERATOR,
            tool=ACCEPT_TOOL,
            decision="allow",
            policy_ids=[],
            arguments={"reason": reason},
            arguments_digest=digest({"reason": reason}),
            reason=f"operator accepted a chain broken at record {report.first_broken_seq} ({report.reason}): {reason}",
        )
    finally:
        await store.close()
    CheckpointWriter(checkpoints, private_pem, witness=witness).write(record.seq, record.hash, accept=reason)
    return report
