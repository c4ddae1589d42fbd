"""``switchboard audit …``: the tamper-evident audit log."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from orchestrator.commands import add_command
from orchestrator.commands._common import add_common, settings_from


def _public_key(data_dir: Path) -> str | None:
    path = data_dir / "secrets.json"
    if not path.exists():
        return None
    return json.loads(path.read_text()).get("audit_public_pem") or None


def _witness(settings: Any) -> Path:
    from gateway.checkpoints import default_witness_dir

    return Path(settings.audit_witness_dir or default_witness_dir(settings.data_dir))


def _remote(settings: Any) -> Any:
    """The witness beyond the directory, when one is configured (HTTP, or PostgreSQL with its own login)."""
    if settings.audit_witness_url:
        from gateway.witness_http import HttpWitness

        return HttpWitness(settings.audit_witness_url, settings.audit_witness_token)
    if settings.audit_witness_database_url:
        from gateway.witness_pg import PostgresWitness

        return PostgresWitness(settings.audit_witness_database_url, database_url=settings.database_url)
    return None


def cmd_witness(args: argparse.Namespace) -> int:
    """Run the reference HTTP witness until Ctrl+C (on another host or account than the gateway)."""
    import uvicorn

    from gateway.witness_http import witness_app

    app = witness_app(Path(args.dir), args.token)
    print(f"audit witness keeping checkpoints in {args.dir}; POST/GET http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _audit_log(settings: Any) -> Any:
    """Where the gateway keeps the log: PostgreSQL when SWITCHBOARD_DATABASE_URL names it, else audit.db."""
    from shared.database import DatabaseURL

    db = DatabaseURL.parse(settings.database_url, default_sqlite=settings.data_dir / "audit.db")
    return db if db.is_postgres else settings.data_dir / "audit.db"


def cmd_audit(args: argparse.Namespace) -> int:
    from gateway import verify_audit
    from gateway.checkpoints import CHECKPOINTS_FILE
    from shared.errors import NotFound, ServiceUnavailable

    settings = settings_from(args)
    db = _audit_log(settings)
    if isinstance(db, Path) and not db.exists():
        print(f"no audit log at {db}: nothing has been recorded yet (start with `switchboard up`)", file=sys.stderr)
        return 2
    public = _public_key(settings.data_dir)
    try:
        report = verify_audit(
            db,
            checkpoints=settings.data_dir / CHECKPOINTS_FILE,
            public_pem=public,
            witness=_witness(settings),
            remote=_remote(settings),
        )
    except (NotFound, ServiceUnavailable) as exc:
        print(f"{exc.message}; {exc.hint}", file=sys.stderr)
        return 2
    if report.intact:
        checked = f"; {report.reason}" if report.reason else ""
        print(f"intact: {report.count} records, hash chain verified{checked}")
        if public is None:
            print("warning: no checkpoint key in secrets.json, so a cut-off tail cannot be detected", file=sys.stderr)
        return 0
    print(f"BROKEN at record {report.first_broken_seq}: {report.reason} ({report.count} records verified before it)")
    return 1


def cmd_accept(args: argparse.Namespace) -> int:
    """Accept a chain that does not verify, so the gateway starts on it; the acceptance is audited."""
    import asyncio

    from gateway.audit_guard import accept_chain
    from gateway.checkpoints import CHECKPOINTS_FILE

    settings = settings_from(args)
    path = settings.data_dir / "secrets.json"
    private = json.loads(path.read_text()).get("audit_private_pem") if path.exists() else None
    if not private:
        print(f"no audit checkpoint key in {path}: nothing to accept with", file=sys.stderr)
        return 2
    report = asyncio.run(
        accept_chain(
            settings.database_url,
            default_sqlite=settings.data_dir / "audit.db",
            checkpoints=settings.data_dir / CHECKPOINTS_FILE,
            private_pem=private,
            witness=_witness(settings),
            reason=args.reason,
        )
    )
    if report.intact:
        print(f"intact: {report.count} records; nothing to accept")
        return 0
    print(f"accepted the chain broken at record {report.first_broken_seq} ({report.reason}); recorded in the log")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from gateway.explain import explain, render
    from shared.errors import NotFound, ServiceUnavailable

    settings = settings_from(args)
    db = _audit_log(settings)
    if isinstance(db, Path) and not db.exists():
        print(f"no audit log at {db}: nothing has been recorded yet", file=sys.stderr)
        return 2
    try:
        explained = explain(db, args.record_id)
    except (NotFound, ServiceUnavailable) as exc:
        print(f"{exc.message}; {exc.hint}", file=sys.stderr)
        return 1
    print(json.dumps(explained, indent=2) if args.json else render(explained))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Download the verifiable export (the whole chain, checkpoints, a signed seal) from the running gateway."""
    import httpx

    from orchestrator.commands.governance import _client

    base, headers = _client(args, "compliance")
    try:
        with (
            httpx.stream(
                "GET", f"{base}/audit/export", params={"format": "chain"}, headers=headers, timeout=300
            ) as got,
        ):
            if got.status_code >= 400:
                got.read()
                print(f"refused ({got.status_code}): {got.text[:500]}", file=sys.stderr)
                return 1
            with open(args.out, "wb") as out:
                for chunk in got.iter_bytes():
                    out.write(chunk)
    except httpx.HTTPError as exc:
        print(f"the gateway at {base} is not answering ({exc}); is `switchboard up` running?", file=sys.stderr)
        return 2
    print(f"wrote {args.out}; check it with: python3 verify_audit_export.py {args.out} --key audit-public-key.pem")
    return 0


