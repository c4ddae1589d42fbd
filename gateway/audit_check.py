"""Checking a stored audit chain: every record, its links, the kept approvals and the signed checkpoints."""

from __future__ import annotations

from pathlib import Path

from gateway.audit_reader import AuditLocation, open_reader
from gateway.checkpoints import Witness, check_checkpoints
from gateway.fastchain import verify_batches
from gateway.oversight import check_approvals
from gateway.retention import kept_start
from shared.audit import ChainReport

__all__ = ["verify_audit"]


def verify_audit(
    location: AuditLocation,
    *,
    checkpoints: Path | None = None,
    public_pem: str | None = None,
    witness: Path | None = None,
    remote: Witness | None = None,
) -> ChainReport:
    """Walk the whole chain, then check it against the signed checkpoints (and the witness's copy).

    Reports it intact or names the first broken record: the first whose body or link is wrong,
    or the first a signed checkpoint says differs, or the end of a cut-off tail. Synchronous and
    read-only, so a command-line tool can call it while gateways run (async code: in a worker thread).
    """
    reader = open_reader(location)
    try:
        first, anchor = kept_start(reader, checkpoints, public_pem, witness, remote)
        if anchor is None:
            return ChainReport(
                intact=False,
                count=0,
                first_broken_seq=1,
                reason=f"records 1 to {first - 1} are missing and no signed retention segment closes them",
            )
        report = verify_batches(reader.chain(), first=first, anchor=anchor)
        if report.intact and (contradicted := check_approvals(reader)) is not None:
            # The records are intact, but a copy kept beside them (who decided, their note) was changed.
            report = ChainReport(
                intact=False, count=report.count, first_broken_seq=contradicted[0], reason=contradicted[1]
            )
        if checkpoints is None or public_pem is None:
            return report

        def hashes(first: int, last: int) -> dict[int, str]:
            rows = reader.rows("SELECT seq, hash FROM audit WHERE seq >= ? AND seq <= ?", (first, last))
            return {int(r[0]): str(r[1]) for r in rows}

        checked, problem = check_checkpoints(
            checkpoints, public_pem, report.count, hashes, witness=witness, remote=remote, first_kept=first
        )
        if problem is not None and (report.intact or (report.first_broken_seq or 0) > problem.seq):
            # A re-hashed rewrite keeps the chain consistent: the checkpoints name its first record.
            return ChainReport(intact=False, count=report.count, first_broken_seq=problem.seq, reason=problem.reason)
        if not report.intact:
            return report
        where = " and at the witness" if witness is not None or remote is not None else ""
        return report.model_copy(update={"reason": f"{checked} signed checkpoints match{where}"})
    finally:
        reader.close()
