"""``switchboard audit …``: the tamper-evident audit log."""

from __future__ import annotations

import argparse
import sys

from orchestrator.commands._common import add_common, settings_from


def cmd_audit(args: argparse.Namespace) -> int:
    from orchestrator.governance import verify_audit

    settings = settings_from(args)
    db = settings.data_dir / "audit.db"
    if not db.exists():
        print(f"no audit log at {db}: nothing has been recorded yet (start with `switchboard up`)", file=sys.stderr)
        return 2
    report = verify_audit(db)
    if report.intact:
        print(f"intact: {report.count} records, hash chain verified")
        return 0
    print(f"BROKEN at record {report.first_broken_seq}: {report.reason} ({report.count} records verified before it)")
    return 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="work with the tamper-evident audit log")
    audit_sub = p.add_subparsers(dest="audit_command", required=True)
    v = audit_sub.add_parser("verify", help="prove the hash chain intact or point at the first broken record")
    add_common(v)
    v.set_defaults(func=cmd_audit)
