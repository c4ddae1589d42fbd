"""``switchboard clients`` and ``switchboard tokens``: who may get service tokens, and the signing keys.

    switchboard clients register partner-bot [--audience orchestrator] [--audience agent:billing]
    switchboard clients list | revoke external:partner-bot
    switchboard tokens rotate | keys

A registered client's secret is printed once; only its hash is kept. ``tokens rotate`` starts
signing with a new key at once; a running token service picks it up from the data directory,
and the old public key stays published until every token it signed has expired.
"""

from __future__ import annotations

import argparse

from orchestrator.commands import add_command
from orchestrator.commands._common import add_common, settings_from
from shared.service_auth.audiences import ORCHESTRATOR, TOKEN_PATH


def cmd_register(args: argparse.Namespace) -> int:
    from token_service import ClientRegistry

    settings = settings_from(args)
    registry = ClientRegistry.open(settings.data_dir)
    client_id, secret = registry.register(args.name, args.audience or [ORCHESTRATOR])
    token_url = (settings.token_url or f"http://{settings.host}:{settings.base_port + 5}").rstrip("/") + TOKEN_PATH
    print(f"client_id      {client_id}")
    print(f"client_secret  {secret}")
    print(f"token endpoint {token_url}  (grant_type=client_credentials, audience=<service>)")
    print("The secret is shown only now; store it where the agent keeps its credentials.")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from token_service import ClientRegistry

    for client in ClientRegistry.open(settings_from(args).data_dir).clients():
        print(f"{client.client_id:<28} {client.kind:<9} {', '.join(client.audiences)}")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    from token_service import ClientRegistry

    if not ClientRegistry.open(settings_from(args).data_dir).revoke(args.client_id):
        print(f"no external client {args.client_id!r} (built-in clients cannot be revoked)")
        return 1
    print(f"revoked {args.client_id}: it gets no new tokens; tokens it holds expire within their lifetime")
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    from token_service import KeyRing

    settings = settings_from(args)
    ring = KeyRing.load_or_create(settings.data_dir, max_token_ttl=settings.token_ttl_seconds)
    fresh = ring.rotate()
    print(f"signing with {fresh.kid}; published keys: {', '.join(ring.kids)}")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from token_service import KeyRing

    settings = settings_from(args)
    ring = KeyRing.load_or_create(settings.data_dir, max_token_ttl=settings.token_ttl_seconds)
    for kid in ring.kids:
        print(f"{kid}{'  (signing)' if kid == ring.active_kid else ''}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "clients")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser("register", help="register an external agent; prints its credentials once")
    add_common(q)
    q.add_argument("name", help="letters, digits, '-', '_' or '.'; the client id becomes external:<name>")
    q.add_argument("--audience", action="append", help="a service it may call: orchestrator (default) or agent:<name>")
    q.set_defaults(func=cmd_register)
    q = actions.add_parser("list", help="every client and the audiences it may get tokens for")
    add_common(q)
    q.set_defaults(func=cmd_list)
    q = actions.add_parser("revoke", help="stop issuing tokens to an external client")
    add_common(q)
    q.add_argument("client_id")
    q.set_defaults(func=cmd_revoke)

    p = add_command(sub, "tokens")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser("rotate", help="sign with a new key; old keys stay published until their tokens expire")
    add_common(q)
    q.set_defaults(func=cmd_rotate)
    q = actions.add_parser("keys", help="the published key ids")
    add_common(q)
    q.set_defaults(func=cmd_keys)
