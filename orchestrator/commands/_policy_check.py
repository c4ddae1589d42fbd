"""``switchboard policy check``: the decision for one tool call, from the policy files, offline."""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

# Exit codes, so a script can assert a decision: 0 allow, 1 deny, 3 held for approval (2 is a usage error).
EXIT = {"allow": 0, "deny": 1, "approval-required": 3}


def cmd_policy_check(args: argparse.Namespace) -> int:
    from gateway.catalog import Catalog
    from gateway.policy import DEFAULT_POLICY_DIR, CedarPolicyEngine
    from gateway.policy_check import Assumptions, check, render
    from mcp_servers.listing import list_catalog
    from orchestrator import registry
    from shared.service_auth import audiences
    from shared.settings import Settings

    engine = CedarPolicyEngine.load(args.policy_dir or DEFAULT_POLICY_DIR)
    agents = sorted({*registry.agents(), audiences.REACTIONS})
    catalog = Catalog(agents, engine)
    for system, tools in asyncio.run(list_catalog()).items():
        catalog.set_system(system, tools)
    engine.check_arguments()
    assume = Assumptions(
        verified=not args.unverified,
        assurance=args.assurance,
        consent=tuple(args.consent) if args.consent is not None else None,
        fraud_hold=args.fraud_hold,
        open_support_cases=args.open_cases,
        channel=args.channel,
        charge_refundable=None if args.charge_refundable is None else args.charge_refundable == "yes",
        refunded_today=args.refunded_today,
        daily_refund_limit=Settings().daily_refund_limit,
    )
    result = check(engine, catalog, agents, args.agent, args.tool, args.arg, assume)
    if args.json:
        print(json.dumps({"agent": args.agent, "tool": args.tool, **asdict(result)}, indent=2, default=str))
    else:
        print(render(result, args.agent, args.tool))
    return EXIT[result.verdict]


def register(policy_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    c = policy_sub.add_parser(
        "check",
        help="what policy decides for one tool call (offline), which policies decide it, what an approval needs",
        description="Decide one call from the policy files and the action catalog, without a running system. "
        "The facts the gateway reads from the systems (verification, consent, holds, refund facts) are "
        "assumed as the options say. Exit code: 0 allow, 1 deny, 3 held for approval, 2 bad input.",
    )
    c.add_argument("--agent", required=True, help="the calling agent, e.g. billing")
    c.add_argument("--tool", required=True, help="the catalog tool, e.g. payments.issue_refund")
    c.add_argument(
        "--arg", action="append", default=[], metavar="NAME=VALUE", help="a tool argument, typed by its schema"
    )
    c.add_argument("--policy-dir", type=Path, help="the policy folder to check (default: the built-in policies)")
    c.add_argument("--unverified", action="store_true", help="the customer is not verified")
    c.add_argument("--assurance", default="AAL2", help="assurance of the verification (default AAL2)")
    c.add_argument(
        "--consent", action="append", metavar="PURPOSE", help="a purpose the customer consents to (default: the tool's)"
    )
    c.add_argument("--fraud-hold", action="store_true", help="a fraud hold is on the customer")
    c.add_argument("--open-cases", type=int, default=0, help="open support cases (marketing tools)")
    c.add_argument("--channel", default="chat")
    c.add_argument("--charge-refundable", choices=("yes", "no"), help="refunds: the charge is a duplicate or an error")
    c.add_argument("--refunded-today", type=Decimal, default=Decimal("0"), help="refunds: already refunded today")
    c.add_argument("--json", action="store_true", help="print the answer as JSON")
    c.set_defaults(func=cmd_policy_check)
