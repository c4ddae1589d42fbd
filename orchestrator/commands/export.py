"""``switchboard export vcon …``: conversations as IETF vCon, one, a range, or a continuous feed."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

from orchestrator.commands import add_command
from orchestrator.commands._common import add_common, settings_from
from shared.errors import InvalidRequest, ServiceUnavailable


def _timestamp(value: str) -> float:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO date/time, e.g. 2025-01-31T09:00:00+00:00") from exc
    return moment.timestamp()


def _write(out: Path | None, text: str) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


def cmd_vcon(args: argparse.Namespace) -> int:
    from orchestrator.export import DEFAULT_IDLE_SECONDS, Feed, FileSink, WebhookSink, build_vcon, conversation_ids
    from orchestrator.export import load_conversation as load

    settings = settings_from(args)
    data_dir, database_url = settings.data_dir, settings.database_url
    modes = [bool(args.conversation), args.since is not None or args.until is not None, args.follow]
    if sum(modes) != 1:
        raise InvalidRequest(
            "choose one of --conversation ID, --since/--until, or --follow",
            hint="e.g. `switchboard export vcon --conversation conv-…`",
        )
    if args.conversation:
        vcon = build_vcon(load(data_dir, args.conversation, database_url=database_url), redaction=args.redact)
        _write(args.out, vcon.to_json() + "\n")
        return 0
    if not args.follow:
        ids = conversation_ids(data_dir, since=args.since, until=args.until, database_url=database_url)
        lines = [build_vcon(load(data_dir, c, database_url=database_url), redaction=args.redact).to_json() for c in ids]
        _write(args.out, "".join(line + "\n" for line in lines))
        print(f"exported {len(lines)} conversation(s)", file=sys.stderr)
        return 0
    if (args.out is None) == (args.webhook is None):
        raise InvalidRequest("--follow needs exactly one of --out FILE.ndjson or --webhook URL")
    sink = FileSink(args.out) if args.out else WebhookSink(args.webhook)
    cursor = args.cursor or (Path(f"{args.out}.cursor") if args.out else data_dir / "vcon-feed.cursor")
    idle = args.idle_minutes * 60 if args.idle_minutes is not None else DEFAULT_IDLE_SECONDS
    feed = Feed(
        data_dir=data_dir,
        sink=sink,
        cursor_path=cursor,
        idle_seconds=idle,
        redaction=args.redact,
        database_url=database_url,
    )
    while True:
        try:
            sent = feed.poll()
        except ServiceUnavailable as exc:
            print(f"feed: {exc.message}; retrying", file=sys.stderr)
            sent = []
            if args.once:
                return 1
        for conversation_id in sent:
            print(f"exported {conversation_id}", file=sys.stderr)
        if args.once:
            return 0
        time.sleep(args.interval)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "export")
    export_sub = p.add_subparsers(dest="export_command", required=True)
    v = export_sub.add_parser("vcon", help="conversations as IETF vCon (JSON, NDJSON, or a continuous feed)")
    add_common(v)
    v.add_argument("--conversation", help="export this one conversation (JSON)")
    v.add_argument("--since", type=_timestamp, help="export conversations last updated at or after (ISO), NDJSON")
    v.add_argument("--until", type=_timestamp, help="... and before this time (ISO)")
    v.add_argument("--follow", action="store_true", help="keep exporting conversations as they finish")
    v.add_argument("--out", type=Path, help="write here instead of stdout (with --follow: the NDJSON feed file)")
    v.add_argument("--webhook", help="with --follow: POST each vCon to this URL")
    v.add_argument("--cursor", type=Path, help="with --follow: cursor file (default: <out>.cursor)")
    v.add_argument("--idle-minutes", type=float, help="with --follow: idle time after which a conversation is finished")
    v.add_argument("--interval", type=float, default=5.0, help="with --follow: seconds between polls")
    v.add_argument("--once", action="store_true", help="with --follow: one poll, then exit (cron-friendly)")
    v.add_argument("--redact", choices=("none", "pii"), default="none", help="mask personal data (codes always)")
    v.set_defaults(func=cmd_vcon)
