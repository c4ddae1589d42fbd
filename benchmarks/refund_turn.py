"""The two refund turns, each next to the same number of hops made with the bare SDKs.

The request turn is the customer's "I was charged twice" once verified (the payment agent
reads the charges and proposes the refund); the confirm turn is their "yes" (the refund is
issued). Each is HTTP to the orchestrator, A2A to the payment specialist, and every MCP call the
turn makes: agent -> gateway and gateway -> system for each governed call, plus the gateway's own
reads of the consent registry that policy needs. The hops are counted, not assumed: every A2A
and MCP request the services receive during the turn. The bare run makes one plain HTTP JSON
call and the same number of A2A calls to an echo agent and MCP tool calls to an echo tool, in
the same process and run, one turn of each in turn, so machine noise hits both alike.

    python benchmarks/refund_turn.py [--samples 80]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from _hops import APPROVAL_THRESHOLD_PENCE, CountingStack, bare, pct

from mcp_servers.dataset import sample_customers
from mcp_servers.identity.outbox import read_outbox
from shared.settings import Settings

KINDS = ("request", "confirm")


class SwitchboardTurns:
    """The embedded stack with conversations brought to the refund request, one per sample."""

    def __init__(self, stack: CountingStack, http: httpx.AsyncClient, customers: list[dict[str, Any]]) -> None:
        self.stack = stack
        self.http = http
        self.customers = iter(customers)
        self.hops: dict[str, Counter[str]] = {}

    async def refund_turns(self) -> dict[str, float]:
        """Verify the next customer (not timed), then time the refund request and the confirmation."""
        customer = next(self.customers)
        http, data_dir = self.http, self.stack.settings.data_dir
        started = (await http.post("/api/conversations", json={})).json()
        conv, headers = started["conversation_id"], {"Authorization": f"Bearer {started['token']}"}

        async def say(text: str) -> dict[str, Any]:
            r = await http.post(f"/api/conversations/{conv}/messages", json={"text": text}, headers=headers)
            r.raise_for_status()
            answer: dict[str, Any] = r.json()
            return answer

        async def timed(kind: str, text: str) -> tuple[float, dict[str, Any]]:
            before = self.stack.hops.copy()
            t0 = time.perf_counter()
            answer = await say(text)
            elapsed = (time.perf_counter() - t0) * 1000
            self.hops[kind] = self.stack.hops - before
            return elapsed, answer

        await say("what did I pay last month?")
        await say(customer["email"])
        code = read_outbox(data_dir, customer_id=customer["customer_id"], limit=1)[-1]["text"]
        match = re.search(r"\b\d{6}\b", code)
        assert match, code
        verified = await say(match.group(0))
        assert verified["status"] != "input-required" or verified["agent"] != "identity", verified
        request, proposal = await timed("request", "I was charged twice, please refund the duplicate")
        assert proposal["agent"] == "payment" and proposal["status"] == "input-required", proposal
        confirm, done = await timed("confirm", "yes please")
        assert done["status"] == "completed" and done["data"].get("refund_id"), done
        return {"request": request, "confirm": confirm}


@contextlib.asynccontextmanager
async def switchboard(turns: int) -> AsyncIterator[SwitchboardTurns]:
    data_dir = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    settings = Settings(data_dir=data_dir, customers=min(turns * 20, 1000))
    stack = CountingStack(settings)
    async with stack as topology, httpx.AsyncClient(base_url=topology.orchestrator, timeout=30) as http:
        # Refunds above the approval threshold wait for a human: this measures the direct path.
        customers = [
            c
            for c in sample_customers(data_dir, 10_000, has_duplicate_charge=True)
            if c["duplicate_charge_pence"] <= APPROVAL_THRESHOLD_PENCE
        ][:turns]
        if len(customers) < turns:
            raise SystemExit(f"only {len(customers)} customers with a small duplicate charge; lower --samples")
        yield SwitchboardTurns(stack, http, customers)


async def measure(samples: int, warmup: int) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, Any]]:
    """Alternate one Switchboard pair of turns and one bare pair, so a busy moment slows both alike."""
    ours: dict[str, list[float]] = {k: [] for k in KINDS}
    theirs: dict[str, list[float]] = {k: [] for k in KINDS}
    async with switchboard(samples + warmup) as sb:
        for _ in range(warmup):
            await sb.refund_turns()
        async with bare() as floor:
            for _ in range(warmup):
                for kind in KINDS:
                    await floor.turn(sb.hops[kind])
            for _ in range(samples):
                for kind, ms in (await sb.refund_turns()).items():
                    ours[kind].append(ms)
                for kind in KINDS:
                    theirs[kind].append(await floor.turn(sb.hops[kind]))
        return ours, theirs, sb.hops


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Each run's medians move with the machine's speed: more pairs average more of that out.
    parser.add_argument("--samples", type=int, default=80, help="timed conversations (at most about 90)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed conversations first")
    args = parser.parse_args()
    print(f"refund turns: {args.samples} samples after {args.warmup} warm-up conversations ...", flush=True)
    load_before = os.getloadavg()
    ours, bare_ms, hops = await measure(args.samples, args.warmup)
    load_after = os.getloadavg()
    for kind in KINDS:
        print(f"{kind} turn: 1 HTTP + {hops[kind]['a2a']} A2A + {hops[kind]['mcp']} MCP calls (each one hop)")
        for name, values in (("switchboard", ours[kind]), ("bare SDKs, same hops", bare_ms[kind])):
            print(f"  {name:<22} p50 {statistics.median(values):7.2f} ms   p95 {pct(values, 0.95):7.2f} ms")
        ratio50 = statistics.median(ours[kind]) / statistics.median(bare_ms[kind])
        ratio95 = pct(ours[kind], 0.95) / pct(bare_ms[kind], 0.95)
        print(f"  ratio                  p50 {ratio50:7.2f}      p95 {ratio95:7.2f}")
    both = [a + b for a, b in zip(ours["request"], ours["confirm"], strict=True)]
    both_bare = [a + b for a, b in zip(bare_ms["request"], bare_ms["confirm"], strict=True)]
    print(f"both turns together: ratio p50 {statistics.median(both) / statistics.median(both_bare):.2f}")
    # Both sides share the machine's cores, so a busy machine moves both figures: note how busy.
    print(f"load average (1 min)     before {load_before[0]:.2f}  after {load_after[0]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