def cmd_verifier(args: argparse.Namespace) -> int:
    """Write the standalone verifier (standard library only) and the public key, for an outside auditor."""
    from importlib.resources import files

    source = files("gateway").joinpath("audit_verifier.py").read_text(encoding="utf-8")
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "verify_audit_export.py").write_text(source, encoding="utf-8")
    written = [folder / "verify_audit_export.py"]
    public = _public_key(settings_from(args).data_dir)
    if public:
        (folder / "audit-public-key.pem").write_text(public, encoding="utf-8")
        written.append(folder / "audit-public-key.pem")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "audit")
    audit_sub = p.add_subparsers(dest="audit_command", required=True)
    v = audit_sub.add_parser(
        "verify", help="prove the hash chain and its signed checkpoints intact, or point at the first broken record"
    )
    add_common(v)
    v.set_defaults(func=cmd_audit)
    a = audit_sub.add_parser(
        "accept", help="let the gateway start on a chain that does not verify (recorded in the log, signed)"
    )
    a.add_argument("--reason", required=True, help="why: what was investigated, who decided")
    add_common(a)
    a.set_defaults(func=cmd_accept)
    e = audit_sub.add_parser("explain", help="inputs, tools called, deciding policies and the human behind a decision")
    e.add_argument("record_id", help="an audit record id (tool results carry it in _meta switchboard/audit_id)")
    e.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_common(e)
    e.set_defaults(func=cmd_explain)
    from orchestrator.commands.governance import _common

    x = audit_sub.add_parser(
        "export", help="download the verifiable export: every record, the signed checkpoints and a signed seal"
    )
    x.add_argument("--out", required=True, type=Path, help="the file to write (JSON)")
    _common(x)
    x.set_defaults(func=cmd_export)
    w = audit_sub.add_parser(
        "verifier", help="write the standalone export verifier (Python standard library only) and the public key"
    )
    w.add_argument("--out", required=True, type=Path, help="a folder to write them into")
    add_common(w)
    w.set_defaults(func=cmd_verifier)
    h = audit_sub.add_parser("witness", help="run a reference HTTP witness for signed checkpoints (append-only)")
    h.add_argument("--dir", required=True, help="the folder it keeps lines in (not the gateway's data directory)")
    h.add_argument("--host", default="127.0.0.1")
    h.add_argument("--port", type=int, default=8790)
    h.add_argument("--token", help="a bearer token the gateway must present to add lines")
    h.set_defaults(func=cmd_witness)
