"""``switchboard chat``: a terminal conversation as a customer."""

from __future__ import annotations

import argparse
import sys

from orchestrator.commands._common import add_common, settings_from
from orchestrator.commands.data import print_outbox
from shared.settings import Topology


def cmd_chat(args: argparse.Namespace) -> int:
    import httpx

    settings = settings_from(args)
    base = args.url or Topology.embedded(settings.host, settings.base_port).orchestrator
    with httpx.Client(base_url=base, timeout=60) as http:
        try:
            started = http.post("/api/conversations", json={"channel": args.channel})
        except httpx.HTTPError as exc:
            print(f"Cannot reach the orchestrator at {base} ({exc}). Is `switchboard up` running?", file=sys.stderr)
            return 2
        started.raise_for_status()
        conv = started.json()
        headers = {"Authorization": f"Bearer {conv['token']}"}
        print(f"[conversation {conv['conversation_id']}]  type /quit to leave, /code for your latest one-time code")
        print(f"supervisor> {conv['greeting']}")
        while True:
            try:
                line = input("you> ").strip()
            except EOFError:
                break
            if not line:
                continue
            if line in ("/quit", "/exit"):
                break
            if line == "/code":
                print_outbox(settings.data_dir, None, 1)
                continue
            response = http.post(
                f"/api/conversations/{conv['conversation_id']}/messages", json={"text": line}, headers=headers
            )
            body = response.json()
            if response.status_code != 200:
                err = body.get("error", {})
                print(f"! {err.get('message', response.text)}" + (f" ({err['hint']})" if err.get("hint") else ""))
                continue
            who = body.get("agent") or "supervisor"
            print(f"{who}> {body['reply']}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="talk to Switchboard as a customer in the terminal")
    add_common(p)
    p.add_argument("--url", help="orchestrator base URL (default: the embedded layout)")
    p.add_argument("--channel", default="chat", choices=["chat", "voice", "email"])
    p.set_defaults(func=cmd_chat)
